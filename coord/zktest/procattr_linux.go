package zktest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill a server if the test binary dies
// before its cleanups run (a panic, a -timeout), so no JVM is left behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
