package mesos

import (
	"encoding/binary"
	"net/netip"
)

// Address is a network address; port is always written, as the proto
// requires it.
type Address struct {
	Hostname string `json:"hostname,omitempty"`
	IP       string `json:"ip,omitempty"`
	Port     int32  `json:"port"`
}

// URL is Mesos' structured URL (offers and inverse offers carry the agent's).
type URL struct {
	Scheme   string      `json:"scheme"`
	Address  *Address    `json:"address" mesos:"required"`
	Path     string      `json:"path,omitempty"`
	Query    []Parameter `json:"query,omitempty"`
	Fragment string      `json:"fragment,omitempty"`
}

// DomainInfo places a master or agent in a fault domain (region and zone).
type DomainInfo struct {
	FaultDomain *FaultDomain `json:"fault_domain,omitempty"`
}

// FaultDomain is a region and a zone within it.
type FaultDomain struct {
	Region *RegionInfo `json:"region" mesos:"required"`
	Zone   *ZoneInfo   `json:"zone" mesos:"required"`
}

// RegionInfo names a region.
type RegionInfo struct {
	Name string `json:"name"`
}

// ZoneInfo names a zone.
type ZoneInfo struct {
	Name string `json:"name"`
}

// Domain builds a DomainInfo for region and zone.
func Domain(region, zone string) *DomainInfo {
	return &DomainInfo{FaultDomain: &FaultDomain{Region: &RegionInfo{Name: region}, Zone: &ZoneInfo{Name: zone}}}
}

// MachineID names a machine for maintenance by hostname and IP.
type MachineID struct {
	Hostname string `json:"hostname,omitempty"`
	IP       string `json:"ip,omitempty"`
}

// PackIPv4 encodes an IPv4 address the way MasterInfo.ip carries it: the
// four bytes of the address in network order, read as a little-endian
// uint32 (Mesos stores in_addr.s_addr). 127.0.1.1 becomes 16842879.
// Addresses that are not IPv4 give 0.
func PackIPv4(addr netip.Addr) uint32 {
	addr = addr.Unmap()
	if !addr.Is4() {
		return 0
	}
	b := addr.As4()
	return binary.LittleEndian.Uint32(b[:])
}

// UnpackIPv4 reverses PackIPv4.
func UnpackIPv4(ip uint32) netip.Addr {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], ip)
	return netip.AddrFrom4(b)
}
