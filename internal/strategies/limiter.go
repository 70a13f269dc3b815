package strategies

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// DefaultConcurrency bounds target calls when Env.Limit is nil. It matches the
// provider's max_concurrency default.
const DefaultConcurrency = 32

// Limiter bounds how many targets are being worked on at once. One Limiter is
// shared by every phase of an apply (rollout, rollback, version reads), so the
// bound holds for the apply as a whole and not per batch or stage.
type Limiter struct {
	sem *semaphore.Weighted
}

// NewLimiter returns a Limiter allowing n concurrent target calls. n < 1 means
// DefaultConcurrency.
func NewLimiter(n int) *Limiter {
	if n < 1 {
		n = DefaultConcurrency
	}
	return &Limiter{sem: semaphore.NewWeighted(int64(n))}
}

// Acquire blocks until a slot is free or ctx is done; it returns ctx's error
// in the latter case, and then holds no slot.
func (l *Limiter) Acquire(ctx context.Context) error {
	return l.sem.Acquire(ctx, 1)
}

// Release frees a slot taken by Acquire.
func (l *Limiter) Release() {
	l.sem.Release(1)
}

// Pause gives up the caller's slot while wait runs (a wait between calls,
// with nothing in flight) and takes one again before it returns, so that
// the caller holds a slot afterwards whatever wait returned. The slot is
// taken again even when ctx is done: the caller's release must balance.
func (l *Limiter) Pause(ctx context.Context, wait func(context.Context) error) error {
	l.Release()
	err := wait(ctx)
	// Without cancellation Acquire can only succeed.
	_ = l.sem.Acquire(context.WithoutCancel(ctx), 1)
	return err
}
