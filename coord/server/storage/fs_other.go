//go:build !linux

package storage

import (
	"errors"
	"os"
)

// datasync falls back to fsync where fdatasync is not available.
func datasync(f *os.File) error { return f.Sync() }

// fallocate is not available here; Allocate then writes zeros.
func fallocate(*os.File, int64, int64) error { return errors.ErrUnsupported }
