// Package coord is Strata's coordination layer: the client-side recipes every
// daemon uses (parse a Mesos-style zk:// URL, elect a leader, detect the
// leader, keep small typed JSON objects with compare-and-set and fencing),
// all over github.com/go-zookeeper/zk, so they run unchanged against the
// embedded server in coord/server and against an Apache ZooKeeper ensemble.
//
//	url, _ := coord.ParseURL("zk://h1:2181,h2:2181/strata")
//	sess, _ := coord.Dial(ctx, url)
//	el := sess.Elect(ctx, "master/leader", info) // gained/lost as a lifecycle
//	for lead := range el.Changes() { ... }
package coord
