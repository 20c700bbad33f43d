// Package flw renders ZooKeeper's four-letter words (ruok, srvr, stat, mntr,
// cons, conf, envi, wchs, wchc, wchp, dump, isro, dirs, crst, srst) and the
// Prometheus /metrics page in Apache ZooKeeper 3.8's exact text formats, so
// monitoring scripts, `zkServer.sh status`, zkCli's helpers and exporters
// read the embedded server as they read ZooKeeper.
//
// The package knows nothing of the server: the server copies its figures
// into a plain Snapshot and asks for text.
//
//	word := string(first4)               // a fresh connection's first 4 bytes
//	if !flw.Known(word) { /* a normal jute frame */ }
//	if !flw.Allowed(word, cfg.FourLetterWhitelist) {
//		io.WriteString(conn, flw.NotAllowedMessage(word))
//	} else if out, err := flw.Render(word, srv.snapshot()); err == nil {
//		io.WriteString(conn, out)
//	}
//	conn.Close()                         // ZooKeeper closes after one word
//
// Where ZooKeeper's output comes from Java (Double.toString, Date.toString,
// InetSocketAddress.toString, Long.toHexString of a negative zxid), the same
// spelling is reproduced here; testdata/apache-*.txt holds real Apache
// ZooKeeper 3.8.0 answers and the tests compare our shapes with them.
package flw
