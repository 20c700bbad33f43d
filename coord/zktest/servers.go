package zktest

import "testing"

// Server names a ZooKeeper-protocol server a suite can run against. Start
// returns its client address (127.0.0.1:port); it skips the test when the
// server cannot run on this machine and stops the server in t.Cleanup.
type Server struct {
	Name  string
	Start func(testing.TB) string
}

// Servers lists every server the recipes must work against, embedded first.
func Servers() []Server {
	return []Server{
		{Name: "embedded", Start: Embedded},
		{Name: "apache", Start: Apache},
	}
}
