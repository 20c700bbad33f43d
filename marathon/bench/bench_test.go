package bench

import (
	"context"
	"testing"
	"time"
)

// TestRunSmall runs both phases at a tiny size so the benchmark's code
// path (cluster start, deploy through the API, event stream, listing,
// teardown) is exercised by `go test`; it checks what was measured is
// complete, not how fast.
func TestRunSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Sizes: []Size{{Instances: 20, Agents: 5}}, Apps: 20, AppInstances: 1,
		ListCalls: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deploys) != 1 {
		t.Fatalf("deploys = %d, want 1", len(res.Deploys))
	}
	d := res.Deploys[0]
	if d.AllRunning <= 0 || d.Via == "" || d.RSS == 0 {
		t.Errorf("deploy result incomplete: %+v", d)
	}
	if res.List == nil || res.List.Apps != 20 || res.List.Median <= 0 || res.List.Bytes == 0 {
		t.Errorf("list result incomplete: %+v", res.List)
	}
	if res.PeakRSS == 0 {
		t.Error("peak RSS not read")
	}
}

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("500x200, 10000x1000")
	if err != nil || len(got) != 2 || got[0] != (Size{500, 200}) || got[1] != (Size{10000, 1000}) {
		t.Fatalf("ParseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "500", "0x5", "5x0", "ax5", "5x-1"} {
		if _, err := ParseSizes(bad); err == nil {
			t.Errorf("ParseSizes(%q): no error", bad)
		}
	}
}
