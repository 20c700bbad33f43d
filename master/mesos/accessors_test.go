package mesos

import (
	"testing"
	"time"
)

func TestEnumsKnowTheirNames(t *testing.T) {
	for _, tc := range []struct {
		known Enum
		bogus Enum
	}{
		{ValueRanges, ValueType("RANGE")},
		{ReservationDynamic, ReservationType("dynamic")},
		{DiskSourceMount, DiskSourceType("NFS")},
		{EnvSecret, EnvironmentVariableType("FILE")},
		{SecretTypeReference, SecretType("REF")},
		{ContainerMesos, ContainerType("RKT")},
		{DockerNetworkUser, DockerNetwork("OVERLAY")},
		{ImageAppc, ImageType("OCI")},
		{VolumeRO, VolumeMode("WO")},
		{VolumeSourceCSIVolume, VolumeSourceType("NFS")},
		{SandboxPathParent, SandboxPathType("CHILD")},
		{IPv6, NetworkProtocol("ipv6")},
		{IPCShareParent, LinuxIPCMode("HOST")},
		{CheckTCP, HealthCheckType("UDP")},
		{ExecutorCustom, ExecutorType("SHELL")},
		{VisibilityExternal, DiscoveryVisibility("PUBLIC")},
		{TaskGoneByOperator, TaskState("TASK_GONE_BY_USER")},
		{SourceAgent, TaskStatusSource("SOURCE_SCHEDULER")},
		{ReasonAgentDraining, TaskStatusReason("REASON_AGENT_ON_FIRE")},
		{FrameworkCapabilityRegionAware, FrameworkCapabilityType("TIME_TRAVEL")},
		{AgentCapabilityTaskResourceLimits, AgentCapabilityType("GPU")},
		{MasterCapabilityQuotaV2, MasterCapabilityType("QUOTA_V3")},
		{OperationLaunchGroup, OfferOperationType("LAUNCH_MANY")},
		{OperationGoneByOperator, OperationState("OPERATION_LOST")},
		{CallUpdateFramework, CallType("UPDATE")},
		{EventRescindInverseOffer, EventType("RESCIND_ALL")},
		{PseudoattributeZone, PseudoattributeType("RACK")},
		{OperatorMarkAgentGone, OperatorCallType("GET_EVERYTHING")},
		{DrainDrained, DrainState("DRAINED_ALREADY")},
		{OperatorEventOfferRescinded, OperatorEventType("OFFER_EATEN")},
	} {
		if !tc.known.IsKnown() || tc.bogus.IsKnown() {
			t.Errorf("%v known=%v, %v known=%v", tc.known, tc.known.IsKnown(), tc.bogus, tc.bogus.IsKnown())
		}
	}
	if !OperationFinished.IsTerminal() || OperationPending.IsTerminal() {
		t.Error("operation terminal states")
	}
}

func TestDefaults(t *testing.T) {
	var hc HealthCheck
	if hc.GetDelaySeconds() != 15 || hc.GetIntervalSeconds() != 10 || hc.GetTimeoutSeconds() != 20 ||
		hc.GetConsecutiveFailures() != 3 || hc.GetGracePeriodSeconds() != 10 {
		t.Errorf("health check defaults: %+v", hc)
	}
	hc.ConsecutiveFailures = ptr(uint32(7))
	if hc.GetConsecutiveFailures() != 7 {
		t.Error("explicit consecutive_failures ignored")
	}
	var cmd *CommandInfo
	if !cmd.GetShell() || (&CommandInfo{Shell: ptr(false)}).GetShell() {
		t.Error("shell defaults to true")
	}
	if !(&CommandURI{}).GetExtract() {
		t.Error("extract defaults to true")
	}
	if (&AgentInfo{}).GetPort() != 5051 {
		t.Error("agent port defaults to 5051")
	}
	var fi FrameworkInfo
	if _, set := fi.GetFailoverTimeout(); set || fi.GetCheckpoint() || fi.GetRoles()[0] != "*" {
		t.Errorf("framework defaults: %+v", fi)
	}
	env := Env(map[string]string{"A": "1"})
	if len(env.Variables) != 1 || env.Variables[0].Name != "A" {
		t.Errorf("Env = %+v", env)
	}
	ls := Labels{{Key: "a", Value: "1"}, {Key: "b"}}
	if v, ok := ls.Get("a"); !ok || v != "1" || ls.String() != "{a: 1, b}" {
		t.Errorf("labels %v", ls)
	}
	c := &ContainerID{Value: "child", Parent: &ContainerID{Value: "parent"}}
	if c.String() != "parent.child" {
		t.Errorf("ContainerID = %s", c)
	}
	if !HasAgentCapability([]AgentCapability{{Type: AgentCapabilityMultiRole}}, AgentCapabilityMultiRole) {
		t.Error("HasAgentCapability")
	}
	if d := ProtoDurationOf(90*time.Second + 5); d.Seconds != 90 || d.Nanos != 5 || d.Duration() != 90*time.Second+5 {
		t.Errorf("ProtoDuration %+v", d)
	}
	if DurationInfoOf(time.Second).Duration() != time.Second || !TimeInfoOf(time.Unix(5, 0)).Time().Equal(time.Unix(5, 0)) {
		t.Error("time conversions")
	}
}

func TestCloneIsDeep(t *testing.T) {
	r := ScalarResource("disk", 10).Reserve("db")
	r.Reservations[0].Labels = Labels{{Key: "k", Value: "v"}}
	r.Disk = &DiskInfo{
		Persistence: &DiskPersistence{ID: "v1"},
		Volume:      &Volume{Mode: VolumeRW, ContainerPath: "data", Source: &VolumeSource{Type: VolumeSourceHostPath, HostPath: &HostPathSource{Path: "/x"}}},
		Source:      &DiskSource{Type: DiskSourceMount, Mount: &DiskRoot{Root: "/mnt"}},
	}
	c := Resources{r}.Clone()[0]
	*c.Scalar = ScalarOf(99)
	c.Reservations[0].Labels[0].Value = "changed"
	c.Disk.Persistence.ID = "v2"
	c.Disk.Volume.Source.HostPath.Path = "/y"
	c.Disk.Source.Mount.Root = "/other"
	if r.Scalar.Cmp(ScalarOf(10)) != 0 || r.Reservations[0].Labels[0].Value != "v" || r.Disk.Persistence.ID != "v1" ||
		r.Disk.Volume.Source.HostPath.Path != "/x" || r.Disk.Source.Mount.Root != "/mnt" {
		t.Fatalf("Clone shares storage with the original: %+v", r)
	}
}
