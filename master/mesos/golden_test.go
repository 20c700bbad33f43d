package mesos

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files from the current encoder")

// goldenMessages are representative messages in the shapes Mesos' codec
// produces. Regenerate with `go test -run TestGolden -update` and review the
// diff: a change here is a wire-format change.
func goldenMessages() map[string]any {
	uuid := []byte{0x85, 0x36, 0x8b, 0x43, 0x46, 0xf9, 0x43, 0x53, 0x99, 0xb9, 0xa6, 0xfb, 0x41, 0xc9, 0x29, 0x29}
	failover := 604800.0
	yes := true
	agentPort := int32(5051)
	masterInfo := &MasterInfo{
		ID: "310ffdac-0b73-408d-acf0-2adcd21cb4b7", IP: 16842879, Port: 5050,
		PID: "master@127.0.1.1:5050", Hostname: "m1", Version: "1.11.0",
		Address: &Address{Hostname: "m1", IP: "127.0.1.1", Port: 5050},
		Domain:  Domain("us-east", "us-east-1a"),
	}
	ports := RangesResource("ports", Range{31000, 31099}, Range{31200, 32000})
	reservedCpus := ScalarResource("cpus", 2).Reserve("eng")
	dynMem := ScalarResource("mem", 512)
	dynMem.Reservations = []ReservationInfo{{Type: ReservationDynamic, Role: "eng", Principal: "ops",
		Labels: Labels{{Key: "team", Value: "backend"}}}}
	offered := Resources{ScalarResource("cpus", 0.5), ScalarResource("mem", 1024), reservedCpus, dynMem, ports}.Allocate("eng")

	task := TaskInfo{
		Name: "web-1", TaskID: "web.1", AgentID: "7b0f-S3",
		Resources: MustParseResources("cpus:0.5;mem:128;ports:[31000-31000]").Allocate("eng"),
		Command: &CommandInfo{
			Value:       "./server --port $PORT0",
			URIs:        []CommandURI{{Value: "https://example.com/server.tgz", Extract: &yes}},
			Environment: &Environment{Variables: []EnvironmentVariable{{Name: "PORT0", Value: "31000"}}},
		},
		Container: &ContainerInfo{Type: ContainerDocker, Docker: &DockerInfo{
			Image: "nginx:1.25", Network: DockerNetworkBridge,
			PortMappings: []DockerPortMapping{{HostPort: 31000, ContainerPort: 80, Protocol: "tcp"}},
		}},
		HealthCheck: &HealthCheck{Type: CheckHTTP, HTTP: &HTTPCheckInfo{Scheme: "http", Port: 31000, Path: "/health", Statuses: []uint32{200}},
			GracePeriodSeconds: ptr(30.0)},
		KillPolicy: &KillPolicy{GracePeriod: &DurationInfo{Nanoseconds: 5e9}},
		Labels:     Labels{{Key: "app", Value: "web"}},
		Limits:     map[string]Scalar{"cpus": Infinity(), "mem": ScalarOf(256)},
	}

	getState := &GetState{
		GetAgents: &GetAgents{Agents: []Agent{{
			AgentInfo: &AgentInfo{Hostname: "a1", Port: &agentPort, ID: "7b0f-S3",
				Resources:  must(MustParseResources("cpus:4;mem:4096;ports:[31000-32000];cpus(eng):2").Format(EndpointFormat)),
				Attributes: Attributes{{Name: "rack", Type: ValueText, Text: &Text{Value: "r1"}}},
			},
			Active: true, Version: "strata-0.1", PID: "agent@10.0.0.3:5051",
			RegisteredTime: &TimeInfo{Nanoseconds: 1470820172046531840},
			TotalResources: must(MustParseResources("cpus:4;mem:4096;ports:[31000-32000];cpus(eng):2").Format(EndpointFormat)),
			Capabilities:   []AgentCapability{{Type: AgentCapabilityMultiRole}, {Type: AgentCapabilityHierarchicalRole}},
		}}},
		GetFrameworks: &GetFrameworks{Frameworks: []Framework{{
			FrameworkInfo: &FrameworkInfo{User: "root", Name: "marathon", ID: "7b0f-0000", FailoverTimeout: &failover,
				Roles: []string{"eng"}, Capabilities: []FrameworkCapability{{Type: FrameworkCapabilityMultiRole}}},
			Active: true, Connected: true,
			RegisteredTime: &TimeInfo{Nanoseconds: 1470820172039300864},
		}}},
		GetTasks: &GetTasks{Tasks: []Task{{
			Name: "web-1", TaskID: "web.1", FrameworkID: "7b0f-0000", AgentID: "7b0f-S3", State: TaskRunning,
			Resources: must(MustParseResources("cpus:0.5;mem:128").Allocate("eng").Format(EndpointFormat)),
			Statuses: []TaskStatus{{TaskID: "web.1", State: TaskRunning, Source: SourceExecutor, AgentID: "7b0f-S3",
				Timestamp: 1470820172.07315, UUID: uuid}},
			StatusUpdateState: TaskRunning, StatusUpdateUUID: uuid,
		}}},
		GetExecutors: &GetExecutors{},
	}

	return map[string]any{
		"subscribe_call": &Call{Type: CallSubscribe, Subscribe: &Subscribe{
			FrameworkInfo: &FrameworkInfo{
				User: "root", Name: "marathon", FailoverTimeout: &failover, Checkpoint: &yes,
				Roles: []string{"eng", "ads"}, Hostname: "m1", Principal: "marathon", WebUIURL: "http://m1:8080",
				Capabilities: []FrameworkCapability{{Type: FrameworkCapabilityMultiRole}, {Type: FrameworkCapabilityPartitionAware},
					{Type: FrameworkCapabilityTaskKillingState}},
				Labels: Labels{{Key: "owner", Value: "platform"}},
			},
			SuppressedRoles: []string{"ads"},
		}},
		"subscribed_event": &Event{Type: EventSubscribed, Subscribed: &Subscribed{
			FrameworkID: "7b0f-0000", HeartbeatIntervalSeconds: 15, MasterInfo: masterInfo,
		}},
		"offers_event": &Event{Type: EventOffers, Offers: &Offers{Offers: []Offer{{
			ID: "7b0f-O12", FrameworkID: "7b0f-0000", AgentID: "7b0f-S3", Hostname: "a1",
			Resources:      offered,
			Attributes:     Attributes{{Name: "rack", Type: ValueText, Text: &Text{Value: "r1"}}, {Name: "level", Type: ValueScalar, Scalar: ptr(ScalarOf(2))}},
			ExecutorIDs:    []ExecutorID{"exec-1"},
			AllocationInfo: &AllocationInfo{Role: "eng"},
		}}}},
		"update_event": &Event{Type: EventUpdate, Update: &Update{Status: &TaskStatus{
			TaskID: "web.1", State: TaskRunning, Source: SourceExecutor, AgentID: "7b0f-S3", ExecutorID: "web.1",
			Timestamp: 1700000000.25, UUID: uuid, Healthy: &yes,
			ContainerStatus: &ContainerStatus{NetworkInfos: []NetworkInfo{{IPAddresses: []IPAddress{{IPAddress: "10.0.0.3"}}}}},
		}}},
		"accept_call": &Call{Type: CallAccept, FrameworkID: "7b0f-0000", Accept: &Accept{
			OfferIDs:   []OfferID{"7b0f-O12"},
			Operations: []OfferOperation{{Type: OperationLaunch, Launch: &Launch{TaskInfos: []TaskInfo{task}}}},
			Filters:    RefuseFor(60),
		}},
		"get_state_response": &OperatorResponse{Type: OperatorGetState, GetState: getState},
		"operator_offer_sent": &OperatorEvent{Type: OperatorEventOfferSent, OfferSent: &OfferSent{Offer: &Offer{
			ID: "7b0f-O13", FrameworkID: "7b0f-0000", AgentID: "7b0f-S3", Hostname: "a1",
			Resources: MustParseResources("cpus:1;mem:128").Allocate("eng"), AllocationInfo: &AllocationInfo{Role: "eng"},
		}}},
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestGolden(t *testing.T) {
	for name, msg := range goldenMessages() {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(msg, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from the encoder's output:\n%s", path, got)
			}
			// The golden JSON decodes, validates and re-encodes identically.
			back := newLike(msg)
			if err := DecodeJSON(want, back); err != nil {
				t.Fatalf("golden %s does not decode: %v", name, err)
			}
			again, _ := json.MarshalIndent(back, "", "  ")
			if !bytes.Equal(append(again, '\n'), want) {
				t.Fatalf("decode/encode of %s is not stable:\n%s", name, again)
			}
		})
	}
}

// newLike returns a new zero value of msg's pointed-to type.
func newLike(msg any) any {
	switch msg.(type) {
	case *Call:
		return &Call{}
	case *Event:
		return &Event{}
	case *OperatorResponse:
		return &OperatorResponse{}
	case *OperatorEvent:
		return &OperatorEvent{}
	}
	panic("newLike: add a case")
}
