package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/strata-dc/strata/master/auth"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestParseRateLimits(t *testing.T) {
	rl, err := auth.ParseRateLimits([]byte(`{"limits":[{"principal":"foo","qps":55.5},{"principal":"bar"}],"aggregate_default_qps":33.3}`))
	if err != nil || len(rl.Limits) != 2 || *rl.AggregateDefaultQPS != 33.3 {
		t.Fatalf("Mesos' example: %+v %v", rl, err)
	}
	for _, tc := range []struct{ in, err string }{
		{`{"limits":[{"qps":1}]}`, "limits[0].principal: required"},
		{`{"limits":[{"principal":"a","qps":0}]}`, "limits[0].qps: must be positive"},
		{`{"limits":[{"principal":"a","qps":-1}]}`, "limits[0].qps"},
		{`{"limits":[{"principal":"a"},{"principal":"a"}]}`, "listed twice"},
		{`{"limits":[{"principal":"a","capacity":3}]}`, "capacity: needs qps"},
		{`{"aggregate_default_capacity":3}`, "needs aggregate_default_qps"},
		{`{"limit":[]}`, "unknown field"},
	} {
		if _, err := auth.ParseRateLimits([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestLimiter(t *testing.T) {
	rl, err := auth.ParseRateLimits([]byte(`{"limits":[{"principal":"slow","qps":2,"capacity":3},{"principal":"free"}],"aggregate_default_qps":1}`))
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := auth.NewLimiter(rl, clk.now)
	// A full bucket allows its capacity at once, then refuses.
	for i := range 3 {
		if ok, _ := l.Allow("slow"); !ok {
			t.Fatalf("call %d of the burst refused", i)
		}
	}
	ok, retry := l.Allow("slow")
	if ok || retry != 500*time.Millisecond {
		t.Fatalf("4th call: ok=%v retry=%v, want refused with 500ms", ok, retry)
	}
	clk.advance(500 * time.Millisecond)
	if ok, _ := l.Allow("slow"); !ok {
		t.Fatal("refill after 1/qps refused")
	}
	if ok, _ := l.Allow("slow"); ok {
		t.Fatal("only one token refilled")
	}
	// Listed without qps: never limited.
	for range 100 {
		if ok, _ := l.Allow("free"); !ok {
			t.Fatal("an unlimited principal refused")
		}
	}
	// Principals not listed, anonymous included, share one bucket.
	if ok, _ := l.Allow("someone"); !ok {
		t.Fatal("aggregate's first call refused")
	}
	if ok, _ := l.Allow(""); ok {
		t.Fatal("the aggregate bucket is shared: anonymous should be refused after someone spent it")
	}
	clk.advance(time.Second)
	if ok, _ := l.Allow(""); !ok {
		t.Fatal("aggregate not refilled")
	}
	// Time going backwards does not mint tokens.
	clk.advance(-10 * time.Second)
	if ok, _ := l.Allow("x"); ok {
		t.Fatal("a clock step back refilled the bucket")
	}
	var none *auth.Limiter
	if ok, _ := none.Allow("x"); !ok {
		t.Fatal("a nil limiter refused")
	}
}
