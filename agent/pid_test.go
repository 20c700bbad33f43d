package agent_test

import (
	"context"
	"testing"

	"github.com/strata-dc/strata/master/client"
)

// TestIntegration_AgentPID: the master records where it saw the agent
// subscribe from, as Mesos' slave(1)@ip:port, so clients reach the
// agent's API even when its advertised hostname does not resolve.
func TestIntegration_AgentPID(t *testing.T) {
	e := startCoord(t)
	m := startMaster(t, e)
	cfg := agentConfig(t, e.URL().String(), newWorkDir(t))
	cfg.Hostname = "no-such-host.invalid"
	a := startAgent(t, cfg)
	waitFor(t, "agent subscribed", func() bool { return a.ID() != "" })
	op, err := client.NewOperator(client.Options{Master: "http://" + m.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	ags, err := op.GetAgents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ags.Agents) != 1 {
		t.Fatalf("agents: %+v", ags.Agents)
	}
	if got, port := ags.Agents[0].PID, a.Addr().String(); got != "slave(1)@"+port {
		t.Fatalf("agent pid %q, want slave(1)@%s", got, port)
	}
}
