// Package tree is the ZooKeeper data tree behind the embedded server: a pure
// state machine that turns requests into results, log records and watch
// notifications, with ZooKeeper 3.8's semantics (stat fields, sequential
// names, ACLs, one-shot and persistent watches, atomic multi, containers and
// TTL nodes, sessions and their ephemerals). It does no I/O of its own, reads
// no clock (the caller passes Now) and starts no goroutine; one goroutine
// owns a Tree.
//
//	t := tree.New()                    // or tree.ReadSnapshot(f), then t.Replay(txn)… for each logged txn
//	res := t.CreateSession(ctx, id, timeout, passwd)
//	res = t.Exec(ctx, jute.OpCreate, req)
//	log(res.Txn)                       // durable before answering: every write, failed ones too
//	reply(res.Zxid, res.Err, res.Resp) // after the watch events it caused:
//	for _, ev := range res.Events { notify(ev.Session, ev.Ev) }
//	for _, p := range t.Expirable(now) { t.Exec(tree.Ctx{Now: now}, jute.OpDeleteContainer, &jute.PathRequest{Path: p}) }
//
// Where ZooKeeper 3.8.0 (Debian's build, which also filters watch events by
// the watcher's READ permission) misbehaves, the doc comment of the function
// concerned says what this package does instead.
package tree
