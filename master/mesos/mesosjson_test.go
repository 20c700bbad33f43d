package mesos

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

// JSON written by hand in the shapes Mesos documents and emits (doubles
// with and without decimal points, "role": "*", proto3-style strings for
// 64-bit integers, explicit nulls, unknown fields) must decode, validate
// and mean what Mesos means by it.
func TestMesosShapedJSON(t *testing.T) {
	read := func(t *testing.T, name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", "mesos", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	call := func(t *testing.T, name string) *Call {
		t.Helper()
		c, err := DecodeCall(read(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	event := func(t *testing.T, name string) *Event {
		t.Helper()
		var e Event
		if err := DecodeJSON(read(t, name), &e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return &e
	}
	op := func(t *testing.T, name string) *OperatorCall {
		t.Helper()
		c, err := DecodeOperatorCall(read(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	response := func(t *testing.T, name string) *OperatorResponse {
		t.Helper()
		var r OperatorResponse
		if err := DecodeJSON(read(t, name), &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return &r
	}

	t.Run("subscribe", func(t *testing.T) {
		c := call(t, "subscribe_call.json")
		fi := c.Subscribe.FrameworkInfo
		if c.Type != CallSubscribe || fi.User != "foo" || !fi.HasCapability(FrameworkCapabilityMultiRole) {
			t.Fatalf("%+v", c)
		}
		if got := fi.GetRoles(); len(got) != 2 || got[1] != "test2" {
			t.Fatalf("roles %v", got)
		}
		if ft, ok := fi.GetFailoverTimeout(); !ok || ft != 2419200 {
			t.Fatalf("failover_timeout %v %v", ft, ok)
		}
		g := c.Subscribe.OfferConstraints.RoleConstraints["test1"].Groups[0].AttributeConstraints[0]
		if g.Selector.AttributeName != "foo" || g.Predicate.Exists == nil {
			t.Fatalf("constraint %+v", g)
		}
	})
	t.Run("accept", func(t *testing.T) {
		c := call(t, "accept_call.json")
		task := c.Accept.Operations[0].Launch.TaskInfos[0]
		if task.TaskID != "12220-3440-12532-my-task" || task.Executor.ExecutorID != "12214-23523-my-executor" ||
			!task.Executor.Command.GetShell() {
			t.Fatalf("%+v", task)
		}
		if !task.Resources.Equal(MustParseResources("cpus:1;mem:128").Allocate("engineering")) {
			t.Fatalf("resources %v", task.Resources)
		}
		if !task.Limits["cpus"].IsInf(1) || task.Limits["mem"].Cmp(ScalarOf(512)) != 0 {
			t.Fatalf("limits %v", task.Limits)
		}
		if c.Accept.Filters.GetRefuseSeconds() != 5 {
			t.Fatalf("filters %+v", c.Accept.Filters)
		}
	})
	t.Run("decline", func(t *testing.T) {
		c := call(t, "decline_call.json")
		if len(c.Decline.OfferIDs) != 2 || c.Decline.Filters.GetRefuseSeconds() != 60 {
			t.Fatalf("%+v", c.Decline)
		}
		var none *Filters
		if none.GetRefuseSeconds() != DefaultRefuseSeconds {
			t.Fatal("nil filters must give the default")
		}
	})
	t.Run("implicit reconcile", func(t *testing.T) {
		c := call(t, "reconcile_call.json")
		if c.Reconcile == nil || len(c.Reconcile.Tasks) != 0 {
			t.Fatalf("%+v", c.Reconcile)
		}
	})
	t.Run("acknowledge", func(t *testing.T) {
		c := call(t, "acknowledge_call.json")
		want, _ := base64.StdEncoding.DecodeString("hTaLQ0b5Q1OZuab7QclTKQ==")
		if !bytes.Equal(c.Acknowledge.UUID, want) || c.Acknowledge.AgentID != "12220-3440-12532-S1233" {
			t.Fatalf("%+v", c.Acknowledge)
		}
	})
	t.Run("kill with string nanoseconds", func(t *testing.T) {
		c := call(t, "kill_call.json")
		if c.Kill.KillPolicy.GracePeriod.Nanoseconds != 3e9 {
			t.Fatalf("%+v", c.Kill.KillPolicy.GracePeriod)
		}
	})
	t.Run("offers", func(t *testing.T) {
		e := event(t, "offers_event.json")
		o := e.Offers.Offers[0]
		if o.ID != "12214-23523-O235235" || o.AllocationInfo.Role != "engineering" || o.Attributes[0].Text.Value != "ubuntu16.04" {
			t.Fatalf("%+v", o)
		}
		if got := o.Resources.Ports(); !got.Equal(Ranges{{31000, 31999}, {33000, 33000}}) {
			t.Fatalf("ports %v", got)
		}
		mem := o.Resources.Named("mem")[0]
		if mem.ReservationRole() != "engineering" || !mem.IsDynamicallyReserved() {
			t.Fatalf("mem %+v", mem)
		}
		if !o.Resources.Unreserved().Equal(MustParseResources("cpus:2;ports:[31000-31999,33000-33000]").Allocate("engineering")) {
			t.Fatalf("unreserved %v", o.Resources.Unreserved())
		}
	})
	t.Run("update", func(t *testing.T) {
		s := event(t, "update_event.json").Update.Status
		if s.State != TaskRunning || s.Healthy == nil || *s.Healthy || string(s.Data) != "hello" || len(s.UUID) != 16 ||
			s.Reason != ReasonTaskHealthCheckStatusUpdated || s.UnreachableTime.Nanoseconds != 1470820172046531840 {
			t.Fatalf("%+v", s)
		}
	})
	t.Run("error", func(t *testing.T) {
		if e := event(t, "error_event.json"); e.Type != EventError || e.Error.Message != "Framework failed over" {
			t.Fatalf("%+v", e)
		}
	})
	t.Run("get_state", func(t *testing.T) {
		st := response(t, "get_state_response.json").GetState
		a := st.GetAgents.Agents[0]
		if !a.Active || a.AgentInfo.GetPort() != 5051 || !a.TotalResources.Equal(MustParseResources("cpus:2;ports:[31000-32000]")) {
			t.Fatalf("agent %+v", a)
		}
		fw := st.GetFrameworks.Frameworks[0].FrameworkInfo
		if fw.GetRoles()[0] != "*" || fw.GetCheckpoint() {
			t.Fatalf("framework %+v", fw)
		}
		if ft, ok := fw.GetFailoverTimeout(); !ok || ft != 0 {
			t.Fatalf("an explicit 0.0 failover timeout must read as set: %v %v", ft, ok)
		}
		done := st.GetTasks.CompletedTasks[0]
		if done.State != TaskFinished || !done.State.IsTerminal() || done.Statuses[0].ContainerStatus.NetworkInfos[0].IPAddresses[0].IPAddress != "10.1.2.7" {
			t.Fatalf("task %+v", done)
		}
		if st.GetExecutors.Executors[0].ExecutorInfo.ExecutorID != "default" {
			t.Fatalf("executors %+v", st.GetExecutors)
		}
	})
	t.Run("get_master", func(t *testing.T) {
		mi := response(t, "get_master_response.json").GetMaster.MasterInfo
		if mi.Endpoint() != "myhost:34626" || UnpackIPv4(mi.IP).String() != "127.0.1.1" {
			t.Fatalf("%+v", mi)
		}
	})
	t.Run("quota", func(t *testing.T) {
		q := response(t, "get_quota_response.json").GetQuota.Status.Configs[0]
		if q.Role != "dev" || q.Limits["mem"].Cmp(ScalarOf(2048)) != 0 || q.Guarantees["cpus"].Cmp(ScalarOf(1)) != 0 {
			t.Fatalf("%+v", q)
		}
		u := op(t, "update_quota_call.json").UpdateQuota
		if len(u.QuotaConfigs) != 2 || u.QuotaConfigs[1].Limits["disk"].Cmp(ScalarOf(512)) != 0 {
			t.Fatalf("%+v", u)
		}
	})
	t.Run("drain", func(t *testing.T) {
		d := op(t, "drain_agent_call.json").DrainAgent
		if d.MaxGracePeriod.Duration().Seconds() != 600 || d.MarkGone == nil || *d.MarkGone {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("reserve", func(t *testing.T) {
		r := op(t, "reserve_resources_call.json").ReserveResources
		if r.Source[0].ReservationRole() != "role_a" || r.Resources[0].ReservationRole() != "role_b" {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("master info", func(t *testing.T) {
		mi, err := ParseMasterInfo(read(t, "master_info.json"))
		if err != nil {
			t.Fatal(err)
		}
		if mi.Endpoint() != "m1.example.com:5050" || UnpackIPv4(mi.IP).String() != "10.0.0.1" || len(mi.Capabilities) != 3 {
			t.Fatalf("%+v", mi)
		}
	})
}
