package marathon

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dc/strata/marathon/app"
	"github.com/strata-dc/strata/marathon/placement"
	"github.com/strata-dc/strata/master/mesos"
)

// buildTask translates an instance of a into the Mesos TaskInfo launched
// on offer with the resources and host ports of match: the command (cmd
// through the shell, args without), Marathon's environment, fetch URIs,
// labels, the kill grace period and the first health check, which the
// agent runs (Marathon's HTTP and TCP forms included).
func buildTask(a *app.App, taskID string, offer *mesos.Offer, m placement.Match, cfg Config) mesos.TaskInfo {
	cmd := &mesos.CommandInfo{User: a.User}
	if a.Cmd != "" {
		cmd.Value = a.Cmd
	} else if len(a.Args) > 0 {
		shell := false
		cmd.Shell = &shell
		cmd.Value = a.Args[0]
		cmd.Arguments = slices.Clone(a.Args)
	}
	for _, f := range a.Fetch {
		u := mesos.CommandURI{Value: f.URI, OutputFile: f.DestPath}
		extract, exec, cache := f.Extract, f.Executable, f.Cache
		u.Extract, u.Executable, u.Cache = &extract, &exec, &cache
		cmd.URIs = append(cmd.URIs, u)
	}
	cmd.Environment = mesos.Env(taskEnv(a, taskID, offer.Hostname, m.HostPorts))
	ti := mesos.TaskInfo{
		Name:      hostnameOf(a.ID),
		TaskID:    mesos.TaskID(taskID),
		AgentID:   offer.AgentID,
		Resources: m.Resources,
		Command:   cmd,
	}
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		ti.Labels = append(ti.Labels, mesos.Label{Key: k, Value: a.Labels[k]})
	}
	if a.TaskKillGracePeriodSeconds != nil {
		ti.KillPolicy = &mesos.KillPolicy{GracePeriod: mesos.DurationInfoOf(time.Duration(*a.TaskKillGracePeriodSeconds) * time.Second)}
	}
	if len(a.HealthChecks) > 0 {
		ti.HealthCheck = healthCheck(a.HealthChecks[0], m.HostPorts)
	}
	return ti
}

// hostnameOf is Marathon's task name: the path's segments reversed and
// joined with dots (/prod/web → web.prod).
func hostnameOf(id app.PathID) string {
	segs := slices.Clone(id.Segments())
	slices.Reverse(segs)
	return strings.Join(segs, ".")
}

// taskEnv is the task's environment as Marathon builds it: the app's own
// variables, then PORT0…, PORT, PORTS, PORT_<NAME>, HOST, MESOS_TASK_ID and
// the MARATHON_APP_* variables.
func taskEnv(a *app.App, taskID, host string, ports []int) map[string]string {
	env := map[string]string{}
	for k, v := range a.Env {
		if v.Secret == "" {
			env[k] = v.Value
		}
	}
	names := a.PortNames()
	var list []string
	for i, p := range ports {
		env["PORT"+strconv.Itoa(i)] = strconv.Itoa(p)
		list = append(list, strconv.Itoa(p))
		if i < len(a.PortDefinitions) && a.PortDefinitions[i].Port != 0 {
			env["PORT_"+strconv.Itoa(a.PortDefinitions[i].Port)] = strconv.Itoa(p)
		}
		if i < len(names) && names[i] != "" {
			env["PORT_"+strings.ToUpper(names[i])] = strconv.Itoa(p)
		}
	}
	if len(ports) > 0 {
		env["PORT"] = strconv.Itoa(ports[0])
		env["PORTS"] = strings.Join(list, ",")
	}
	env["HOST"] = host
	env["MESOS_TASK_ID"] = taskID
	env["MARATHON_APP_ID"] = string(a.ID)
	env["MARATHON_APP_VERSION"] = a.Version
	env["MARATHON_APP_RESOURCE_CPUS"] = strconv.FormatFloat(a.Cpus, 'f', -1, 64)
	env["MARATHON_APP_RESOURCE_MEM"] = strconv.FormatFloat(a.Mem, 'f', -1, 64)
	env["MARATHON_APP_RESOURCE_DISK"] = strconv.FormatFloat(a.Disk, 'f', -1, 64)
	env["MARATHON_APP_RESOURCE_GPUS"] = strconv.Itoa(a.Gpus)
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if validEnvName(k) {
			labels = append(labels, k)
			env["MARATHON_APP_LABEL_"+strings.ToUpper(k)] = a.Labels[k]
		}
	}
	env["MARATHON_APP_LABELS"] = strings.Join(labels, " ")
	return env
}

func validEnvName(k string) bool {
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return k != ""
}

// healthCheck translates a Marathon health check into the Mesos one the
// agent runs. Marathon itself ran HTTP, HTTPS and TCP checks; Strata's
// agent runs them all, so they become the MESOS_* forms.
func healthCheck(h app.HealthCheck, ports []int) *mesos.HealthCheck {
	f := func(v int) *float64 { x := float64(v); return &x }
	failures := uint32(max(h.MaxConsecutiveFailures, 0))
	if failures == 0 {
		// Marathon's 0 means "never kill"; the agent would kill at once.
		failures = math.MaxUint32
	}
	out := &mesos.HealthCheck{DelaySeconds: f(h.DelaySeconds), IntervalSeconds: f(h.IntervalSeconds),
		TimeoutSeconds: f(h.TimeoutSeconds), ConsecutiveFailures: &failures, GracePeriodSeconds: f(h.GracePeriodSeconds)}
	port := uint32(0)
	switch {
	case h.Port != nil:
		port = uint32(*h.Port)
	case h.PortIndex != nil && *h.PortIndex >= 0 && *h.PortIndex < len(ports):
		port = uint32(ports[*h.PortIndex])
	}
	switch h.Protocol {
	case app.ProtocolHTTP, app.ProtocolHTTPS, app.ProtocolMesosHTTP, app.ProtocolMesosHTTPS:
		scheme := "http"
		if h.Protocol == app.ProtocolHTTPS || h.Protocol == app.ProtocolMesosHTTPS {
			scheme = "https"
		}
		out.Type = mesos.CheckHTTP
		out.HTTP = &mesos.HTTPCheckInfo{Scheme: scheme, Port: port, Path: h.Path}
	case app.ProtocolTCP, app.ProtocolMesosTCP:
		out.Type = mesos.CheckTCP
		out.TCP = &mesos.TCPCheckInfo{Port: port}
	default:
		out.Type = mesos.CheckCommand
		value := ""
		if h.Command != nil {
			value = h.Command.Value
		}
		out.Command = &mesos.CommandInfo{Value: value}
		if len(ports) > 0 {
			env := map[string]string{"PORT": strconv.Itoa(ports[0])}
			for i, p := range ports {
				env[fmt.Sprintf("PORT%d", i)] = strconv.Itoa(p)
			}
			out.Command.Environment = mesos.Env(env)
		}
	}
	return out
}
