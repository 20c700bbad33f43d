package tui

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/strata-dc/strata/agent"
	"github.com/strata-dc/strata/agent/agenttest"
	"github.com/strata-dc/strata/agent/supervise"
)

func TestMain(m *testing.M) {
	// Views that name the keys file (help) must not depend on whose
	// home the tests run in.
	os.Setenv("XDG_CONFIG_HOME", "/home/operator/.config")
	agenttest.Main(m)
}

// startTestAgent runs a real agent (POSIX isolation) until the test ends;
// its supervisor, and so every task, is shut down and reaped afterwards.
func startTestAgent(t *testing.T, zk, hostname string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "tui-agent-") // short: the supervisor's socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Cleanup(func() { agenttest.StopSupervisor(t, filepath.Join(dir, "supervisor")) })
	a, err := agent.New(agent.Config{Master: zk, WorkDir: dir, IP: "127.0.0.1", Hostname: hostname,
		Resources: "cpus:4;mem:1024;disk:1024;ports:[31000-31100]", Attributes: "rack:r1", Isolation: supervise.IsolationPosix,
		StatusRetry: 200 * time.Millisecond, StatusRetryMax: 2 * time.Second,
		SupervisorCommand: agenttest.SupervisorCommand(), SessionTimeout: 10 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent.Run: %v", err)
			}
		})
	})
}
