package bench

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestRun drives a short benchmark end to end. It needs a strata binary
// for the agent process: STRATA_BIN=/path/to/strata (the test binary is
// not one).
func TestRun(t *testing.T) {
	bin := os.Getenv("STRATA_BIN")
	if bin == "" {
		t.Skip("STRATA_BIN is not set: no strata binary to run the agent with")
	}
	jobs, _ := strconv.Atoi(os.Getenv("CHRONOS_BENCH_JOBS"))
	r, err := Run(context.Background(), Config{Jobs: max(jobs, 5), Period: 2 * time.Second, Duration: 8 * time.Second,
		Agent: []string{bin, "agent"}, Dir: t.TempDir(), Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Runs == 0 || r.Duplicates != 0 || r.Skipped != 0 {
		t.Errorf("result %+v: want runs, none skipped or duplicated", r)
	}
}

func testLog() *slog.Logger {
	if os.Getenv("CHRONOS_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
