//go:build !linux

package supervise

import (
	"context"
	"errors"
	"fmt"
)

// errUnsupported: the supervisor drives Linux process and cgroup APIs.
var errUnsupported = fmt.Errorf("task supervision: %w on this OS (Linux only)", errors.ErrUnsupported)

func serve(context.Context, Config, func(string)) error { return errUnsupported }

func detach(context.Context, Config) error { return errUnsupported }

func readyPipe() func(string) { return func(string) {} }

func waitUnlocked(context.Context, string) error { return errUnsupported }

// Usage is what a task consumes (Linux only).
type Usage struct{}

// Usage is not available off Linux.
func (c *Client) Usage(...string) (map[string]Usage, error) { return nil, errUnsupported }

// Memory is a process's resident memory (Linux only).
type Memory struct{ RSS, PSS uint64 }

// MemoryOf is not available off Linux.
func MemoryOf(int) (Memory, error) { return Memory{}, errUnsupported }

// CgroupsAvailable: cgroups are Linux's.
func CgroupsAvailable() error { return errUnsupported }
