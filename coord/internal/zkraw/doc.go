// Package zkraw is a deliberately small ZooKeeper client that speaks the wire
// protocol frame by frame, for tests that must see what a polished client
// hides: the handshake's readOnly flag and session resumption, the exact
// error code and zxid of every reply, the arrival order of watch events
// relative to replies on one connection, op codes go-zookeeper does not
// implement (addWatch, removeWatches, getEphemerals, whoAmI, multiRead …) and
// raw or malformed bytes.
//
//	c, resp, err := zkraw.Dial(addr, zkraw.Session{Timeout: 4 * time.Second})
//	defer c.CloseSession()
//	call, _ := c.Send(jute.OpCreate, &jute.CreateRequest{Path: "/a", ACL: zkraw.OpenACL})
//	r, err := call.Wait()    // r.Err, r.Zxid, r.Seq; r.Decode(&jute.PathResponse{})
//	evs := c.DrainEvents()   // ev.Seq < r.Seq: the event arrived before r
//
// Transcript turns what a client saw into normalized lines (zxids relative
// to a baseline, sessions as s1, s2 …) so two servers can be compared.
//
// Every frame the server sends gets a sequence number in arrival order, so a
// test can tell whether a notification came before or after a reply. The
// package has no retry, no reconnect and no watch bookkeeping: the server's
// behaviour is what the caller observes.
package zkraw
