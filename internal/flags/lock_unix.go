//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package flags

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockName is the file in the data directory that a running store holds
// an exclusive lock on.
const LockName = ".lock"

// lockDir takes an exclusive, non-blocking flock on dir/.lock: two agents
// writing one data directory would each overwrite the other's flags. The
// kernel releases the lock when the process dies, kill -9 included.
func lockDir(dir string) (func() error, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the data directory %s is in use by another flag service (%s is locked)", dir, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f.Close, nil
}
