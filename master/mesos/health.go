package mesos

// HealthCheckType is HealthCheck.Type (also CheckInfo.Type).
type HealthCheckType string

const (
	CheckUnknown HealthCheckType = "UNKNOWN"
	CheckCommand HealthCheckType = "COMMAND"
	CheckHTTP    HealthCheckType = "HTTP"
	CheckTCP     HealthCheckType = "TCP"
)

var healthCheckTypes = enumSet(CheckUnknown, CheckCommand, CheckHTTP, CheckTCP)

// IsKnown reports whether t is one of Mesos' names.
func (t HealthCheckType) IsKnown() bool { _, ok := healthCheckTypes[t]; return ok }

// HealthCheck describes how the agent probes a task. Unset timings take
// Mesos' defaults: 15 s delay, 10 s interval, 20 s timeout, 3 consecutive
// failures, 10 s grace period; use the Get methods to read them.
type HealthCheck struct {
	DelaySeconds        *float64        `json:"delay_seconds,omitempty"`
	IntervalSeconds     *float64        `json:"interval_seconds,omitempty"`
	TimeoutSeconds      *float64        `json:"timeout_seconds,omitempty"`
	ConsecutiveFailures *uint32         `json:"consecutive_failures,omitempty"`
	GracePeriodSeconds  *float64        `json:"grace_period_seconds,omitempty"`
	Type                HealthCheckType `json:"type,omitempty"`
	Command             *CommandInfo    `json:"command,omitempty"`
	HTTP                *HTTPCheckInfo  `json:"http,omitempty"`
	TCP                 *TCPCheckInfo   `json:"tcp,omitempty"`
}

func orDefault[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// GetDelaySeconds returns the delay before the first check (default 15).
func (h *HealthCheck) GetDelaySeconds() float64 { return orDefault(h.DelaySeconds, 15) }

// GetIntervalSeconds returns the time between checks (default 10).
func (h *HealthCheck) GetIntervalSeconds() float64 { return orDefault(h.IntervalSeconds, 10) }

// GetTimeoutSeconds returns how long one check may take (default 20).
func (h *HealthCheck) GetTimeoutSeconds() float64 { return orDefault(h.TimeoutSeconds, 20) }

// GetConsecutiveFailures returns failures before the task is killed
// (default 3).
func (h *HealthCheck) GetConsecutiveFailures() uint32 { return orDefault(h.ConsecutiveFailures, 3) }

// GetGracePeriodSeconds returns how long failures are ignored after start
// (default 10).
func (h *HealthCheck) GetGracePeriodSeconds() float64 { return orDefault(h.GracePeriodSeconds, 10) }

// HTTPCheckInfo probes http(s)://<task>:port/path; Statuses lists the codes
// that count as healthy (default 200-399).
type HTTPCheckInfo struct {
	Protocol NetworkProtocol `json:"protocol,omitempty"`
	Scheme   string          `json:"scheme,omitempty"`
	Port     uint32          `json:"port"`
	Path     string          `json:"path,omitempty"`
	Statuses []uint32        `json:"statuses,omitempty"`
}

// TCPCheckInfo probes that a TCP port accepts connections.
type TCPCheckInfo struct {
	Protocol NetworkProtocol `json:"protocol,omitempty"`
	Port     uint32          `json:"port"`
}

// CheckInfo is a general, non-killing check whose results are reported in
// TaskStatus.check_status. Timings default like HealthCheck's.
type CheckInfo struct {
	Type            HealthCheckType   `json:"type,omitempty"`
	Command         *CheckCommandInfo `json:"command,omitempty"`
	HTTP            *CheckHTTPInfo    `json:"http,omitempty"`
	TCP             *CheckTCPInfo     `json:"tcp,omitempty"`
	DelaySeconds    *float64          `json:"delay_seconds,omitempty"`
	IntervalSeconds *float64          `json:"interval_seconds,omitempty"`
	TimeoutSeconds  *float64          `json:"timeout_seconds,omitempty"`
}

// CheckCommandInfo runs a command as a check.
type CheckCommandInfo struct {
	Command *CommandInfo `json:"command" mesos:"required"`
}

// CheckHTTPInfo GETs a path on a port as a check.
type CheckHTTPInfo struct {
	Port uint32 `json:"port"`
	Path string `json:"path,omitempty"`
}

// CheckTCPInfo connects to a port as a check.
type CheckTCPInfo struct {
	Port uint32 `json:"port"`
}

// CheckStatusInfo is the latest result of a CheckInfo. An empty sub-message
// means the result is not available (the check timed out).
type CheckStatusInfo struct {
	Type    HealthCheckType     `json:"type,omitempty"`
	Command *CheckStatusCommand `json:"command,omitempty"`
	HTTP    *CheckStatusHTTP    `json:"http,omitempty"`
	TCP     *CheckStatusTCP     `json:"tcp,omitempty"`
}

// CheckStatusCommand holds a command check's exit code.
type CheckStatusCommand struct {
	ExitCode *int32 `json:"exit_code,omitempty"`
}

// CheckStatusHTTP holds an HTTP check's status code.
type CheckStatusHTTP struct {
	StatusCode *uint32 `json:"status_code,omitempty"`
}

// CheckStatusTCP says whether a TCP check connected.
type CheckStatusTCP struct {
	Succeeded *bool `json:"succeeded,omitempty"`
}

// KillPolicy says how long to wait between the graceful and the forcible
// kill (SIGTERM, then SIGKILL after GracePeriod).
type KillPolicy struct {
	GracePeriod *DurationInfo `json:"grace_period,omitempty"`
}
