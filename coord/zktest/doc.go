// Package zktest starts real ZooKeeper-protocol servers for tests: Apache
// ZooKeeper 3.8 from Debian's package (standalone or as a loopback ensemble)
// and Strata's embedded server, plus the tools the recipe tests need to break
// sessions on purpose (a cuttable TCP proxy, a raw closeSession).
//
// Every server runs on 127.0.0.1 with ephemeral ports and data in
// t.TempDir(), and is killed by PID in t.Cleanup. Suites run table-driven
// over Servers():
//
//	for _, srv := range zktest.Servers() {
//		t.Run(srv.Name, func(t *testing.T) {
//			addr := srv.Start(t) // skips with the reason when unavailable
//			...
//		})
//	}
//
// ApacheWith and EmbeddedWith start one server with extra settings (JVM
// system properties for Apache, a Config adjustment for the embedded one),
// e.g. to compare authentication enforcement on both.
package zktest
