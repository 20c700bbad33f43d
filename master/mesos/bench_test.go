package mesos

import (
	"encoding/json"
	"testing"
)

var benchAgent = MustParseResources("cpus:32;mem:131072;disk:1000000;ports:[31000-32000];cpus(eng):8;mem(eng):16384")
var benchTask = MustParseResources("cpus:0.5;mem:512;ports:[31005-31005]")

func BenchmarkResourcesAdd(b *testing.B) {
	for b.Loop() {
		_ = benchAgent.Add(benchTask...)
	}
}

func BenchmarkResourcesSubtract(b *testing.B) {
	for b.Loop() {
		_ = benchAgent.Subtract(benchTask...)
	}
}

func BenchmarkResourcesContains(b *testing.B) {
	for b.Loop() {
		_ = benchAgent.Contains(benchTask)
	}
}

func BenchmarkDecodeAcceptCall(b *testing.B) {
	data, err := json.Marshal(goldenMessages()["accept_call"])
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeCall(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGetState(b *testing.B) {
	msg := goldenMessages()["get_state_response"]
	for b.Loop() {
		if _, err := json.Marshal(msg); err != nil {
			b.Fatal(err)
		}
	}
}
