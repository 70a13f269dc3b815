// Package flags is the durable flag service of codomyrmex-agent flags: a
// protocol.FlagStore that keeps every acknowledged write across crashes
// (Store), and the OpenFeature Remote Evaluation Protocol on top of it
// (NewOFREPHandler), so that applications evaluate a rollout with the
// documented bucketing without reimplementing it.
//
// The store keeps all flags in one file, DIR/flags.json, rewritten whole on
// every change: written to a temporary file in DIR, fsynced, renamed over
// flags.json, and DIR fsynced (package atomicfile), before the write is
// acknowledged. One file
// rather than one per flag because
//
//   - one rename commits one consistent set of flags: a bulk evaluation
//     never mixes two generations, and recovery has nothing to reconcile
//     (at worst a temporary file to delete);
//   - flag names need no mapping to file names: "A" and "a" are different
//     flags but the same file on a case-insensitive file system;
//   - flag sets are small (a document is about 150 bytes, a thousand flags
//     150 kB), so rewriting all of them costs about as much as the fsyncs.
package flags

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/atomicfile"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// FileName is the file in the data directory that holds every flag.
const FileName = "flags.json"

// tempPrefix starts the name of a file being written; Open deletes any such
// file a crash left behind (its write was never acknowledged).
var tempPrefix = atomicfile.TempPrefix(FileName)

// formatVersion is the version of the file's layout.
const formatVersion = 1

// file is the layout of flags.json.
type file struct {
	Format int                      `json:"format"`
	Flags  map[string]protocol.Flag `json:"flags"`
}

// Store is a durable protocol.FlagStore. It is safe for concurrent use:
// writes are serialised, and reads never wait for a write's fsyncs.
type Store struct {
	dir    string
	unlock func() error

	// writeMu serialises writers: one commit at a time, each from the
	// state the previous one left.
	writeMu sync.Mutex

	mu     sync.RWMutex
	flags  map[string]protocol.Flag
	closed bool

	// trace, when a test sets it, is told each step of a commit.
	trace func(step, path string)
}

var _ protocol.FlagStore = (*Store)(nil)

// ErrClosed is returned by the methods of a closed store.
var ErrClosed = errors.New("flag store is closed")

// Open opens the store in dir, creating dir (mode 0700) when missing. It
// locks dir against a second process (on the platforms the agent ships
// for), deletes temporary files an interrupted write left, and loads
// flags.json; a file it cannot read or that holds an invalid document is
// an error, never an empty store.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("flag store: no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, unlock: unlock}
	if err := s.load(); err != nil {
		_ = unlock()
		return nil, err
	}
	return s, nil
}

func (s *Store) path() string { return filepath.Join(s.dir, FileName) }

func (s *Store) load() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("reading the data directory: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil {
				return fmt.Errorf("removing an interrupted write: %w", err)
			}
		}
	}
	s.flags = map[string]protocol.Flag{}
	data, err := os.ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the flags: %w", err)
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("%s is not a flag file: %w", s.path(), err)
	}
	if f.Format != formatVersion {
		return fmt.Errorf("%s has format %d; this agent reads format %d", s.path(), f.Format, formatVersion)
	}
	for name, fl := range f.Flags {
		if fl.Flag != name {
			return fmt.Errorf("%s: the flag under %q is named %q", s.path(), name, fl.Flag)
		}
		if err := protocol.ValidateFlag(fl); err != nil {
			return fmt.Errorf("%s: flag %q: %w", s.path(), name, err)
		}
		s.flags[name] = fl
	}
	return nil
}

// Close releases the data directory's lock. Writes after Close fail.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.unlock()
}

// Put stores f once protocol.ValidateFlag accepts it, durably: when Put
// returns nil, the document survives a crash of the process or of the
// machine. A document equal to the stored one writes nothing.
func (s *Store) Put(ctx context.Context, f protocol.Flag) error {
	if err := protocol.ValidateFlag(f); err != nil {
		return err
	}
	f = cloneFlag(f)
	return s.update(ctx, func(flags map[string]protocol.Flag) bool {
		if old, ok := flags[f.Flag]; ok && equalFlags(old, f) {
			return false
		}
		flags[f.Flag] = f
		return true
	})
}

// Delete removes the flag durably; deleting a missing flag writes nothing.
func (s *Store) Delete(ctx context.Context, name string) error {
	return s.update(ctx, func(flags map[string]protocol.Flag) bool {
		if _, ok := flags[name]; !ok {
			return false
		}
		delete(flags, name)
		return true
	})
}

// Get returns the flag called name.
func (s *Store) Get(_ context.Context, name string) (protocol.Flag, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return protocol.Flag{}, false, ErrClosed
	}
	f, ok := s.flags[name]
	return cloneFlag(f), ok, nil
}

// List returns every flag, by name.
func (s *Store) List(_ context.Context) ([]protocol.Flag, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	out := make([]protocol.Flag, 0, len(s.flags))
	for _, name := range slices.Sorted(maps.Keys(s.flags)) {
		out = append(out, cloneFlag(s.flags[name]))
	}
	return out, nil
}

// update applies change to a copy of the flags and, when it reports a
// change, commits the copy to disk and then makes it visible. Writers are
// serialised by writeMu; readers keep reading the previous map meanwhile.
func (s *Store) update(ctx context.Context, change func(map[string]protocol.Flag) bool) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// A caller that gave up while waiting for its turn is not written for.
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	closed, next := s.closed, maps.Clone(s.flags)
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if !change(next) {
		return nil
	}
	data, err := json.MarshalIndent(file{Format: formatVersion, Flags: next}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the flags: %w", err)
	}
	renamed, err := atomicfile.Write(s.path(), append(data, '\n'), atomicfile.Options{Trace: s.trace})
	if renamed {
		// flags.json now holds next, even if the directory's fsync failed:
		// what is served follows what a restart would read.
		s.mu.Lock()
		s.flags = next
		s.mu.Unlock()
	}
	return err
}

func cloneFlag(f protocol.Flag) protocol.Flag {
	f.Stages = slices.Clone(f.Stages)
	return f
}

func equalFlags(a, b protocol.Flag) bool {
	return a.Flag == b.Flag && a.State == b.State && a.Stage == b.Stage && a.Percentage == b.Percentage &&
		a.UpdatedAt == b.UpdatedAt && slices.Equal(a.Stages, b.Stages) && (a.Stages == nil) == (b.Stages == nil)
}
