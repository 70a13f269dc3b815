package atomicfile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestWriteOrder: the new content is fsynced before the rename, and the
// directory after it; the file ends up with the content and the mode, and
// no temporary file is left.
func TestWriteOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	var steps []string
	trace := func(step, p string) {
		steps = append(steps, step)
		switch step {
		case StepWrite, StepFsync, StepClose:
			if filepath.Dir(p) != dir || !strings.HasPrefix(filepath.Base(p), TempPrefix(path)) {
				t.Errorf("%s of %s, want a temporary file %s* in %s", step, p, TempPrefix(path), dir)
			}
		case StepRename:
			if p != path {
				t.Errorf("rename to %s, want %s", p, path)
			}
		case StepFsyncDir:
			if p != dir {
				t.Errorf("fsync of %s, want the directory %s", p, dir)
			}
		}
	}
	renamed, err := Write(path, []byte("new"), Options{Perm: 0o640, Trace: trace})
	if err != nil || !renamed {
		t.Fatalf("Write = %v, %v", renamed, err)
	}
	if want := []string{StepWrite, StepFsync, StepClose, StepRename, StepFsyncDir}; !reflect.DeepEqual(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "new" {
		t.Errorf("content %q, %v", data, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v; want 0640", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files in the directory: %v, want state.json only", entries)
	}
}

// TestWriteDefaultModeAndFailure: the default mode is 0600; a write that
// cannot rename leaves the old file and no temporary file.
func TestWriteDefaultModeAndFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if _, err := Write(path, []byte("x"), Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}

	// A directory in the way: the rename fails.
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "child"), 0o700); err != nil {
		t.Fatal(err)
	}
	renamed, err := Write(blocked, []byte("y"), Options{})
	if err == nil || renamed || !strings.Contains(err.Error(), "replacing "+blocked) {
		t.Errorf("Write over a directory = %v, %v", renamed, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	if _, err := Write(filepath.Join(dir, "missing", "f"), []byte("z"), Options{}); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}
