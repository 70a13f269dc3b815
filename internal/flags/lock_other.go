//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package flags

// LockName is the file a running store locks, where it can.
const LockName = ".lock"

// lockDir does not lock on this platform: run one flag service per data
// directory.
func lockDir(string) (func() error, error) { return func() error { return nil }, nil }
