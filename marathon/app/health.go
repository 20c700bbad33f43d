package app

import "encoding/json"

// Health check protocols. HTTP, HTTPS and TCP are run by the framework (in
// Marathon) — in Strata by the agent like the MESOS_* ones; COMMAND runs a
// command inside the task's sandbox.
const (
	ProtocolHTTP       = "HTTP"
	ProtocolHTTPS      = "HTTPS"
	ProtocolTCP        = "TCP"
	ProtocolCommand    = "COMMAND"
	ProtocolMesosHTTP  = "MESOS_HTTP"
	ProtocolMesosHTTPS = "MESOS_HTTPS"
	ProtocolMesosTCP   = "MESOS_TCP"
)

var healthProtocols = map[string]bool{
	ProtocolHTTP: true, ProtocolHTTPS: true, ProtocolTCP: true, ProtocolCommand: true,
	ProtocolMesosHTTP: true, ProtocolMesosHTTPS: true, ProtocolMesosTCP: true,
}

// HealthCheck is one of the app's health checks with Marathon's defaults:
// grace 300 s, every 60 s, timeout 20 s, 3 consecutive failures, 15 s
// delay, IPv4, protocol HTTP on path "/" of port index 0.
type HealthCheck struct {
	Protocol               string        `json:"protocol"`
	Path                   string        `json:"path,omitempty"`
	PortIndex              *int          `json:"portIndex,omitempty"`
	Port                   *int          `json:"port,omitempty"`
	Command                *CommandCheck `json:"command,omitempty"`
	GracePeriodSeconds     int           `json:"gracePeriodSeconds"`
	IntervalSeconds        int           `json:"intervalSeconds"`
	TimeoutSeconds         int           `json:"timeoutSeconds"`
	MaxConsecutiveFailures int           `json:"maxConsecutiveFailures"`
	DelaySeconds           int           `json:"delaySeconds"`
	IgnoreHTTP1xx          bool          `json:"ignoreHttp1xx,omitempty"`
	IPProtocol             string        `json:"ipProtocol"`
}

// CommandCheck is the command a COMMAND health check runs.
type CommandCheck struct {
	Value string `json:"value"`
}

// DefaultHealthCheck returns a health check holding Marathon's defaults.
func DefaultHealthCheck() HealthCheck {
	return HealthCheck{
		Protocol:               ProtocolHTTP,
		GracePeriodSeconds:     300,
		IntervalSeconds:        60,
		TimeoutSeconds:         20,
		MaxConsecutiveFailures: 3,
		DelaySeconds:           15,
		IPProtocol:             "IPv4",
	}
}

// UnmarshalJSON starts from the defaults.
func (h *HealthCheck) UnmarshalJSON(data []byte) error {
	type plain HealthCheck
	v := plain(DefaultHealthCheck())
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*h = HealthCheck(v)
	return nil
}

// IsHTTP reports whether the check speaks HTTP(S) and so has a path.
func (h HealthCheck) IsHTTP() bool {
	switch h.Protocol {
	case ProtocolHTTP, ProtocolHTTPS, ProtocolMesosHTTP, ProtocolMesosHTTPS:
		return true
	}
	return false
}

// IsMesos reports whether Mesos (the agent) runs the check in Marathon's
// model: COMMAND and the MESOS_* protocols.
func (h HealthCheck) IsMesos() bool {
	switch h.Protocol {
	case ProtocolCommand, ProtocolMesosHTTP, ProtocolMesosHTTPS, ProtocolMesosTCP:
		return true
	}
	return h.Command != nil
}

// normalize fills the path of HTTP checks and, when the app declares ports,
// the portIndex of port-based checks that name neither port nor index
// (Marathon's normalizeHealthChecks).
func (h *HealthCheck) normalize(hasPorts bool) {
	if h.IsHTTP() && h.Path == "" {
		h.Path = "/"
	}
	if hasPorts && h.Protocol != ProtocolCommand && h.Port == nil && h.PortIndex == nil {
		zero := 0
		h.PortIndex = &zero
	}
}

// ReadinessCheck gates a rolling upgrade on an HTTP endpoint answering one
// of HTTPStatusCodesForReady.
type ReadinessCheck struct {
	Name                    string `json:"name"`
	Protocol                string `json:"protocol"`
	Path                    string `json:"path"`
	PortName                string `json:"portName"`
	IntervalSeconds         int    `json:"intervalSeconds"`
	TimeoutSeconds          int    `json:"timeoutSeconds"`
	HTTPStatusCodesForReady []int  `json:"httpStatusCodesForReady"`
	PreserveLastResponse    bool   `json:"preserveLastResponse"`
}

// UnmarshalJSON applies the RAML defaults.
func (r *ReadinessCheck) UnmarshalJSON(data []byte) error {
	type plain ReadinessCheck
	v := plain{Name: "readinessCheck", Protocol: "HTTP", Path: "/", PortName: "http-api", IntervalSeconds: 30, TimeoutSeconds: 10}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v.HTTPStatusCodesForReady == nil {
		v.HTTPStatusCodesForReady = []int{200}
	}
	*r = ReadinessCheck(v)
	return nil
}
