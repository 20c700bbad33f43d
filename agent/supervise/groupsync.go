package supervise

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// WriteFileAtomically replaces path with data through a temporary file
// renamed over it, so readers (and a crash) see the old or the new
// content, never a mix; it does not wait for the disk. A SyncFS (or a
// GroupSync) afterwards makes it durable.
func WriteFileAtomically(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncFS makes everything written to the file system holding dir durable
// — file contents, new files, renames — with one syncfs(2).
func SyncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// GroupSync shares one SyncFS among concurrent writers (group commit): a
// writer writes its files atomically, then calls Sync, which returns once
// a sync that started after the call has finished. Writers arriving while
// a sync runs are covered together by the next one, so a burst of N
// launches costs a few syncs instead of 2N fsyncs.
type GroupSync struct {
	Dir string

	mu      sync.Mutex
	cond    *sync.Cond
	asked   uint64 // Sync calls so far
	done    uint64 // calls covered by a finished sync
	running bool
	errs    map[uint64]error // the failed rounds, by the last call they cover
}

// Sync blocks until everything the caller wrote before calling is
// durable.
func (g *GroupSync) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.asked++
	me := g.asked
	for g.done < me {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		cover := g.asked
		from := g.done
		g.mu.Unlock()
		err := SyncFS(g.Dir)
		g.mu.Lock()
		g.running = false
		g.done = cover
		if err != nil {
			if g.errs == nil {
				g.errs = map[uint64]error{}
			}
			for c := from + 1; c <= cover; c++ {
				g.errs[c] = err
			}
		}
		g.cond.Broadcast()
	}
	err := g.errs[me]
	delete(g.errs, me)
	return err
}

// writeJSONGrouped writes v's JSON to path atomically and returns once it
// is durable, sharing the sync with concurrent writers.
func writeJSONGrouped(g *GroupSync, path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := WriteFileAtomically(path, append(b, '\n')); err != nil {
		return err
	}
	return g.Sync()
}
