package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/strata-dc/strata/master/mesos"
)

// Agent is a client of one agent's operator API (POST /api/v1) and its
// files and monitoring endpoints, over TCP or the agent's control socket.
// The CLI and TUI use it to show what an agent runs and to tail a task's
// output:
//
//	a, _ := client.NewAgent("unix:///var/lib/strata/agent/agent.sock", client.Options{})
//	for off := uint64(0); ; {
//		data, size, _ := a.ReadFile(ctx, sandbox+"/stdout", off, -1)
//		os.Stdout.Write(data); off += uint64(len(data))
//		if off >= size { wait a little }
//	}
//
// It is safe for concurrent use.
type Agent struct {
	t    *transport
	base *url.URL
}

// NewAgent returns a client of the agent at addr: "http://host:5051",
// "host:5051" or "unix:///path/agent.sock". Of opts, Token, TLSConfig,
// DialContext and Timeout apply; Master and Detector are ignored.
func NewAgent(addr string, opts Options) (*Agent, error) {
	opts = opts.withDefaults()
	t := newTransport(opts)
	base, err := t.parseBase(addr)
	if err != nil {
		return nil, fmt.Errorf("agent client: %w", err)
	}
	return &Agent{t: t, base: base}, nil
}

// Close drops idle connections.
func (a *Agent) Close() error {
	a.t.close()
	return nil
}

// Addr is the agent's address as given.
func (a *Agent) Addr() string { return a.t.displayURL(a.base) }

// Call sends any operator call and returns the agent's answer. Errors
// are *APIError for refusals (ErrBadRequest for a bad call, ErrForbidden
// for a path outside the sandboxes, ErrNotFound for a missing file).
func (a *Agent) Call(ctx context.Context, call *mesos.AgentOperatorCall) (*mesos.AgentOperatorResponse, error) {
	if call == nil {
		return nil, errors.New("agent operator call: nil")
	}
	what := "agent " + string(call.Type)
	body, err := json.Marshal(call)
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", what, err)
	}
	out := new(mesos.AgentOperatorResponse)
	if err := a.exchange(ctx, http.MethodPost, operatorPath, body, what, out); err != nil {
		return nil, err
	}
	if out.Type != "" && out.Type != call.Type {
		return nil, fmt.Errorf("%s: the agent answered a %s response", what, out.Type)
	}
	return out, nil
}

// exchange sends one request and decodes a JSON answer into out.
func (a *Agent) exchange(ctx context.Context, method, path string, body []byte, what string, out any) error {
	ctx, cancel := a.t.withTimeout(ctx)
	defer cancel()
	u := endpoint(a.base, path)
	resp, final, err := a.t.send(ctx, request{method: method, url: u, body: body})
	if err != nil {
		return fmt.Errorf("%s at %s: %w", what, a.t.displayURL(final), err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return readAPIError(resp, what, a.t.displayURL(final), false)
	}
	if ct := resp.Header.Get("Content-Type"); !isJSONType(ct) {
		return fmt.Errorf("%s: answer has Content-Type %q, want %s", what, ct, contentJSON)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: decode answer from %s: %w", what, a.t.displayURL(final), err)
	}
	return nil
}

// agentAnswer checks that a response carries the body its call promises.
func agentAnswer[T any](resp *mesos.AgentOperatorResponse, err error, call mesos.OperatorCallType, field func(*mesos.AgentOperatorResponse) *T) (*T, error) {
	if err != nil {
		return nil, err
	}
	if resp == nil || field(resp) == nil {
		return nil, fmt.Errorf("agent %s: the agent's answer has no %s", call, call)
	}
	return field(resp), nil
}

func (a *Agent) get(ctx context.Context, t mesos.OperatorCallType) (*mesos.AgentOperatorResponse, error) {
	return a.Call(ctx, &mesos.AgentOperatorCall{Type: t})
}

// GetHealth reports whether the agent is healthy.
func (a *Agent) GetHealth(ctx context.Context) (*mesos.GetHealth, error) {
	r, err := a.get(ctx, mesos.OperatorGetHealth)
	return agentAnswer(r, err, mesos.OperatorGetHealth, func(r *mesos.AgentOperatorResponse) *mesos.GetHealth { return r.GetHealth })
}

// GetVersion returns the agent's version.
func (a *Agent) GetVersion(ctx context.Context) (*mesos.GetVersion, error) {
	r, err := a.get(ctx, mesos.OperatorGetVersion)
	return agentAnswer(r, err, mesos.OperatorGetVersion, func(r *mesos.AgentOperatorResponse) *mesos.GetVersion { return r.GetVersion })
}

// GetFlags returns the agent's flags (without credentials).
func (a *Agent) GetFlags(ctx context.Context) (*mesos.GetFlags, error) {
	r, err := a.get(ctx, mesos.OperatorGetFlags)
	return agentAnswer(r, err, mesos.OperatorGetFlags, func(r *mesos.AgentOperatorResponse) *mesos.GetFlags { return r.GetFlags })
}

// GetMetrics returns the agent's metrics (Mesos' names, "slave/tasks_running").
func (a *Agent) GetMetrics(ctx context.Context) (*mesos.GetMetrics, error) {
	r, err := a.get(ctx, mesos.OperatorGetMetrics)
	return agentAnswer(r, err, mesos.OperatorGetMetrics, func(r *mesos.AgentOperatorResponse) *mesos.GetMetrics { return r.GetMetrics })
}

// GetState returns the agent's tasks, executors and frameworks.
func (a *Agent) GetState(ctx context.Context) (*mesos.AgentGetState, error) {
	r, err := a.get(ctx, mesos.OperatorGetState)
	return agentAnswer(r, err, mesos.OperatorGetState, func(r *mesos.AgentOperatorResponse) *mesos.AgentGetState { return r.GetState })
}

// GetAgent returns the agent's AgentInfo.
func (a *Agent) GetAgent(ctx context.Context) (*mesos.AgentInfo, error) {
	r, err := a.get(ctx, mesos.OperatorGetAgent)
	g, err := agentAnswer(r, err, mesos.OperatorGetAgent, func(r *mesos.AgentOperatorResponse) *mesos.AgentGetAgent { return r.GetAgent })
	if err != nil {
		return nil, err
	}
	return g.AgentInfo, nil
}

// GetContainers returns the agent's running containers with their usage.
func (a *Agent) GetContainers(ctx context.Context) ([]mesos.AgentContainer, error) {
	r, err := a.get(ctx, mesos.OperatorGetContainers)
	g, err := agentAnswer(r, err, mesos.OperatorGetContainers, func(r *mesos.AgentOperatorResponse) *mesos.AgentGetContainers { return r.GetContainers })
	if err != nil {
		return nil, err
	}
	return g.Containers, nil
}

// ListFiles lists a sandbox directory (LIST_FILES). Paths are a run's
// sandbox path as the agent reports it, or
// /frameworks/<fw>/executors/<ex>/runs/<container|latest>/...
func (a *Agent) ListFiles(ctx context.Context, path string) ([]mesos.FileInfo, error) {
	r, err := a.Call(ctx, &mesos.AgentOperatorCall{Type: mesos.OperatorListFiles, ListFiles: &mesos.ListFilesRequest{Path: path}})
	g, err := agentAnswer(r, err, mesos.OperatorListFiles, func(r *mesos.AgentOperatorResponse) *mesos.ListFiles { return r.ListFiles })
	if err != nil {
		return nil, err
	}
	return g.FileInfos, nil
}

// ReadFile reads up to length bytes of a sandbox file from offset
// (READ_FILE); length < 0 reads to the end. The agent caps one read (at
// 64 KiB, as Mesos does), so a caller wanting more reads on from offset
// plus what it got. size is the file's whole size: offset == size means
// the caller has everything written so far.
func (a *Agent) ReadFile(ctx context.Context, path string, offset uint64, length int64) (data []byte, size uint64, err error) {
	rf := &mesos.ReadFileRequest{Path: path, Offset: offset}
	if length >= 0 {
		l := uint64(length)
		rf.Length = &l
	}
	r, err := a.Call(ctx, &mesos.AgentOperatorCall{Type: mesos.OperatorReadFile, ReadFile: rf})
	g, err := agentAnswer(r, err, mesos.OperatorReadFile, func(r *mesos.AgentOperatorResponse) *mesos.ReadFile { return r.ReadFile })
	if err != nil {
		return nil, 0, err
	}
	return g.Data, g.Size, nil
}

// Statistics returns GET /monitor/statistics: each running task's usage.
func (a *Agent) Statistics(ctx context.Context) ([]mesos.ExecutorStatistics, error) {
	var out []mesos.ExecutorStatistics
	if err := a.exchange(ctx, http.MethodGet, "/monitor/statistics", nil, "GET /monitor/statistics", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// MetricsSnapshot returns GET /metrics/snapshot.
func (a *Agent) MetricsSnapshot(ctx context.Context) (map[string]float64, error) {
	m := map[string]float64{}
	if err := a.exchange(ctx, http.MethodGet, "/metrics/snapshot", nil, "GET /metrics/snapshot", &m); err != nil {
		return nil, err
	}
	return m, nil
}

// Download streams a whole sandbox file (GET /files/download); the
// caller closes the reader. ctx bounds the whole download.
func (a *Agent) Download(ctx context.Context, path string) (io.ReadCloser, error) {
	const what = "GET /files/download"
	u := endpoint(a.base, "/files/download")
	u.RawQuery = url.Values{"path": {path}}.Encode()
	resp, final, err := a.t.send(ctx, request{method: http.MethodGet, url: u})
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", what, a.t.displayURL(final), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, readAPIError(resp, what, a.t.displayURL(final), false)
	}
	return resp.Body, nil
}

// Tail calls emit with what is appended to a sandbox file from offset on
// (offset < 0: from its current end), polling every interval, until ctx
// ends or emit or a read fails; it returns the offset it reached. This is
// how `strata task logs -f` follows a task's stdout.
func (a *Agent) Tail(ctx context.Context, path string, offset int64, interval time.Duration, emit func([]byte) error) (int64, error) {
	if interval <= 0 {
		interval = time.Second
	}
	if offset < 0 {
		_, size, err := a.ReadFile(ctx, path, 0, 0)
		if err != nil {
			return 0, err
		}
		offset = int64(size)
	}
	for {
		data, size, err := a.ReadFile(ctx, path, uint64(offset), -1)
		if err != nil {
			return offset, err
		}
		if size < uint64(offset) {
			offset = 0 // truncated: start over, as tail -F does
			continue
		}
		if len(data) > 0 {
			offset += int64(len(data))
			if err := emit(data); err != nil {
				return offset, err
			}
			if uint64(offset) < size {
				continue // more than one read's worth is waiting
			}
		}
		if err := sleepCtx(ctx, interval); err != nil {
			return offset, err
		}
	}
}
