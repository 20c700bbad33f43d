package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/strata-dc/strata/master/mesos"
)

// The agent's operator API: POST /api/v1 with a call of Mesos' v1 agent
// API (mesos/v1/agent/agent.proto), answered synchronously with JSON, on
// the TCP listener and on the control socket alike. A bad call is a 400
// naming the field and changes nothing.

// maxCallBody bounds an operator call's body; calls are small.
const maxCallBody = 1 << 20

// servedCalls are the agent operator calls Strata answers.
var servedCalls = []mesos.OperatorCallType{
	mesos.OperatorGetHealth, mesos.OperatorGetFlags, mesos.OperatorGetVersion, mesos.OperatorGetMetrics,
	mesos.OperatorListFiles, mesos.OperatorReadFile, mesos.OperatorGetState, mesos.OperatorGetContainers,
	mesos.OperatorGetFrameworks, mesos.OperatorGetExecutors, mesos.OperatorGetTasks, mesos.OperatorGetAgent,
}

func (a *Agent) serveOperator(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type: %q is not supported; send application/json", ct))
			return
		}
	}
	if accept := r.Header.Values("Accept"); !acceptsJSON(accept) {
		writeError(w, http.StatusNotAcceptable, fmt.Sprintf("Accept: %q: this API answers application/json only", strings.Join(accept, ", ")))
		return
	}
	body, ok := a.readCallBody(w, r)
	if !ok {
		return
	}
	// JSON is UTF-8 (encoding/json would quietly turn bad bytes into
	// U+FFFD); one document, nothing after it. Call judges the type.
	if !utf8.Valid(body) {
		writeError(w, http.StatusBadRequest, "body: not valid UTF-8")
		return
	}
	var call mesos.AgentOperatorCall
	if err := json.Unmarshal(body, &call); err != nil {
		writeError(w, http.StatusBadRequest, "body: not a JSON operator call: "+err.Error())
		return
	}
	resp, err := a.Call(&call)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	writeJSON(w, resp)
}

// readCallBody reads an operator call's body, which must arrive within
// RequestTimeout and fit in maxCallBody; it answers 413/408/400 itself
// when it cannot. On failure the read deadline stays, so the rest of the
// body is not waited for, and the connection ends with the answer.
func (a *Agent) readCallBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(a.cfg.RequestTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallBody))
	if err != nil {
		w.Header().Set("Connection", "close")
		var tooBig *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes", maxCallBody))
		case errors.As(err, &ne) && ne.Timeout():
			writeError(w, http.StatusRequestTimeout, fmt.Sprintf("body: not received within %s", a.cfg.RequestTimeout))
		default:
			writeError(w, http.StatusBadRequest, "body: "+err.Error())
		}
		return nil, false
	}
	_ = rc.SetReadDeadline(time.Time{})
	return body, true
}

// Call answers one operator call; errors carry their HTTP status (see
// statusOf) and name the offending field.
func (a *Agent) Call(call *mesos.AgentOperatorCall) (*mesos.AgentOperatorResponse, error) {
	resp := &mesos.AgentOperatorResponse{Type: call.Type}
	switch call.Type {
	case "":
		return nil, badPath("type: required (one of %v)", servedCalls)
	case mesos.OperatorGetHealth:
		resp.GetHealth = &mesos.GetHealth{Healthy: true}
	case mesos.OperatorGetVersion:
		resp.GetVersion = &mesos.GetVersion{VersionInfo: &mesos.VersionInfo{Version: a.cfg.Version}}
	case mesos.OperatorGetFlags:
		resp.GetFlags = &mesos.GetFlags{Flags: a.flags()}
	case mesos.OperatorGetMetrics:
		m := a.Metrics()
		list := &mesos.GetMetrics{}
		for _, name := range slices.Sorted(maps.Keys(m)) {
			v := m[name]
			list.Metrics = append(list.Metrics, mesos.Metric{Name: name, Value: &v})
		}
		resp.GetMetrics = list
	case mesos.OperatorListFiles:
		if call.ListFiles == nil {
			return nil, badPath("list_files: required for a LIST_FILES call")
		}
		infos, err := a.listFiles(call.ListFiles.Path)
		if err != nil {
			return nil, prefixed("list_files.", err)
		}
		resp.ListFiles = &mesos.ListFiles{FileInfos: infos}
	case mesos.OperatorReadFile:
		if call.ReadFile == nil {
			return nil, badPath("read_file: required for a READ_FILE call")
		}
		rf := call.ReadFile
		if rf.Offset > 1<<62 {
			return nil, badPath("read_file.offset: %d is too large", rf.Offset)
		}
		length := int64(-1)
		if rf.Length != nil {
			length = int64(min(*rf.Length, 1<<62))
		}
		data, size, err := a.readFile(rf.Path, int64(rf.Offset), length)
		if err != nil {
			return nil, prefixed("read_file.", err)
		}
		resp.ReadFile = &mesos.ReadFile{Size: uint64(size), Data: data}
	case mesos.OperatorGetState:
		resp.GetState = a.operatorState()
	case mesos.OperatorGetTasks:
		resp.GetTasks = a.operatorState().GetTasks
	case mesos.OperatorGetExecutors:
		resp.GetExecutors = a.operatorState().GetExecutors
	case mesos.OperatorGetFrameworks:
		resp.GetFrameworks = a.operatorState().GetFrameworks
	case mesos.OperatorGetAgent:
		resp.GetAgent = &mesos.AgentGetAgent{AgentInfo: a.agentInfo()}
	case mesos.OperatorGetContainers:
		cs, err := a.containers()
		if err != nil {
			return nil, &filesError{http.StatusServiceUnavailable, err.Error()}
		}
		resp.GetContainers = &mesos.AgentGetContainers{Containers: cs}
	default:
		return nil, badPath("type: %q is not a call this agent serves (want one of %v)", call.Type, servedCalls)
	}
	return resp, nil
}

// prefixed names the call's field in a files error ("read_file.path ...").
func prefixed(field string, err error) error {
	var fe *filesError
	if errors.As(err, &fe) {
		return &filesError{fe.status, field + fe.msg}
	}
	return fmt.Errorf("%s%w", field, err)
}

// flags lists the agent's configuration as GET_FLAGS shows it, with any
// credentials in the master's URL left out.
func (a *Agent) flags() []mesos.Flag {
	c := a.cfg
	master := c.Master
	if u, err := url.Parse(master); err == nil && u.User != nil {
		u.User = nil
		master = u.String()
	}
	port := ""
	if _, p, err := net.SplitHostPort(a.tcp.Addr().String()); err == nil {
		port = p
	}
	return append([]mesos.Flag{
		{Name: "master", Value: master},
		{Name: "work_dir", Value: c.WorkDir},
		{Name: "ip", Value: c.IP},
		{Name: "port", Value: port},
		{Name: "hostname", Value: c.Hostname},
		{Name: "resources", Value: c.Resources},
		{Name: "attributes", Value: c.Attributes},
		{Name: "isolation", Value: string(c.Isolation)},
		{Name: "recovery_timeout", Value: c.RecoveryTimeout.String()},
	}, a.securityFlags()...) // auth.go
}

// agentInfo is the agent as the master knows it.
func (a *Agent) agentInfo() *mesos.AgentInfo {
	info := &mesos.AgentInfo{Hostname: a.cfg.Hostname, Resources: a.total, Attributes: a.attrs, ID: a.ID()}
	if _, p, err := net.SplitHostPort(a.tcp.Addr().String()); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			port := int32(n)
			info.Port = &port
		}
	}
	return info
}

// operatorState is GET_STATE: tasks sorted as Mesos' agent does (queued
// until launched, launched while live, terminated until the terminal
// update is acknowledged, after which the agent forgets them), one
// command executor per task, and the frameworks of live tasks.
func (a *Agent) operatorState() *mesos.AgentGetState {
	a.mu.Lock()
	defer a.mu.Unlock()
	tasks := &mesos.AgentGetTasks{}
	execs := &mesos.AgentGetExecutors{}
	live := map[mesos.FrameworkID]bool{}
	for _, c := range slices.Sorted(maps.Keys(a.tasks)) {
		rec := a.tasks[c]
		t := mesos.Task{Name: rec.Task.Name, TaskID: rec.Task.TaskID, FrameworkID: rec.FrameworkID,
			ExecutorID: executorID(rec), AgentID: a.id, State: rec.State, Resources: rec.Task.Resources,
			Labels: rec.Task.Labels, Discovery: rec.Task.Discovery, Container: rec.Task.Container,
			HealthCheck: rec.Task.HealthCheck, KillPolicy: rec.Task.KillPolicy}
		if n := len(rec.Pending); n > 0 {
			t.Statuses = slices.Clone(rec.Pending)
			t.StatusUpdateState = rec.Pending[0].State
			t.StatusUpdateUUID = rec.Pending[0].UUID
		}
		ex := mesos.AgentExecutor{ExecutorInfo: &mesos.ExecutorInfo{ExecutorID: executorID(rec),
			FrameworkID: rec.FrameworkID, Name: executorName(&rec.Task), Command: rec.Task.Command,
			Resources: rec.Task.Resources}}
		switch {
		case rec.State.IsTerminal():
			tasks.TerminatedTasks = append(tasks.TerminatedTasks, t)
			execs.CompletedExecutors = append(execs.CompletedExecutors, ex)
		case !rec.Launched:
			tasks.QueuedTasks = append(tasks.QueuedTasks, t)
			execs.Executors = append(execs.Executors, ex)
			live[rec.FrameworkID] = true
		default:
			tasks.LaunchedTasks = append(tasks.LaunchedTasks, t)
			execs.Executors = append(execs.Executors, ex)
			live[rec.FrameworkID] = true
		}
	}
	fws := &mesos.AgentGetFrameworks{}
	for _, id := range slices.Sorted(maps.Keys(a.frameworks)) {
		fi := a.frameworks[id]
		f := mesos.AgentFramework{FrameworkInfo: &fi}
		if live[id] {
			fws.Frameworks = append(fws.Frameworks, f)
		} else {
			fws.CompletedFrameworks = append(fws.CompletedFrameworks, f)
		}
	}
	return &mesos.AgentGetState{GetTasks: tasks, GetExecutors: execs, GetFrameworks: fws}
}

// containers is GET_CONTAINERS: each running task's container with its
// process and usage.
func (a *Agent) containers() ([]mesos.AgentContainer, error) {
	live, usage, err := a.usage()
	if err != nil {
		return nil, err
	}
	out := []mesos.AgentContainer{}
	for _, t := range live {
		c := mesos.AgentContainer{FrameworkID: t.framework, ExecutorID: mesos.ExecutorID(t.task.TaskID),
			ExecutorName: executorName(&t.task), ContainerID: mesos.ContainerID{Value: t.container}}
		c.ContainerStatus = &mesos.ContainerStatus{ContainerID: &mesos.ContainerID{Value: t.container}, ExecutorPID: uint32(max(t.pid, 0))}
		if u, ok := usage[t.container]; ok {
			rs := mesos.ResourceStatistics(u)
			c.ResourceStatistics = &rs
		}
		out = append(out, c)
	}
	return out, nil
}

// acceptsJSON reports whether Accept headers allow a JSON answer: none
// given, application/json, application/* or */* (Mesos answers 406 to a
// client that accepts only protobuf).
func acceptsJSON(accept []string) bool {
	given := false
	for _, h := range accept {
		for _, part := range strings.Split(h, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			given = true
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case "application/json", "application/*", "*/*":
				return true
			}
		}
	}
	return !given
}
