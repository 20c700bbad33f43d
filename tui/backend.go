package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-dc/strata/master/client"
	"github.com/strata-dc/strata/master/mesos"
)

// Backend is everything the dashboard asks of the cluster. Live wraps the
// master/client clients; tests use Live against a real master or a stub.
type Backend interface {
	// Subscribe opens the operator stream with offer events; it
	// reconnects by itself and reports gaps as updates with Err.
	Subscribe(ctx context.Context) (<-chan client.OperatorUpdate, error)
	// Master describes the leading master and the URL it answers on.
	Master(ctx context.Context) (*mesos.MasterInfo, string, error)
	// Roles reads what the stream does not carry: roles and quota.
	Roles(ctx context.Context) (*mesos.GetRoles, *mesos.GetQuota, error)
	// Agents reads the agents again: a drain or reactivation changes an
	// agent without an event on the stream.
	Agents(ctx context.Context) (*mesos.GetAgents, error)

	UpdateWeight(ctx context.Context, role string, weight float64) error
	UpdateQuota(ctx context.Context, q mesos.QuotaConfig) error
	DrainAgent(ctx context.Context, agent mesos.AgentID) error
	ReactivateAgent(ctx context.Context, agent mesos.AgentID) error
	// KillTask kills a task through its framework (named, for routing).
	KillTask(ctx context.Context, t *mesos.Task, framework string) error

	// TailTask sends a task's sandbox file (stdout or stderr): its last
	// lines, then what is appended, until ctx ends or a read fails.
	TailTask(ctx context.Context, agent *mesos.Agent, t *mesos.Task, file string, emit func([]byte) error) error
}

// ErrNoKillAPI: the operator API has no call to kill one task (Mesos'
// has none either); a task is killed through the framework that owns it.
var ErrNoKillAPI = errors.New("the master's operator API cannot kill a single task; kill it through its framework")

// Live is the Backend over the master's operator API and the agents'
// files API.
type Live struct {
	Op *client.Operator
	// AgentOptions reach agents (through ssh when the master is reached
	// that way): client.Endpoint.AgentOptions.
	AgentOptions client.Options
	// Killers kill tasks of the frameworks they name (by framework name);
	// marathon's and chronos' clients plug in here.
	Killers map[string]func(ctx context.Context, t *mesos.Task) error
	// Apps and Jobs are marathon and chronos for the Apps and Jobs views
	// of every dashboard on this backend (the terminal's, or each SSH
	// session's) whose Options leave them nil.
	Apps AppsSource
	Jobs JobsSource
}

func (l *Live) Subscribe(ctx context.Context) (<-chan client.OperatorUpdate, error) {
	return l.Op.Subscribe(ctx, &mesos.SubscribeOptions{OfferEvents: true})
}

func (l *Live) Master(ctx context.Context) (*mesos.MasterInfo, string, error) {
	g, err := l.Op.GetMaster(ctx)
	if err != nil {
		return nil, l.Op.Master(), err
	}
	return g.MasterInfo, l.Op.Master(), nil
}

func (l *Live) Roles(ctx context.Context) (*mesos.GetRoles, *mesos.GetQuota, error) {
	r, err := l.Op.GetRoles(ctx)
	if err != nil {
		return nil, nil, err
	}
	q, err := l.Op.GetQuota(ctx)
	if err != nil {
		return r, nil, err
	}
	return r, q, nil
}

func (l *Live) Agents(ctx context.Context) (*mesos.GetAgents, error) { return l.Op.GetAgents(ctx) }

func (l *Live) UpdateWeight(ctx context.Context, role string, weight float64) error {
	return l.Op.UpdateWeights(ctx, mesos.WeightInfo{Role: role, Weight: weight})
}

func (l *Live) UpdateQuota(ctx context.Context, q mesos.QuotaConfig) error {
	return l.Op.UpdateQuota(ctx, false, q)
}

func (l *Live) DrainAgent(ctx context.Context, agent mesos.AgentID) error {
	return l.Op.DrainAgent(ctx, agent, 0, false)
}

func (l *Live) ReactivateAgent(ctx context.Context, agent mesos.AgentID) error {
	return l.Op.ReactivateAgent(ctx, agent)
}

func (l *Live) KillTask(ctx context.Context, t *mesos.Task, name string) error {
	if k := l.Killers[name]; k != nil {
		return k(ctx, t)
	}
	return fmt.Errorf("kill task %s of framework %q: %w (no %s client in strata top yet)", t.TaskID, name, ErrNoKillAPI, orDash(name))
}

// tailLines is how much of a log is shown before following it.
const tailLines = 500

func (l *Live) TailTask(ctx context.Context, agent *mesos.Agent, t *mesos.Task, file string, emit func([]byte) error) error {
	url := client.AgentURL(agent)
	if url == "" {
		return fmt.Errorf("task %s: its agent %s is not known to the master", t.TaskID, t.AgentID)
	}
	a, err := client.NewAgent(url, l.AgentOptions)
	if err != nil {
		return err
	}
	defer a.Close()
	path := client.TaskSandboxFile(t, file)
	data, size, err := a.LastLines(ctx, path, tailLines)
	if err != nil {
		return fmt.Errorf("task %s %s: %w", t.TaskID, file, err)
	}
	if len(data) > 0 {
		if err := emit(data); err != nil {
			return err
		}
	}
	_, err = a.Tail(ctx, path, int64(size), 500*time.Millisecond, emit)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("task %s %s: %w", t.TaskID, file, err)
	}
	return nil
}
