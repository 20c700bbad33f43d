package storage

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
)

var tornCuts, removed atomic.Int64

type countHandler struct{ slog.Handler }

func (h countHandler) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case "cutting torn tail of the transaction log":
		tornCuts.Add(1)
	case "removing log file cut during creation":
		removed.Add(1)
	}
	return nil
}
func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }

func TestDebugCount(t *testing.T) {
	cutOpts.Logger = slog.New(countHandler{slog.DiscardHandler})
	for seed := int64(1); seed <= 12; seed++ {
		if err := powerCutRun(t, seed, 16, false); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("torn cuts %d removed %d", tornCuts.Load(), removed.Load())
}
