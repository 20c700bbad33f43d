package bench

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestListenerPIDFindsThisProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pid, err := ListenerPID(ln.Addr().String())
	if err != nil {
		t.Fatalf("ListenerPID(%s): %v", ln.Addr(), err)
	}
	if pid != os.Getpid() {
		t.Errorf("ListenerPID(%s) = %d, want this process, %d", ln.Addr(), pid, os.Getpid())
	}
}

func TestListenerPIDRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens on port any more
	for addr, want := range map[string]string{
		"192.0.2.1:2181": "not a loopback",
		"127.0.0.1":      "missing port",
		net.JoinHostPort("127.0.0.1", strconv.Itoa(port)): "nothing listens",
	} {
		if _, err := ListenerPID(addr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ListenerPID(%s) = %v, want an error containing %q", addr, err, want)
		}
	}
}

func TestProcReadsThisProcess(t *testing.T) {
	rss, hwm, err := procMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || hwm < rss {
		t.Errorf("procMemory(self) = rss %d, hwm %d; want 0 < rss <= hwm", rss, hwm)
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := procMemory(-1); err == nil {
		t.Error("procMemory(-1) succeeded")
	}
}
