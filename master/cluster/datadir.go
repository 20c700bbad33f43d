package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/strata-dc/strata/agent/supervise"
)

// savedState is cluster.json: the ports of the last run, so a restarted
// cluster comes back at the same addresses.
type savedState struct {
	IP         string         `json:"ip,omitempty"`
	CoordPort  int            `json:"coord_port,omitempty"`
	MasterPort int            `json:"master_port,omitempty"`
	AgentPorts []int          `json:"agent_ports,omitempty"`
	Components map[string]int `json:"components,omitempty"`
}

// loadState reads cluster.json; a missing or unreadable file means a
// first start (ports are then picked afresh), never a failure.
func loadState(path string, log *slog.Logger) savedState {
	var s savedState
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s
	}
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		log.Warn("ignoring unreadable cluster state; picking new ports", "path", path, "err", err)
		return savedState{}
	}
	return s
}

func saveState(path string, s savedState) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("cluster state: %w", err)
	}
	if err := supervise.WriteFileDurably(path, append(b, '\n')); err != nil {
		return fmt.Errorf("cluster state %s: %w", path, err)
	}
	return nil
}

// lockDataDir makes sure one `strata up` at a time uses a data dir: two
// would share the agents' work dirs and supervisors.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "up.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(b))
			return nil, fmt.Errorf("cluster: data dir %s is in use by another strata up (pid %s)", dir, pid)
		}
		return nil, fmt.Errorf("cluster: lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// ensureToken returns the operator token in path, generating one (32
// random bytes, hex) with mode 0600 on first start.
func ensureToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("cluster: operator token %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("cluster: operator token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("cluster: operator token %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("cluster: operator token %s: %w", path, err)
	}
	return tok, nil
}

// LocalCoord is the coord address (host:port) of the `strata up` cluster
// in dataDir, from its cluster.json, so `strata coord ls` finds it by
// default; ok is false when there is none.
func LocalCoord(dataDir string) (addr string, ok bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "cluster.json"))
	if err != nil {
		return "", false
	}
	var s savedState
	if json.Unmarshal(b, &s) != nil || s.CoordPort == 0 {
		return "", false
	}
	if s.IP == "" {
		s.IP = "127.0.0.1"
	}
	return net.JoinHostPort(s.IP, strconv.Itoa(s.CoordPort)), true
}
