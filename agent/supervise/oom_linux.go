package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// oomWatcher hears the kernel's OOM notifications for every task's memory
// cgroup on one goroutine: one eventfd per task registered through
// cgroup.event_control, all in one epoll set. A goroutine per task would
// cost a stack each; this costs two file descriptors per task.
type oomWatcher struct {
	epfd int
	wake int // eventfd that stops run
	done chan struct{}

	mu   sync.Mutex
	regs map[int32]*oomReg // by eventfd
}

type oomReg struct {
	efd, ctl int
	fire     func()
}

func newOOMWatcher() (*oomWatcher, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("oom watcher: epoll: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("oom watcher: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, fmt.Errorf("oom watcher: epoll_ctl: %w", err)
	}
	w := &oomWatcher{epfd: epfd, wake: wake, done: make(chan struct{}), regs: map[int32]*oomReg{}}
	go w.run()
	return w, nil
}

// watch calls fire (on the watcher's goroutine) each time the memory
// cgroup in memDir runs out of memory, until the returned cancel is
// called. Cancel before removing the cgroup: removal also signals the
// eventfd.
func (w *oomWatcher) watch(memDir string, fire func()) (cancel func(), err error) {
	ctl, err := unix.Open(filepath.Join(memDir, "memory.oom_control"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("watch oom of %s: %w", memDir, err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ctl)
		return nil, fmt.Errorf("watch oom of %s: eventfd: %w", memDir, err)
	}
	reg := &oomReg{efd: efd, ctl: ctl, fire: fire}
	line := fmt.Sprintf("%d %d", efd, ctl)
	if err := os.WriteFile(filepath.Join(memDir, "cgroup.event_control"), []byte(line), 0); err != nil {
		reg.close()
		return nil, fmt.Errorf("watch oom of %s: %w", memDir, err)
	}
	w.mu.Lock()
	w.regs[int32(efd)] = reg
	w.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		w.unregister(reg)
		return nil, fmt.Errorf("watch oom of %s: epoll_ctl: %w", memDir, err)
	}
	var once sync.Once
	return func() { once.Do(func() { w.unregister(reg) }) }, nil
}

func (w *oomWatcher) unregister(reg *oomReg) {
	w.mu.Lock()
	delete(w.regs, int32(reg.efd))
	w.mu.Unlock()
	unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, reg.efd, nil)
	reg.close()
}

func (r *oomReg) close() {
	unix.Close(r.efd)
	unix.Close(r.ctl)
}

func (w *oomWatcher) run() {
	defer close(w.done)
	events := make([]unix.EpollEvent, 32)
	var buf [8]byte
	for {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == w.wake {
				return
			}
			// Read under the lock, so cancel cannot close the eventfd (and
			// its number be reused) in between; fire only on a real count,
			// as a stale event may name a number reused since.
			w.mu.Lock()
			reg := w.regs[ev.Fd]
			fired := false
			if reg != nil {
				n, _ := unix.Read(reg.efd, buf[:])
				fired = n == len(buf)
			}
			w.mu.Unlock()
			if fired {
				reg.fire()
			}
		}
	}
}

// close stops the watcher and releases every registration.
func (w *oomWatcher) close() {
	unix.Write(w.wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	<-w.done
	w.mu.Lock()
	regs := w.regs
	w.regs = nil
	w.mu.Unlock()
	for _, r := range regs {
		r.close()
	}
	unix.Close(w.wake)
	unix.Close(w.epfd)
}
