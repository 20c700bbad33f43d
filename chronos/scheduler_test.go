package chronos

import (
	"testing"

	"github.com/strata-dc/strata/chronos/job"
	"github.com/strata-dc/strata/master/mesos"
)

func TestConstraintsMatch(t *testing.T) {
	rack := mesos.Attribute{Name: "rack", Type: mesos.ValueText, Text: &mesos.Text{Value: "r1"}}
	offer := &mesos.Offer{Hostname: "node-7.dc1", Attributes: mesos.Attributes{rack}}
	for _, tc := range []struct {
		c    job.Constraint
		want bool
	}{
		{job.Constraint{Attribute: "rack", Operator: "EQUALS", Value: "r1"}, true},
		{job.Constraint{Attribute: "rack", Operator: "EQUALS", Value: "r2"}, false},
		{job.Constraint{Attribute: "rack", Operator: "LIKE", Value: "r[0-9]"}, true},
		{job.Constraint{Attribute: "rack", Operator: "LIKE", Value: "r"}, false}, // whole value
		{job.Constraint{Attribute: "rack", Operator: "UNLIKE", Value: "r1"}, false},
		{job.Constraint{Attribute: "rack", Operator: "UNLIKE", Value: "r2"}, true},
		{job.Constraint{Attribute: "hostname", Operator: "LIKE", Value: "node-[0-9]+\\.dc1"}, true},
		{job.Constraint{Attribute: "hostname", Operator: "EQUALS", Value: "node-8.dc1"}, false},
		{job.Constraint{Attribute: "zone", Operator: "EQUALS", Value: "a"}, false}, // missing attribute
		{job.Constraint{Attribute: "zone", Operator: "UNLIKE", Value: "a"}, true},
	} {
		if got := constraintsMatch([]job.Constraint{tc.c}, offer); got != tc.want {
			t.Errorf("%v on %v: %v, want %v", tc.c, offer.Attributes, got, tc.want)
		}
	}
}

func TestTake(t *testing.T) {
	offered := mesos.Resources{mesos.ScalarResource("cpus", 0.25), mesos.ScalarResource("cpus", 1),
		mesos.ScalarResource("mem", 256), mesos.ScalarResource("disk", 512)}
	res, ok := take(offered, &job.Job{CPUs: 0.5, Mem: 128, Disk: 256})
	if !ok {
		t.Fatal("a fitting job does not fit")
	}
	if got := res.Cpus().Float64(); got != 0.5 {
		t.Errorf("cpus %v, want 0.5 (from two pieces)", got)
	}
	if !offered.Contains(res) {
		t.Errorf("took %v, more than offered %v", res, offered)
	}
	if _, ok := take(offered, &job.Job{CPUs: 2, Mem: 128, Disk: 256}); ok {
		t.Error("2 cpus fit into 1.25")
	}
}

func TestRecordJob(t *testing.T) {
	for key, want := range map[string]string{
		"status/etl.daily":                   "etl.daily",
		"run/etl.daily@2024-01-01T00:00:00Z": "etl.daily",
		"run/etl@2024-01-01T00:00:00Z#1":     "etl",
		"run/etl-x!run42":                    "etl-x",
	} {
		if got := recordJob(key); got != want {
			t.Errorf("recordJob(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"hello": "hello", "a b": "'a b'", "it's": `'it'\''s'`, "--x=1": "--x=1"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
