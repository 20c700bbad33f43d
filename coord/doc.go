// Package coord is Strata's coordination layer on the client side: the
// recipes every daemon uses — parse a Mesos-style zk:// URL, hold a session,
// elect a leader, detect the leader, keep small typed JSON objects with
// compare-and-set and fencing — all over github.com/go-zookeeper/zk, so they
// run unchanged against the embedded server in coord/server and against an
// Apache ZooKeeper ensemble.
//
// A leader's life, as master, marathon and chronos live it:
//
//	url, err := coord.ParseURL("zk://h1:2181,h2:2181,h3:2181/strata")
//	sess, err := coord.Dial(ctx, coord.Config{URL: url})
//	defer sess.Close()
//	cand, err := sess.Elect("master/leader", infoJSON) // json.info_NNNNNNNNNN
//	for term := range cand.Terms() { // gained
//		runLeader(term.Context(), term.Store()) // returns when term.Done() closes: lost
//	}
//
// and a follower's or client's:
//
//	leaders, err := sess.WatchLeader(ctx, "master/leader")
//	for l := range leaders { // l.Node == "" while there is none
//		redirectTo(l.Info)
//	}
//
// Objects live one per node; a leader writes through its term's Store, so
// the server refuses its writes once it is deposed:
//
//	app, ver, err := coord.Get[App](ctx, st, "marathon/apps/web")  // ver == coord.Absent if missing
//	ver, err = st.CAS(ctx, "marathon/apps/web", app, ver)           // coord.ErrVersionConflict, coord.ErrFenced
//	_, err = st.Commit(ctx, coord.SetOp("marathon/apps/web", app, ver), coord.DeleteOp("marathon/queue/web", coord.Any))
//
// Session states: Connected, Disconnected (the session may live on; the
// client reconnects) and Expired (told by the server, or presumed after a
// disconnect longer than the session timeout, as Mesos does). After expiry
// the Session makes a new ZooKeeper session by itself; candidates enter
// again with new nodes. A term ends the moment leadership may be lost:
// expiry, or a disconnect (immediately by default; Config.LeaderGrace lets
// a term ride out a short one). Fencing, not the term, is what keeps a
// deposed leader's writes out: every write of a term's Store includes, in
// one multi, a check that the term's ephemeral election node still exists.
//
// Paths given to this package are relative to the URL's chroot, which
// Dial creates. In the in-process mode a daemon starts coord/server's
// embedded server and dials it at zk://127.0.0.1:<port>/strata like any
// other ensemble.
//
// TLS to ZooKeeper's secureClientPort is Config.TLS, beside the URL rather
// than in it (the zk:// form is Mesos' and has no place for it); the
// daemons' --zk-tls-ca, --zk-tls-cert and --zk-tls-key fill it in.
package coord
