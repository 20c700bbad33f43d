package flw

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// gauge is one of the values ZooKeeperServer.registerMetrics publishes; mntr
// prints them after zk_version and zk_server_state, and /metrics exposes
// them as Prometheus gauges.
type gauge struct {
	name  string
	value func(s *Snapshot) any // int64 or float64: Java's Long vs Double spelling
}

// coreGauges are in the order Apache ZooKeeper 3.8.0's mntr prints them
// (its metrics provider's hash order, stable for this set of names).
var coreGauges = []gauge{
	{"ephemerals_count", func(s *Snapshot) any { return int64(s.EphemeralsCount) }},
	{"num_alive_connections", func(s *Snapshot) any { return int64(s.aliveConnections()) }},
	{"avg_latency", func(s *Snapshot) any { return round4(s.AvgLatency) }},
	{"outstanding_requests", func(s *Snapshot) any { return s.Outstanding }},
	{"znode_count", func(s *Snapshot) any { return int64(s.NodeCount) }},
	{"global_sessions", func(s *Snapshot) any { return s.GlobalSessions }},
	{"non_mtls_remote_conn_count", func(*Snapshot) any { return int64(0) }},
	{"last_client_response_size", func(s *Snapshot) any { return s.LastResponseSize }},
	{"packets_sent", func(s *Snapshot) any { return s.Sent }},
	{"packets_received", func(s *Snapshot) any { return s.Received }},
	{"max_client_response_size", func(s *Snapshot) any { return s.MaxResponseSize }},
	{"connection_drop_probability", func(s *Snapshot) any { return s.DropProbability }},
	{"watch_count", func(s *Snapshot) any { return int64(s.WatchCount) }},
	{"auth_failed_count", func(s *Snapshot) any { return s.AuthFailed }},
	{"min_latency", func(s *Snapshot) any { return int64(s.MinLatency) }},
	{"max_file_descriptor_count", func(s *Snapshot) any { return s.MaxFDs }},
	{"approximate_data_size", func(s *Snapshot) any { return s.ApproxDataSize }},
	{"open_file_descriptor_count", func(s *Snapshot) any { return s.OpenFDs }},
	{"local_sessions", func(s *Snapshot) any { return s.LocalSessions }},
	{"uptime", func(s *Snapshot) any { return millis(s.Uptime) }},
	{"max_latency", func(s *Snapshot) any { return int64(s.MaxLatency) }},
	{"outstanding_tls_handshake", func(*Snapshot) any { return int64(0) }},
	{"min_client_response_size", func(s *Snapshot) any { return s.MinResponseSize }},
	{"non_mtls_local_conn_count", func(*Snapshot) any { return int64(0) }},
}

// zkCounters and zkSummaries are the further metrics Apache ZooKeeper 3.8.0's
// mntr prints, in its order: counters, then basic summaries, then summaries
// with percentiles. They fix where a Snapshot's Counters and Summaries go.
var zkCounters = strings.Fields(`
	proposal_count watch_bytes outstanding_changes_removed throttled_ops
	stale_requests_dropped large_requests_rejected insecure_admin_count
	connection_rejected cnxn_closed_without_zk_server_running
	sessionless_connections_expired looking_count dead_watchers_queued
	stale_requests connection_drop_count learner_proposal_received_count
	digest_mismatches_count dead_watchers_cleared response_packet_cache_hits
	bytes_received_count add_dead_watcher_stall_time request_throttle_wait_count
	requests_not_forwarded_to_commit_processor response_packet_cache_misses
	ensemble_auth_success prep_processor_request_queued
	learner_commit_received_count stale_replies connection_request_count
	response_bytes ensemble_auth_fail diff_count
	response_packet_get_children_cache_misses connection_revalidate_count
	quit_leading_due_to_disloyal_voter snap_count unrecoverable_error_count
	unsuccessful_handshake commit_count stale_sessions_expired
	response_packet_get_children_cache_hits sync_processor_request_queued
	outstanding_changes_queued request_commit_queued ensemble_auth_skip
	skip_learner_request_to_next_processor_count tls_handshake_exceeded
	revalidate_count`)

var zkSummaries = strings.Fields(`
	socket_closing_time proposal_process_time leader_unavailable_time
	node_created_watch_count session_queues_drained write_commit_proc_req_queued
	connection_token_deficit read_commit_proc_req_queued node_deleted_watch_count
	startup_txns_load_time sync_processor_queue_size follower_sync_time
	prep_processor_queue_size fsynctime inflight_snap_count
	reads_issued_from_session_queue learner_request_processor_queue_size
	snapshottime unavailable_time startup_txns_loaded
	reads_after_write_in_session_queue requests_in_session_queue
	write_commit_proc_issued prep_process_time pending_session_queue_size
	time_waiting_empty_pool_in_commit_processor_read_ms commit_process_time
	dbinittime inflight_diff_count netty_queued_buffer_capacity election_time
	commit_commit_proc_req_queued sync_processor_batch_size
	node_children_watch_count write_batch_time_in_commit_processor
	read_commit_proc_issued concurrent_request_processing_in_commit_processor
	observer_sync_time node_changed_watch_count sync_process_time
	startup_snap_load_time
	prep_processor_queue_time_ms jvm_pause_time_ms close_session_prep_time
	read_commitproc_time_ms updatelatency local_write_committed_time_ms
	request_throttle_queue_time_ms readlatency quorum_ack_latency
	om_commit_process_time_ms read_final_proc_time_ms commit_propagation_latency
	dead_watchers_cleaner_latency write_final_proc_time_ms
	proposal_ack_creation_latency proposal_latency om_proposal_process_time_ms
	sync_processor_queue_and_flush_time_ms propagation_latency
	server_write_committed_time_ms sync_processor_queue_time_ms
	sync_processor_queue_flush_time_ms write_commitproc_time_ms`)

// inZKOrder lists the keys of m: first those in zkOrder, in that order, then
// the rest sorted.
func inZKOrder[V any](m map[string]V, zkOrder []string) []string {
	out := make([]string, 0, len(m))
	for _, name := range zkOrder {
		if _, ok := m[name]; ok {
			out = append(out, name)
		}
	}
	var rest []string
	for name := range m {
		if !slices.Contains(zkOrder, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// mntr prints "zk_<key>\t<value>" lines: the version and state, the core
// gauges, then the counters and summaries the snapshot carries.
func mntr(b *strings.Builder, s Snapshot) {
	line := func(key string, v any) {
		b.WriteString("zk_" + key + "\t" + javaValue(v) + "\n")
	}
	line("version", s.Version)
	line("server_state", s.ServerState)
	for _, g := range coreGauges {
		line(g.name, g.value(&s))
	}
	for _, name := range inZKOrder(s.Counters, zkCounters) {
		line(name, s.Counters[name])
	}
	for _, name := range inZKOrder(s.Summaries, zkSummaries) {
		sum := s.Summaries[name]
		line("avg_"+name, sum.avg())
		line("min_"+name, sum.Min)
		line("max_"+name, sum.Max)
		line("cnt_"+name, sum.Count)
		line("sum_"+name, sum.Sum)
		for _, q := range sum.Quantiles {
			line(percentileName(q.Q)+"_"+name, int64(math.Round(q.Value)))
		}
	}
}

// avg is AvgMinMaxCounter.getAvg: the mean rounded to four decimals, 0 when
// nothing was counted.
func (s Summary) avg() float64 {
	if s.Count <= 0 {
		return 0
	}
	return round4(float64(s.Sum) / float64(s.Count))
}

// percentileName spells a quantile as ZooKeeper's mntr does: 0.5 → p50,
// 0.95 → p95, 0.999 → p999.
func percentileName(q float64) string {
	digits := strings.TrimPrefix(strconv.FormatFloat(q, 'f', -1, 64), "0.")
	if len(digits) == 1 {
		digits += "0"
	}
	return "p" + digits
}

// javaValue is how MonitorCommand prints a value: integers plainly, other
// numbers through Double.toString, anything else as text.
func javaValue(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		return javaDouble(v)
	case string:
		return v
	}
	return fmt.Sprint(v)
}
