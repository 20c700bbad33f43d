//go:build !linux

package zktest

import "os/exec"

// dieWithParent has no portable equivalent off Linux; cleanups still kill
// every server by PID.
func dieWithParent(cmd *exec.Cmd) {}
