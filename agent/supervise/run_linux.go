package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// detach starts this same command line, less --detach, as the supervisor
// in a session of its own, and waits for it to say it serves. The process
// calling it is meant to exit right after: the supervisor is then
// re-parented to init (or the nearest subreaper) and belongs to no agent.
func detach(ctx context.Context, cfg Config) error {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	logPath := filepath.Join(cfg.Dir, logName)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	defer r.Close()
	env := []string{readyFDEnv + "=3"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, readyFDEnv+"=") {
			env = append(env, kv)
		}
	}
	// /proc/self/exe rather than os.Args[0]: the same binary even if the
	// path was replaced (an upgrade in progress) or was relative.
	p, err := os.StartProcess("/proc/self/exe", withoutDetach(os.Args), &os.ProcAttr{
		Dir:   "/",
		Env:   env,
		Files: []*os.File{devnull, logf, logf, w},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	w.Close()
	if err != nil {
		return fmt.Errorf("supervisor: start: %w", err)
	}
	msg := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 4096))
		msg <- strings.TrimSpace(string(b))
	}()
	select {
	case <-ctx.Done():
		p.Kill()
		p.Release()
		r.Close()
		<-msg
		return fmt.Errorf("supervisor: start: %w", ctx.Err())
	case m := <-msg:
		p.Release()
		switch {
		case m == "ready", m == "running":
			return nil
		case strings.HasPrefix(m, "error: "):
			return errors.New(strings.TrimPrefix(m, "error: "))
		}
		return fmt.Errorf("supervisor: exited before serving; see %s", logPath)
	}
}

func withoutDetach(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if i > 0 && (a == "--detach" || a == "-detach" || a == "--detach=true") {
			continue
		}
		out = append(out, a)
	}
	return out
}
