package strategies

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// targetResult is the outcome of the work done on one target by runGroup.
type targetResult struct {
	started bool
	version string // last version reported, "" if none
	err     error
}

// runGroup runs work on every target concurrently, never more at once than
// lim allows, and returns the results in the order of targets. Targets are
// started in list order; once ctx is done no further target is started (its
// result has started == false) while those already running finish.
func runGroup(ctx context.Context, lim *Limiter, targets []Target, work func(context.Context, Target) targetResult) []targetResult {
	results := make([]targetResult, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		if ctx.Err() != nil || lim.Acquire(ctx) != nil {
			break
		}
		// Acquire may win a race with cancellation; cancellation wins here.
		if ctx.Err() != nil {
			lim.Release()
			break
		}
		wg.Go(func() {
			defer lim.Release()
			r := work(ctx, t)
			r.started = true
			results[i] = r
		})
	}
	wg.Wait()
	return results
}

// deployAndWait deploys version to t, then polls its health until it is
// healthy. The reported version is the last one the target answered with.
func deployAndWait(ctx context.Context, env Env, hc HealthCheck, t Target, version, previous string) targetResult {
	// A deploy that was sent is seen through even if ctx is cancelled in the
	// meantime: abandoning it halfway would leave the target in an unknown
	// state. The deploy call is bounded by its own timeout and the health
	// wait by hc.Timeout.
	ctx = context.WithoutCancel(ctx)
	if err := env.Deploy(ctx, t, version, previous); err != nil {
		return targetResult{err: fmt.Errorf("deploy of %s: %w", version, err)}
	}
	if !hc.Enabled {
		return targetResult{version: version}
	}
	reported, err := waitHealthy(ctx, env, hc, t, version)
	if err == nil && (reported == "" || !hc.ExpectVersion) {
		// Healthy with expect_version off: it runs what it got, whatever it
		// reports (a reported version is information, not drift).
		reported = version
	}
	return targetResult{version: reported, err: err}
}

// waitHealthy polls t every hc.Interval until it answers healthy (at version
// when hc.ExpectVersion) or hc.Timeout has passed. The deadline is counted
// both on the clock and in polls (at most Timeout/Interval + 1), so that a
// clock that does not move still ends the wait. It runs holding a slot of
// env.Limit, which it gives up between polls: a target that takes a while
// to start does not keep the next one from being deployed.
func waitHealthy(ctx context.Context, env Env, hc HealthCheck, t Target, version string) (reported string, err error) {
	interval := hc.Interval
	if interval <= 0 {
		interval = DefaultHealthInterval // a non-positive interval never spins
	}
	maxPolls := 1
	if hc.Timeout > 0 {
		// The largest timeout over a 1ns interval would overflow the + 1.
		maxPolls = int(min(hc.Timeout/interval, math.MaxInt64-1)) + 1
	}
	deadline := env.Clock.Now().Add(hc.Timeout)
	// With min_healthy the target counts as healthy once a healthy check
	// comes at least MinHealthy after its first healthy one, with no
	// failure in between: the checks in that time come every interval, the
	// last one exactly at MinHealthy. held is measured on the clock or in
	// time slept, whichever is longer (a clock that does not move).
	healthy, healthySince, slept := false, time.Time{}, time.Duration(0)
	held := func() time.Duration { return max(env.Clock.Now().Sub(healthySince), slept) }
	var last error
	for poll := 1; ; poll++ {
		v, herr := env.Poll(ctx, t)
		switch {
		case herr != nil:
			last = herr
		case hc.ExpectVersion && v != version:
			reported = v
			last = fmt.Errorf("reports version %q, want %q", v, version)
		default:
			reported = v
			if !healthy {
				healthy, healthySince, slept = true, env.Clock.Now(), 0
			}
			h := held()
			if h >= hc.MinHealthy {
				return v, nil
			}
			wait := min(interval, hc.MinHealthy-h)
			sleep := func(ctx context.Context) error { return env.Clock.Sleep(ctx, wait) }
			if serr := env.Limit.Pause(ctx, sleep); serr != nil {
				return reported, fmt.Errorf("health wait interrupted within min_healthy %s (%w)", hc.MinHealthy, serr)
			}
			slept += wait
			continue
		}
		if healthy {
			// Healthy, then not, before min_healthy was complete: a
			// flapping target.
			h := held().Round(time.Millisecond)
			if h >= hc.MinHealthy {
				return reported, fmt.Errorf("healthy, then unhealthy at the check %s later that was to complete min_healthy %s: %w", h, hc.MinHealthy, last)
			}
			return reported, fmt.Errorf("healthy, then unhealthy %s later, within min_healthy %s: %w", h, hc.MinHealthy, last)
		}
		if poll >= maxPolls || !env.Clock.Now().Before(deadline) {
			return reported, fmt.Errorf("not healthy within %s (%s): %w", hc.Timeout, nOf(poll, "health check"), last)
		}
		sleep := func(ctx context.Context) error { return env.Clock.Sleep(ctx, interval) }
		if serr := env.Limit.Pause(ctx, sleep); serr != nil {
			return reported, fmt.Errorf("health wait interrupted after %s (%w): %w", nOf(poll, "health check"), serr, last)
		}
	}
}
