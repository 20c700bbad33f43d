package mesos

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func TestResourceFormats(t *testing.T) {
	unreserved := ScalarResource("cpus", 1)
	static := ScalarResource("cpus", 2).Reserve("eng")
	dynamic := ScalarResource("mem", 3)
	dynamic.Reservations = []ReservationInfo{{Type: ReservationDynamic, Role: "eng", Principal: "ops"}}
	refined := Resources{ScalarResource("disk", 4).Reserve("eng")}.PushReservation(
		ReservationInfo{Type: ReservationDynamic, Role: "eng/db", Principal: "ops"})[0]
	rs := Resources{unreserved, static, dynamic}

	pre, err := rs.Format(PreRefinement)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(pre)
	want := `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*"},` +
		`{"name":"cpus","type":"SCALAR","scalar":{"value":2},"role":"eng"},` +
		`{"name":"mem","type":"SCALAR","scalar":{"value":3},"role":"eng","reservation":{"principal":"ops"}}]`
	if string(data) != want {
		t.Fatalf("pre-refinement:\n%s\nwant\n%s", data, want)
	}
	if _, err := (Resources{refined}).Format(PreRefinement); err == nil || !strings.Contains(err.Error(), "RESERVATION_REFINEMENT") {
		t.Fatalf("refined reservations cannot be downgraded, got %v", err)
	}

	end, err := Resources{unreserved, dynamic, refined}.Format(EndpointFormat)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = json.Marshal(end)
	want = `[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*"},` +
		`{"name":"mem","type":"SCALAR","scalar":{"value":3},"role":"eng","reservation":{"principal":"ops"},"reservations":[{"type":"DYNAMIC","role":"eng","principal":"ops"}]},` +
		`{"name":"disk","type":"SCALAR","scalar":{"value":4},"reservations":[{"type":"STATIC","role":"eng"},{"type":"DYNAMIC","role":"eng/db","principal":"ops"}]}]`
	if string(data) != want {
		t.Fatalf("endpoint:\n%s\nwant\n%s", data, want)
	}
	// Every format is valid and means the same resources.
	for _, f := range []Resources{pre, end} {
		if err := f.Validate(); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
	}
	if !pre.Equal(rs) || !end.Equal(Resources{unreserved, dynamic, refined}) {
		t.Fatal("formats must not change meaning")
	}
	post, _ := pre.Format(PostRefinement)
	for _, r := range post {
		if r.Role != "" || r.Reservation != nil {
			t.Fatalf("post-refinement still has deprecated fields: %+v", r)
		}
	}
}

func TestConvertResourcesCopiesOnWrite(t *testing.T) {
	shared := &ExecutorInfo{ExecutorID: "e", Resources: MustParseResources("cpus:0.1;mem(eng):32")}
	state := []TaskInfo{{Name: "t", TaskID: "t", AgentID: "a", Resources: MustParseResources("cpus:1"), Executor: shared}}
	ev := &Event{Type: EventOffers, Offers: &Offers{Offers: []Offer{{ID: "o", FrameworkID: "f", AgentID: "a",
		Resources: MustParseResources("cpus:2;mem(eng):64")}}}}
	call := &Call{Type: CallAccept, FrameworkID: "f", Accept: &Accept{Operations: []OfferOperation{{
		Type: OperationLaunch, Launch: &Launch{TaskInfos: state}}}}}

	if err := ConvertResources(ev, PreRefinement); err != nil {
		t.Fatal(err)
	}
	if got := ev.Offers.Offers[0].Resources; got[0].Role != "*" || got[1].Role != "eng" || got[1].Reservations != nil {
		t.Fatalf("offer not downgraded: %+v", got)
	}
	if err := ConvertResources(call, EndpointFormat); err != nil {
		t.Fatal(err)
	}
	converted := call.Accept.Operations[0].Launch.TaskInfos[0]
	if converted.Resources[0].Role != "*" || converted.Executor.Resources[1].Role != "eng" {
		t.Fatalf("call not converted: %+v", converted)
	}
	// The caller's state, reached through shared pointers and slices, is untouched.
	if state[0].Resources[0].Role != "" || shared.Resources[0].Role != "" || shared.Resources[1].Role != "" {
		t.Fatalf("ConvertResources wrote into shared state: %+v %+v", state[0].Resources, shared.Resources)
	}
	if err := ConvertResources(*call, PreRefinement); err == nil {
		t.Fatal("a non-pointer must be refused")
	}
}

func TestMasterInfoAddressing(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want uint32
	}{{"127.0.1.1", 16842879}, {"10.0.0.1", 16777226}, {"::1", 0}, {"::ffff:127.0.1.1", 16842879}} {
		if got := PackIPv4(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("PackIPv4(%s) = %d, want %d", tc.ip, got, tc.want)
		}
	}
	mi := MasterInfo{ID: "m", IP: PackIPv4(netip.MustParseAddr("10.0.0.9")), Port: 5050}
	if got := mi.Endpoint(); got != "10.0.0.9:5050" {
		t.Errorf("Endpoint without address = %q", got)
	}
	mi.Address = &Address{IP: "fd00::9", Port: 5051}
	if got := mi.Endpoint(); got != "[fd00::9]:5051" {
		t.Errorf("Endpoint with IPv6 address = %q", got)
	}
	if _, err := ParseMasterInfo([]byte(`{"ip": 1}`)); err == nil {
		t.Error("master info without id must be refused")
	}
	if _, err := ParseMasterInfo([]byte(`{"id": "m", "port": "x"}`)); err == nil || !strings.Contains(err.Error(), "port") {
		t.Errorf("bad port: %v", err)
	}
}

func TestTaskStates(t *testing.T) {
	terminal := map[TaskState]bool{TaskFinished: true, TaskFailed: true, TaskKilled: true, TaskError: true,
		TaskLost: true, TaskDropped: true, TaskGone: true, TaskGoneByOperator: true}
	if len(TaskStates) != 14 {
		t.Fatalf("%d task states", len(TaskStates))
	}
	for _, s := range TaskStates {
		if !s.IsKnown() || s.IsTerminal() != terminal[s] {
			t.Errorf("%s: known=%v terminal=%v", s, s.IsKnown(), s.IsTerminal())
		}
	}
	if len(TaskStatusReasons) != 35 || !ReasonReconciliation.IsKnown() || TaskStatusReason("REASON_X").IsKnown() {
		t.Errorf("reasons: %d", len(TaskStatusReasons))
	}
}

func TestOperatorEventExtensions(t *testing.T) {
	for _, typ := range []OperatorEventType{OperatorEventOfferSent, OperatorEventOfferAccepted, OperatorEventOfferDeclined, OperatorEventOfferRescinded} {
		if !typ.IsKnown() || typ.IsMesos() || !typ.IsStrataExtension() {
			t.Errorf("%s must be a known Strata extension", typ)
		}
	}
	for _, typ := range []OperatorEventType{OperatorEventSubscribed, OperatorEventTaskAdded, OperatorEventHeartbeat} {
		if !typ.IsMesos() || typ.IsStrataExtension() {
			t.Errorf("%s must be a Mesos type", typ)
		}
	}
	// None of Strata's operator extensions leaks into the scheduler API.
	for _, typ := range []EventType{"OFFER_SENT", "OFFER_ACCEPTED", "OFFER_DECLINED", "OFFER_RESCINDED"} {
		if typ.IsKnown() {
			t.Errorf("scheduler events must not know %s", typ)
		}
	}
}

func TestStatusesThatNeedAcksNameTheirAgent(t *testing.T) {
	uuid := make([]byte, 16)
	ev := &Event{Type: EventUpdate, Update: &Update{Status: &TaskStatus{TaskID: "t", State: TaskRunning, UUID: uuid}}}
	if err := Validate(ev); err == nil || !strings.Contains(err.Error(), "update.status.agent_id: required when uuid is set") {
		t.Fatalf("Validate = %v", err)
	}
	ev.Update.Status.AgentID = "a"
	ev.Update.Status.UUID = uuid[:4]
	if err := Validate(ev); err == nil || !strings.Contains(err.Error(), "update.status.uuid: a UUID is 16 bytes, got 4") {
		t.Fatalf("Validate = %v", err)
	}
	ev.Update.Status.UUID = uuid
	if err := Validate(ev); err != nil {
		t.Fatal(err)
	}
}
