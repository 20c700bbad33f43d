package flw

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrUnknown is returned by Render for a word ZooKeeper does not know. A
// server that sees one should treat the four bytes as a frame length, as
// ZooKeeper does (which in practice closes the connection).
var ErrUnknown = errors.New("not a four-letter word")

// ErrUnsupported is returned by Render for words ZooKeeper knows but the
// embedded server does not answer: gtmk and stmk (log4j trace masks) and
// hash (quorum digests).
var ErrUnsupported = errors.New("four-letter word not supported by this server")

// notServing is ZooKeeper's answer while the database is not loaded.
const notServing = "This ZooKeeper instance is not currently serving requests\n"

// known is ZooKeeper 3.8's set of four-letter words (FourLetterCommands).
var known = map[string]bool{
	"conf": true, "cons": true, "crst": true, "dirs": true, "dump": true,
	"envi": true, "gtmk": true, "ruok": true, "stmk": true, "srst": true,
	"srvr": true, "stat": true, "wchc": true, "wchp": true, "wchs": true,
	"mntr": true, "isro": true, "hash": true,
}

// Known reports whether cmd is one of ZooKeeper's four-letter words. Only a
// known word arriving as a connection's first four bytes is a command;
// anything else is the length prefix of a jute frame.
func Known(cmd string) bool { return known[cmd] }

// Allowed applies ZooKeeper's 4lw.commands.whitelist: entries may be
// comma-separated lists themselves and are trimmed, "*" allows every known
// word, and srvr is always allowed because zkServer.sh status depends on it.
func Allowed(cmd string, whitelist []string) bool {
	if !Known(cmd) {
		return false
	}
	if cmd == "srvr" {
		return true
	}
	for _, entry := range whitelist {
		for _, w := range strings.Split(entry, ",") {
			w = strings.TrimSpace(w)
			if w == "*" || w == cmd {
				return true
			}
		}
	}
	return false
}

// NotAllowedMessage is ZooKeeper's exact reply to a known word that the
// whitelist does not allow.
func NotAllowedMessage(cmd string) string {
	return cmd + " is not executed because it is not in the whitelist.\n"
}

// Render answers one four-letter word from s, byte for byte as Apache
// ZooKeeper 3.8 lays it out. crst and srst only word the reply: the caller
// resets its connection or server figures itself.
func Render(cmd string, s Snapshot) (string, error) {
	if !Known(cmd) {
		return "", fmt.Errorf("%q: %w", cmd, ErrUnknown)
	}
	switch cmd {
	case "ruok":
		return "imok", nil
	case "isro":
		switch {
		case s.NotServing:
			return "null", nil
		case s.ReadOnly:
			return "ro", nil
		}
		return "rw", nil
	case "envi":
		return envi(s.Env), nil
	case "gtmk", "stmk", "hash":
		return "", fmt.Errorf("%q: %w", cmd, ErrUnsupported)
	}
	if s.NotServing {
		return notServing, nil
	}
	var b strings.Builder
	switch cmd {
	case "srvr":
		stat(&b, s, false)
	case "stat":
		stat(&b, s, true)
	case "cons":
		for _, c := range s.Connections {
			b.WriteString(connLine(c, false))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	case "conf":
		conf(&b, s.Conf)
	case "dirs":
		fmt.Fprintf(&b, "datadir_size: %d\nlogdir_size: %d\n", s.Conf.DataDirSize, s.Conf.DataLogSize)
	case "mntr":
		mntr(&b, s)
	case "wchs":
		watchSummary(&b, s.Watches)
	case "wchc":
		watchesBySession(&b, s.Watches)
	case "wchp":
		watchesByPath(&b, s.Watches)
	case "dump":
		dump(&b, s)
	case "crst":
		b.WriteString("Connection stats reset.\n")
	case "srst":
		b.WriteString("Server stats reset.\n")
	}
	return b.String(), nil
}

// stat is srvr, and with clients the stat word, which adds one brief line
// per connection.
func stat(b *strings.Builder, s Snapshot, clients bool) {
	b.WriteString("Zookeeper version: " + s.Version + "\n")
	if s.ReadOnly {
		b.WriteString("READ-ONLY mode; serving only read-only clients\n")
	}
	if clients {
		b.WriteString("Clients:\n")
		for _, c := range s.Connections {
			b.WriteString(connLine(c, true))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(b, "Latency min/avg/max: %d/%s/%d\n", int64(s.MinLatency), javaDouble(round4(s.AvgLatency)), int64(s.MaxLatency))
	fmt.Fprintf(b, "Received: %d\n", s.Received)
	fmt.Fprintf(b, "Sent: %d\n", s.Sent)
	fmt.Fprintf(b, "Connections: %d\n", s.aliveConnections())
	fmt.Fprintf(b, "Outstanding: %d\n", s.Outstanding)
	fmt.Fprintf(b, "Zxid: 0x%s\n", javaHex(s.Zxid))
	fmt.Fprintf(b, "Mode: %s\n", s.ServerState)
	fmt.Fprintf(b, "Node count: %d\n", s.NodeCount)
}

// connLine is ServerCnxn.dumpConnectionInfo: the brief form for stat, the
// full form (session fields once a session exists) for cons.
func connLine(c Conn, brief bool) string {
	var b strings.Builder
	b.WriteString(" " + javaSocketAddr(c.Remote) + "[")
	b.WriteString(strconv.FormatInt(int64(c.InterestOps), 16))
	fmt.Fprintf(&b, "](queued=%d,recved=%d,sent=%d", c.Queued, c.Received, c.Sent)
	if !brief && c.SessionID != 0 {
		lop := c.LastOp
		if lop == "" {
			lop = "NA"
		}
		fmt.Fprintf(&b, ",sid=0x%s,lop=%s,est=%d,to=%d", javaHex(c.SessionID), lop, epochMillis(c.Established), millis(c.Timeout))
		if c.LastCxid >= 0 {
			b.WriteString(",lcxid=0x" + javaHex(c.LastCxid))
		}
		fmt.Fprintf(&b, ",lzxid=0x%s,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			javaHex(c.LastZxid), epochMillis(c.LastResponse), c.LastLatency, c.MinLatency, c.AvgLatency, c.MaxLatency)
	}
	b.WriteByte(')')
	return b.String()
}

// conf is ZooKeeperServer.dumpConf. The embedded server has no secure port,
// uses the OS listen backlog and is server 0, as a standalone ZooKeeper is.
func conf(b *strings.Builder, c Conf) {
	fmt.Fprintf(b, "clientPort=%d\n", c.ClientPort)
	b.WriteString("secureClientPort=-1\n")
	fmt.Fprintf(b, "dataDir=%s\n", c.DataDir)
	fmt.Fprintf(b, "dataDirSize=%d\n", c.DataDirSize)
	fmt.Fprintf(b, "dataLogDir=%s\n", c.DataLogDir)
	fmt.Fprintf(b, "dataLogSize=%d\n", c.DataLogSize)
	fmt.Fprintf(b, "tickTime=%d\n", millis(c.TickTime))
	fmt.Fprintf(b, "maxClientCnxns=%d\n", c.MaxClientCnxns)
	fmt.Fprintf(b, "minSessionTimeout=%d\n", millis(c.MinSessionTimeout))
	fmt.Fprintf(b, "maxSessionTimeout=%d\n", millis(c.MaxSessionTimeout))
	b.WriteString("clientPortListenBacklog=-1\n")
	b.WriteString("serverId=0\n")
}

// envi answers even when the server is not serving, as ZooKeeper's does.
func envi(env []KV) string {
	var b strings.Builder
	b.WriteString("Environment:\n")
	for _, kv := range env {
		b.WriteString(kv.Key + "=" + kv.Value + "\n")
	}
	return b.String()
}

// ZooKeeperVersion is the Apache ZooKeeper release whose wire protocol and
// four-letter-word formats the embedded server follows.
const ZooKeeperVersion = "3.8.0"

// FullVersion spells the server's version the way ZooKeeper 3.8's
// Version.getFullVersion does, "3.8.0-strata-<version>, built on
// 2006-01-02 15:04 UTC", so tools that read the ZooKeeper release from srvr
// or mntr see the protocol level the server speaks.
func FullVersion(version string, built time.Time) string {
	return ZooKeeperVersion + "-strata-" + version + ", built on " + built.UTC().Format("2006-01-02 15:04") + " UTC"
}

// aliveConnections is AliveConnections, or the number of Connections listed
// when the caller left it 0: a server answering a word has at least the
// asking connection open, so 0 can only mean "not filled in".
func (s *Snapshot) aliveConnections() int {
	if s.AliveConnections == 0 {
		return len(s.Connections)
	}
	return s.AliveConnections
}
