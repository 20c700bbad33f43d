package supervise

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// forkSpec is one fork+exec of a task's leader.
type forkSpec struct {
	path    string
	argv    []string
	env     []string
	dir     string
	files   []uintptr // stdin, stdout, stderr
	cred    *syscall.Credential
	cgroups map[string]string // nil: no cgroups
}

// forkTask starts the task's leader in a new session (so it leads its own
// process group and session and has no controlling terminal) and, with
// cgroups, inside the task's cgroups from its first instruction: a process
// moved in after the fork could already have forked children outside.
//
// cgroup v1 has no clone-into-cgroup (that is v2's CLONE_INTO_CGROUP), and
// Go has no hook between fork and exec, so the fork happens on a thread
// that first moves itself into the task's cgroups (v1 lets single threads
// move): the child inherits the forking thread's cgroups. That thread is
// then thrown away (its goroutine exits while locked to it), so no other
// goroutine ever runs in a task's cgroup. The runtime creates new threads
// from a clean template thread while any thread is locked, so none is
// born inside a task's cgroup either.
func forkTask(f *forkSpec) (int, error) {
	attr := &syscall.ProcAttr{
		Dir:   f.dir,
		Env:   f.env,
		Files: f.files,
		Sys:   &syscall.SysProcAttr{Setsid: true, Credential: f.cred},
	}
	if f.cgroups == nil {
		return syscall.ForkExec(f.path, f.argv, attr)
	}
	ch := make(chan forkResult, 1)
	go forkInCgroups(f, attr, ch)
	r := <-ch
	return r.pid, r.err
}

type forkResult struct {
	pid int
	err error
}

func forkInCgroups(f *forkSpec, attr *syscall.ProcAttr, ch chan<- forkResult) {
	runtime.LockOSThread()
	if unix.Gettid() == os.Getpid() {
		// The main thread is never destroyed, so it must not join a task's
		// cgroups. While this goroutine holds it locked, the goroutine
		// started here cannot run on it.
		inner := make(chan forkResult, 1)
		go forkInCgroups(f, attr, inner)
		ch <- <-inner
		runtime.UnlockOSThread()
		return
	}
	// No UnlockOSThread: returning destroys this thread, and with it its
	// membership of the task's cgroups.
	if err := joinCgroups(f.cgroups); err != nil {
		ch <- forkResult{err: err}
		return
	}
	pid, err := syscall.ForkExec(f.path, f.argv, attr)
	ch <- forkResult{pid, err}
}

// credential resolves the user a task runs as. It returns nil (run as the
// supervisor's own user) for "" and for the supervisor's own user.
func credential(name string) (*syscall.Credential, error) {
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("%w: user %q: %v", ErrLaunch, name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: user %q: uid %q gid %q are not numbers", ErrLaunch, name, u.Uid, u.Gid)
	}
	euid := os.Geteuid()
	if euid != 0 {
		if uint64(euid) == uid {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: running as user %q needs a supervisor running as root (it runs as uid %d)", ErrLaunch, name, euid)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	gids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("%w: groups of user %q: %v", ErrLaunch, name, err)
	}
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil && uint32(n) != cred.Gid {
			cred.Groups = append(cred.Groups, uint32(n))
		}
	}
	if cred.Groups == nil {
		cred.Groups = []uint32{} // setgroups(0): drop root's groups
	}
	return cred, nil
}

// lookPath finds a program the way execvp would for the task: in the PATH
// of the task's environment, not the supervisor's, with relative entries
// taken relative to the sandbox.
func lookPath(file string, env []string, sandbox string) (string, error) {
	if strings.Contains(file, "/") {
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(sandbox, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%w: executable %q: %v", ErrLaunch, file, err)
		}
		return p, nil
	}
	path := DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(sandbox, dir)
		}
		p := filepath.Join(dir, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: executable %q not found in PATH %q", ErrLaunch, file, path)
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("is a directory")
	}
	if st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("not executable")
	}
	return nil
}
