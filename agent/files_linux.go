package agent

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openBeneath opens rel below dir for reading, letting the kernel refuse
// any resolution that leaves dir (openat2 RESOLVE_BENEATH: EXDEV), so a
// symlink a task swaps in after the path was checked cannot escape. On
// kernels without openat2 (before 5.6) it falls back to refusing a
// symlink as the last element, the check on the resolved path having
// been made already.
func openBeneath(dir, rel string) (*os.File, error) {
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(d)
	how := &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(d, rel, how)
	if errors.Is(err, unix.ENOSYS) {
		fd, err = unix.Openat(d, rel, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, rel), Err: err}
	}
	// Reads of a regular file ignore O_NONBLOCK; it only keeps a FIFO
	// planted in the sandbox from blocking the open.
	return os.NewFile(uintptr(fd), filepath.Join(dir, rel)), nil
}
