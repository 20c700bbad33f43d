package server_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/strata-dc/strata/coord/server"
)

func fourLetter(t *testing.T, addr, word string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte(word)); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(nc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestFourLetterWords(t *testing.T) {
	srv := startServer(t, t.TempDir(), func(c *server.Config) {
		c.FourLetterWords = []string{"ruok", "mntr", "cons", "wchs", "dump", "conf", "envi", "isro", "stat"}
	})
	addr := srv.Addr().String()
	c, _ := dial(t, addr, 4*time.Second)
	if _, err := c.Create("/flw", []byte("data"), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.GetW("/flw"); err != nil {
		t.Fatal(err)
	}

	if got := fourLetter(t, addr, "ruok"); got != "imok" {
		t.Errorf("ruok = %q", got)
	}
	if got := fourLetter(t, addr, "isro"); got != "rw" {
		t.Errorf("isro = %q", got)
	}
	srvr := fourLetter(t, addr, "srvr") // always allowed, as in ZooKeeper
	for _, want := range []string{"Zookeeper version: ", "Mode: standalone", "Node count: "} {
		if !strings.Contains(srvr, want) {
			t.Errorf("srvr lacks %q:\n%s", want, srvr)
		}
	}
	mntr := fourLetter(t, addr, "mntr")
	for _, want := range []string{"zk_server_state\tstandalone", "zk_ephemerals_count\t1", "zk_watch_count\t1", "zk_num_alive_connections\t"} {
		if !strings.Contains(mntr, want) {
			t.Errorf("mntr lacks %q:\n%s", want, mntr)
		}
	}
	if cons := fourLetter(t, addr, "cons"); !strings.Contains(cons, "sid=0x") {
		t.Errorf("cons does not show the client's session:\n%s", cons)
	}
	if wchs := fourLetter(t, addr, "wchs"); !strings.Contains(wchs, "1 connections watching 1 paths") {
		t.Errorf("wchs = %q", wchs)
	}
	if dump := fourLetter(t, addr, "dump"); !strings.Contains(dump, "/flw") {
		t.Errorf("dump does not list the ephemeral:\n%s", dump)
	}
	if got := fourLetter(t, addr, "wchc"); got != "wchc is not executed because it is not in the whitelist.\n" {
		t.Errorf("a word outside the whitelist answered %q", got)
	}
	// A four-letter word is not a client: the real client is untouched.
	if _, err := c.Set("/flw", []byte("x"), -1); err != nil {
		t.Fatal(err)
	}
}

func TestAdminMetrics(t *testing.T) {
	srv := startServer(t, t.TempDir(), func(c *server.Config) { c.AdminAddress = "127.0.0.1:0" })
	c, _ := dial(t, srv.Addr().String(), 4*time.Second)
	for _, p := range []string{"/a", "/b", "/c"} {
		if _, err := c.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get("http://" + srv.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s\n%s", resp.Status, body)
	}
	// 3 znodes plus /, /zookeeper, its two children and ZooKeeper's
	// double-counted root: 8, as zk_znode_count would say.
	if !strings.Contains(string(body), "\nznode_count 8.0\n") {
		t.Errorf("znode_count missing or wrong:\n%s", body)
	}
	resp2, err := http.Get("http://" + srv.AdminAddr().String() + "/commands/ruok")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if b, _ := io.ReadAll(resp2.Body); string(b) != "imok" {
		t.Errorf("/commands/ruok = %q", b)
	}
}
