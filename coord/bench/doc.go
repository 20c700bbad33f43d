// Package bench measures a ZooKeeper-protocol server (Apache ZooKeeper or
// strata's own coord server) from the outside, over the wire, with the same
// go-zookeeper client the recipes use. It is the logic behind
// `strata bench coord`; the numbers it prints are the README's benchmark table.
//
// One run against one target is a fixed sequence of phases under a private
// root znode that is removed afterwards:
//
//	memory      (optional) create N small znodes, read the server's VmRSS
//	warm-up     untimed creates, sets, gets, deletes, so a JIT server runs compiled
//	sequential  one session, one create at a time: p50/p99 and ops/s
//	async 32/1  create, set, get, delete with 32 requests in flight on one session
//	async 64/8  the same with 64 in flight spread over 8 sessions
//	watch       A sets, B holds a data watch: set-issued → B's event, p50/p99
//
// go-zookeeper pipelines: a Conn has one send loop that writes each queued
// request without waiting for its reply and one receive loop that matches
// replies to callers by xid, so N goroutines calling Create on one Conn keep
// N requests in flight on one TCP connection (pipeline_test.go proves it
// against a server that answers nothing until it holds 32 requests).
//
//	res, err := bench.Run(ctx, cfg, bench.Target{Label: "zookeeper", Servers: []string{"127.0.0.1:2181"}})
//	bench.WriteTable(os.Stdout, cfg, []*bench.Result{res})
//
// When the target is one loopback address, the server's PID is found from
// its listening socket (ListenerPID), and every phase also reports the CPU
// the client and the server used, which says on a small machine which of
// the two was the bottleneck.
//
// Compare mode runs the same phases against several targets one after the
// other and prints one table with a column per target plus ratios to the
// first, so two servers are measured in one sitting on one machine.
package bench
