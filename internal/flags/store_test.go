package flags

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

func doc(name string, stage int, percentage float64) protocol.Flag {
	return protocol.Flag{
		Flag: name, State: "active", Stage: stage, Percentage: percentage,
		Stages: []float64{5, 25, 50, 100}, UpdatedAt: "2026-11-23T09:00:00Z",
	}
}

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// readFile decodes flags.json as a restart would, strictly.
func readFile(t *testing.T, dir string) map[string]protocol.Flag {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	var f file
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("flags.json does not decode: %v\n%s", err, data)
	}
	return f.Flags
}

// leftovers lists files of dir other than flags.json and the lock.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != FileName && e.Name() != LockName {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestStorePersistsAcrossReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data", "flags") // created by Open
	s := openStore(t, dir)
	if fl, err := s.List(ctx); err != nil || len(fl) != 0 {
		t.Fatalf("a new store lists %v, %v", fl, err)
	}
	for _, f := range []protocol.Flag{doc("b", 0, 5), doc("a", 1, 25), doc("A", 2, 50), doc("gone", 0, 5)} {
		if err := s.Put(ctx, f); err != nil {
			t.Fatalf("Put(%s): %v", f.Flag, err)
		}
	}
	if err := s.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "never-there"); err != nil {
		t.Errorf("deleting a missing flag: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, doc("late", 0, 5)); err == nil {
		t.Error("Put after Close succeeded")
	}

	s = openStore(t, dir)
	got, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.Flag{doc("A", 2, 50), doc("a", 1, 25), doc("b", 0, 5)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after reopen List = %+v, want %+v", got, want)
	}
	if _, ok, _ := s.Get(ctx, "gone"); ok {
		t.Error("a deleted flag came back")
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode = %v, %v; want 0700", info.Mode(), err)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("files left in the data directory: %v", l)
	}
}

// TestStoreCommitOrder: a write is acknowledged only after the temporary
// file is fsynced, renamed over flags.json and the directory is fsynced.
func TestStoreCommitOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir)
	var steps []string
	s.trace = func(step, path string) {
		steps = append(steps, step)
		if step == "fsync-dir" && path != dir {
			t.Errorf("fsync of %s, want the data directory %s", path, dir)
		}
		if step == "rename" && path != filepath.Join(dir, FileName) {
			t.Errorf("rename to %s", path)
		}
	}
	if err := s.Put(context.Background(), doc("x", 0, 5)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"write", "fsync", "close", "rename", "fsync-dir"}; !reflect.DeepEqual(steps, want) {
		t.Errorf("commit steps %v, want %v", steps, want)
	}
	// Nothing changes, nothing is written.
	steps = nil
	if err := s.Put(context.Background(), doc("x", 0, 5)); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(context.Background(), "y"); err != nil {
		t.Fatal(err)
	}
	if len(steps) > 0 {
		t.Errorf("an unchanged store was written: %v", steps)
	}
}

// TestStoreRejectsBadDocuments: a document protocol.ValidateFlag rejects
// is an error and changes nothing, in memory or on disk.
func TestStoreRejectsBadDocuments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := s.Put(ctx, doc("keep", 1, 25)); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]protocol.Flag{
		"percentage over 100": doc("keep", 1, 100.5),
		"negative percentage": doc("keep", 1, -1),
		"unknown state":       {Flag: "keep", State: "on", Percentage: 5},
		"bad name":            doc("has space", 0, 5),
		"long name":           doc(strings.Repeat("n", 129), 0, 5),
		"empty name":          doc("", 0, 5),
		"negative stage":      doc("keep", -1, 5),
	}
	for name, f := range bad {
		if err := s.Put(ctx, f); err == nil {
			t.Errorf("%s: Put accepted %+v", name, f)
		}
	}
	after, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("flags.json changed:\n%s\nwas\n%s", after, before)
	}
	if got, err := s.List(ctx); err != nil || !reflect.DeepEqual(got, []protocol.Flag{doc("keep", 1, 25)}) {
		t.Errorf("List = %+v, %v", got, err)
	}
}

// TestStoreOpenRecovery: a temporary file of an interrupted write is
// deleted; a damaged flags.json is an error, never an empty store.
func TestStoreOpenRecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	if err := s.Put(ctx, doc("x", 1, 25)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(dir, tempPrefix+"123")
	if err := os.WriteFile(torn, []byte(`{"format":1,"flags":{"x":{"fl`), 0o600); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	if f, ok, _ := s.Get(ctx, "x"); !ok || f.Percentage != 25 {
		t.Errorf("Get(x) = %+v, %v", f, ok)
	}
	if _, err := os.Stat(torn); !os.IsNotExist(err) {
		t.Errorf("the interrupted write is still there: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for name, content := range map[string]string{
		"truncated":     `{"format":1,"flags":{"x":`,
		"other format":  `{"format":2,"flags":{}}`,
		"unknown field": `{"format":1,"flags":{},"extra":true}`,
		"misfiled flag": `{"format":1,"flags":{"y":{"flag":"x","state":"active","percentage":5}}}`,
		"invalid flag":  `{"format":1,"flags":{"x":{"flag":"x","state":"active","percentage":500}}}`,
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, FileName), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := Open(bad); err == nil {
			s.Close()
			t.Errorf("%s: Open accepted %s", name, content)
		}
	}
}

func TestStoreLocksTheDirectory(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no lock on Windows")
	}
	dir := t.TempDir()
	s := openStore(t, dir)
	if second, err := Open(dir); err == nil {
		second.Close()
		t.Fatal("a second Open of the same directory succeeded")
	} else if !strings.Contains(err.Error(), "in use by another flag service") {
		t.Errorf("second Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openStore(t, dir) // free again
}

// TestStoreConcurrentWriters: many goroutines write distinct and shared
// flags at once. Each distinct flag ends at its writer's last value, a
// shared flag at one of the values written, flags.json holds exactly what
// is served, and a reopen reads the same.
func TestStoreConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	const writers, writes = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*writes*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := fmt.Sprintf("own-%d", w)
			for i := range writes {
				if err := s.Put(ctx, doc(own, i, float64(i))); err != nil {
					errs <- err
				}
				// The shared flag's stage says who wrote it and when.
				if err := s.Put(ctx, doc("shared", w*writes+i, float64(w))); err != nil {
					errs <- err
				}
				if i%10 == 9 {
					if err := s.Delete(ctx, "shared"); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	check := func(what string, got map[string]protocol.Flag) {
		t.Helper()
		for w := range writers {
			own := fmt.Sprintf("own-%d", w)
			if f := got[own]; !reflect.DeepEqual(f, doc(own, writes-1, writes-1)) {
				t.Errorf("%s: %s = %+v, want its writer's last value", what, own, f)
			}
		}
		if f, ok := got["shared"]; ok {
			w := f.Stage / writes
			if w >= writers || f.Percentage != float64(w) {
				t.Errorf("%s: shared = %+v is no value a writer wrote", what, f)
			}
		}
		if len(got) > writers+1 {
			t.Errorf("%s: %d flags, want at most %d", what, len(got), writers+1)
		}
	}
	served := map[string]protocol.Flag{}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range list {
		served[f.Flag] = f
	}
	check("served", served)
	onDisk := readFile(t, dir)
	check("flags.json", onDisk)
	if !reflect.DeepEqual(onDisk, served) {
		t.Errorf("flags.json %+v differs from what is served %+v", onDisk, served)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("files left in the data directory: %v", l)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := map[string]protocol.Flag{}
	list, err = openStore(t, dir).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range list {
		reopened[f.Flag] = f
	}
	if !reflect.DeepEqual(reopened, served) {
		t.Errorf("after reopen %+v, want %+v", reopened, served)
	}
}

// TestStoreCancelledWriterIsNotWritten: a caller that gave up before its
// turn is not written for.
func TestStoreCancelledWriterIsNotWritten(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, doc("x", 0, 5)); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, ok, _ := s.Get(context.Background(), "x"); ok {
		t.Error("the cancelled Put was stored")
	}
}
