package chaos

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// buildStrata builds the real binary every daemon of the cluster runs.
func buildStrata(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "strata")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/strata-dc/strata/cmd/strata").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runShort runs a short chaos run and fails on any violation, printing
// the report either way.
func runShort(t *testing.T, cfg Config) {
	t.Helper()
	var log bytes.Buffer
	cfg.Log = &log
	cfg.Dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Duration+8*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("chaos run: %v\nprogress:\n%s", err, log.String())
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	t.Logf("progress:\n%s\n%s", log.String(), text.String())
	if len(rep.Faults) == 0 {
		t.Fatal("no fault was injected")
	}
	if rep.RunsStarted == 0 || rep.AckedWrites == 0 {
		t.Fatalf("the workload did not run: %d job runs started, %d coord writes acknowledged", rep.RunsStarted, rep.AckedWrites)
	}
	if !rep.OK() {
		t.Fatalf("%d invariant violations (report above)", len(rep.Violations))
	}
}

// TestChaosEnsemble is the short run of issue 9 on a 3-node Apache
// ZooKeeper ensemble: leaders and standbys of every kind and ensemble
// members are killed (every kind at least once).
func TestChaosEnsemble(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the chaos run takes about two minutes")
	}
	if why := JavaAvailable(); why != "" {
		t.Skip(why)
	}
	runShort(t, Config{Binary: buildStrata(t), Coord: CoordEnsemble,
		Duration: 90 * time.Second, Interval: 12 * time.Second, Seed: 9})
}

// TestChaosEmbedded runs the same cluster on the embedded coord server,
// which is killed too: acknowledged writes must survive its restarts.
func TestChaosEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the chaos run takes about a minute")
	}
	runShort(t, Config{Binary: buildStrata(t), Coord: CoordEmbedded,
		Duration: 45 * time.Second, Interval: 10 * time.Second, Seed: 3,
		Kinds: []Kind{KindCoord, KindMaster, KindMarathon, KindChronos, KindAgent}})
}
