package mesos

import (
	"encoding/json"
	"fmt"
)

// MasterCapabilityType is MasterInfo.Capability.Type.
type MasterCapabilityType string

const (
	MasterCapabilityUnknown       MasterCapabilityType = "UNKNOWN"
	MasterCapabilityAgentUpdate   MasterCapabilityType = "AGENT_UPDATE"
	MasterCapabilityAgentDraining MasterCapabilityType = "AGENT_DRAINING"
	MasterCapabilityQuotaV2       MasterCapabilityType = "QUOTA_V2"
)

var masterCapabilityTypes = enumSet(MasterCapabilityUnknown, MasterCapabilityAgentUpdate,
	MasterCapabilityAgentDraining, MasterCapabilityQuotaV2)

// IsKnown reports whether t is one of Mesos' names.
func (t MasterCapabilityType) IsKnown() bool { _, ok := masterCapabilityTypes[t]; return ok }

// MasterCapability is one master capability.
type MasterCapability struct {
	Type MasterCapabilityType `json:"type,omitempty"`
}

// MasterInfo describes a master. It is the JSON a contending master writes
// into its ZooKeeper election node (json.info_NNNNNNNNNN), where Mesos
// clients (schedulers, mesos-dns, Marathon) read the leader's address from
// Address, falling back to Hostname/IP and Port.
//
// ID is a plain string here, not an ID message. IP is the IPv4 address as
// Mesos packs it (see PackIPv4). Port is required (Mesos' default 5050).
type MasterInfo struct {
	ID           string             `json:"id"`
	IP           uint32             `json:"ip"`
	Port         uint32             `json:"port"`
	PID          string             `json:"pid,omitempty"`
	Hostname     string             `json:"hostname,omitempty"`
	Version      string             `json:"version,omitempty"`
	Address      *Address           `json:"address,omitempty"`
	Domain       *DomainInfo        `json:"domain,omitempty"`
	Capabilities []MasterCapability `json:"capabilities,omitempty"`
}

// Endpoint returns "host:port" for reaching the master's HTTP API,
// preferring Address the way Mesos' leader detectors do.
func (m *MasterInfo) Endpoint() string {
	if a := m.Address; a != nil && a.Port != 0 {
		host := a.Hostname
		if host == "" {
			host = a.IP
		}
		if host != "" {
			return joinHostPort(host, uint32(a.Port))
		}
	}
	host := m.Hostname
	if host == "" {
		host = UnpackIPv4(m.IP).String()
	}
	return joinHostPort(host, m.Port)
}

func joinHostPort(host string, port uint32) string {
	for i := 0; i < len(host); i++ {
		if host[i] == ':' {
			return fmt.Sprintf("[%s]:%d", host, port)
		}
	}
	return fmt.Sprintf("%s:%d", host, port)
}

// ParseMasterInfo reads the JSON of a ZooKeeper json.info_ node.
func ParseMasterInfo(data []byte) (*MasterInfo, error) {
	var m MasterInfo
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("master info: %w", jsonFieldError(err))
	}
	if m.ID == "" {
		return nil, fmt.Errorf("master info: id is missing")
	}
	return &m, nil
}
