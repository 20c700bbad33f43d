package allocator

import (
	"os"
	"testing"
)

func TestRunBenchmarksPrint(t *testing.T) {
	if os.Getenv("STRATA_ALLOC_BENCH") == "" {
		t.Skip("set STRATA_ALLOC_BENCH=1 to print the benchmark table")
	}
	if err := RunBenchmarks(os.Stdout); err != nil {
		t.Fatal(err)
	}
}
