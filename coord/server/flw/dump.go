package flw

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The watch words and dump print ZooKeeper's hash maps, whose order is an
// accident of Java hashing. We print sessions in ascending id and paths in
// byte order, so the same state always gives the same text.

// watchSummary is wchs: distinct watching sessions, distinct watched paths,
// and (session, path) pairs.
func watchSummary(b *strings.Builder, ws []Watch) {
	bySession, byPath := indexWatches(ws)
	total := 0
	for _, paths := range bySession {
		total += len(paths)
	}
	fmt.Fprintf(b, "%d connections watching %d paths\nTotal watches:%d\n", len(bySession), len(byPath), total)
}

// watchesBySession is wchc: each session, then a tab-indented path per line,
// then the blank line ZooKeeper ends every watch word with.
func watchesBySession(b *strings.Builder, ws []Watch) {
	bySession, _ := indexWatches(ws)
	for _, id := range sortedKeys(bySession) {
		b.WriteString("0x" + javaHex(id) + "\n")
		for _, p := range bySession[id] {
			b.WriteString("\t" + p + "\n")
		}
	}
	b.WriteByte('\n')
}

// watchesByPath is wchp: each path, then a tab-indented session per line.
func watchesByPath(b *strings.Builder, ws []Watch) {
	_, byPath := indexWatches(ws)
	for _, p := range sortedKeys(byPath) {
		b.WriteString(p + "\n")
		for _, id := range byPath[p] {
			b.WriteString("\t0x" + javaHex(id) + "\n")
		}
	}
	b.WriteByte('\n')
}

// indexWatches groups watches both ways, dropping duplicates and sorting each
// group.
func indexWatches(ws []Watch) (bySession map[int64][]string, byPath map[string][]int64) {
	bySession = map[int64][]string{}
	byPath = map[string][]int64{}
	seen := map[Watch]bool{}
	for _, w := range ws {
		if seen[w] {
			continue
		}
		seen[w] = true
		bySession[w.Session] = append(bySession[w.Session], w.Path)
		byPath[w.Path] = append(byPath[w.Path], w.Session)
	}
	for _, paths := range bySession {
		slices.Sort(paths)
	}
	for _, ids := range byPath {
		slices.Sort(ids)
	}
	return bySession, byPath
}

// dump is ZooKeeper's dump word: the session expiry queue, the ephemeral
// nodes by session, and the connection expiry queue.
func dump(b *strings.Builder, s Snapshot) {
	b.WriteString("SessionTracker dump:\n")
	sessions := make([]expiring, len(s.Sessions))
	for i, se := range s.Sessions {
		sessions[i] = expiring{at: se.Expires, id: se.ID, line: "0x" + javaHex(se.ID)}
	}
	expiryQueue(b, "Session", sessions)

	b.WriteString("ephemeral nodes dump:\n")
	fmt.Fprintf(b, "Sessions with Ephemerals (%d):\n", len(s.Ephemerals))
	for _, id := range sortedKeys(s.Ephemerals) {
		b.WriteString("0x" + javaHex(id) + ":\n")
		paths := slices.Clone(s.Ephemerals[id])
		slices.Sort(paths)
		for _, p := range paths {
			b.WriteString("\t" + p + "\n")
		}
	}

	b.WriteString("Connections dump:\n")
	conns := make([]expiring, len(s.Connections))
	for i, c := range s.Connections {
		conns[i] = expiring{at: c.Expires, id: c.SessionID,
			line: "ip: " + javaSocketAddr(c.Remote) + " sessionId: 0x" + javaHex(c.SessionID)}
	}
	expiryQueue(b, "Connections", conns)
}

// expiring is one element of an ExpiryQueue dump.
type expiring struct {
	at   time.Time
	id   int64
	line string
}

// expiryQueue is ExpiryQueue.dump: "<name> Sets (buckets)/(elements):", then
// each expiry bucket in time order with its elements tab-indented.
func expiryQueue(b *strings.Builder, name string, es []expiring) {
	es = slices.Clone(es)
	slices.SortStableFunc(es, func(x, y expiring) int {
		return cmp.Or(x.at.Compare(y.at), cmp.Compare(x.id, y.id))
	})
	buckets := 0
	for i := range es {
		if i == 0 || !es[i].at.Equal(es[i-1].at) {
			buckets++
		}
	}
	fmt.Fprintf(b, "%s Sets (%d)/(%d):\n", name, buckets, len(es))
	for i := 0; i < len(es); {
		j := i
		for j < len(es) && es[j].at.Equal(es[i].at) {
			j++
		}
		fmt.Fprintf(b, "%d expire at %s:\n", j-i, javaDate(es[i].at))
		for _, e := range es[i:j] {
			b.WriteString("\t" + e.line + "\n")
		}
		i = j
	}
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
