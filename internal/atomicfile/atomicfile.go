// Package atomicfile replaces a file so that a crash, of the process or of
// the machine, leaves either its old content or its new content, never a
// torn or empty file: the agent's state files and the flag service's
// flags.json are written this way.
//
// The steps, in order: write a temporary file in the same directory
// (TempPrefix(path) + random), fsync it, close it, rename it over path, and
// fsync the directory so that the rename itself is on disk. A temporary
// file a crash left behind was never acknowledged: whoever owns the
// directory may delete it (see TempPrefix).
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Steps of a write, in the order Write takes them, as Options.Trace sees
// them.
const (
	StepWrite    = "write"
	StepFsync    = "fsync"
	StepClose    = "close"
	StepRename   = "rename"
	StepFsyncDir = "fsync-dir"
)

// Options adjusts a Write.
type Options struct {
	// Perm is the new file's mode (default 0600: state files are the
	// agent's own).
	Perm os.FileMode
	// Trace, when set, is told each step before it is taken, with the file
	// or directory it concerns (tests check the order).
	Trace func(step, path string)
}

// TempPrefix starts the name of the temporary files Write creates for path.
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// Write replaces path with data durably (see the package documentation).
// renamed reports whether path now holds data: true with an error when
// only the directory's fsync failed (the new content is in place, but a
// power loss could still undo the rename).
func Write(path string, data []byte, opts Options) (renamed bool, err error) {
	trace := opts.Trace
	if trace == nil {
		trace = func(string, string) {}
	}
	perm := opts.Perm
	if perm == 0 {
		perm = 0o600
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, TempPrefix(path)+"*")
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	trace(StepWrite, tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		return false, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return false, fmt.Errorf("setting the mode of %s: %w", tmp.Name(), err)
	}
	trace(StepFsync, tmp.Name())
	if err := tmp.Sync(); err != nil {
		return false, fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	trace(StepClose, tmp.Name())
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	trace(StepRename, path)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("replacing %s: %w", path, err)
	}
	trace(StepFsyncDir, dir)
	if err := syncDir(dir); err != nil {
		return true, fmt.Errorf("syncing the directory %s (%s is replaced, but a power loss could undo it): %w", dir, filepath.Base(path), err)
	}
	return true, nil
}

// syncDir fsyncs a directory, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
