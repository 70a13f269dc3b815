// Package clocktest provides a fake clock.Clock for tests.
package clocktest

import (
	"context"
	"sync"
	"time"
)

// Fake is a clock.Clock for tests. Sleep returns at once (after checking the
// context) and records the requested duration; Now only moves when the test
// calls Set or Advance, so concurrent sleepers never disturb each other's
// deadlines. OnSleep, when set, runs inside every Sleep before it returns,
// which lets a test cancel a context or move time at a precise wait.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	OnSleep func(d time.Duration)
}

// NewFake returns a Fake clock reading t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the fake time to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// Advance moves the fake time forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Sleep records d and returns at once, or returns ctx.Err() when ctx is
// already done.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	hook := f.OnSleep
	f.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return ctx.Err()
}

// Sleeps returns every duration passed to Sleep, in call order.
func (f *Fake) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}
