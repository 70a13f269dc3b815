package strategies

import (
	"context"
	"fmt"
	"strconv"
)

// RollingStrategy deploys the pending targets batch after batch, in list
// order. The targets of a batch are deployed and health-checked
// concurrently; the rollout stops when more targets than max_failures have
// failed.
type RollingStrategy struct {
	commonRules
	cfg RollingConfig
}

// batches cuts pending into consecutive batches: of batch_size targets, or
// batch_count batches whose sizes differ by one at most (the first ones
// take the remainder), fewer only when fewer targets are pending.
func (s *RollingStrategy) batches(pending []Target) [][]Target {
	if s.cfg.BatchCount > 0 {
		count := min(s.cfg.BatchCount, len(pending))
		out := make([][]Target, 0, count)
		for i := range count {
			n := len(pending) / (count - i)
			if len(pending)%(count-i) != 0 {
				n++
			}
			out = append(out, pending[:n:n])
			pending = pending[n:]
		}
		return out
	}
	size := max(s.cfg.BatchSize, 1)
	out := make([][]Target, 0, (len(pending)+size-1)/size)
	for len(pending) > 0 {
		n := min(size, len(pending))
		out = append(out, pending[:n:n])
		pending = pending[n:]
	}
	return out
}

// Execute rolls req.Version out batch by batch.
func (s *RollingStrategy) Execute(ctx context.Context, req Request, env Env) *Result {
	r, pending, rejected := begin(NameRolling, s, req, env)
	if rejected != nil {
		return rejected
	}
	restore := func(ctx context.Context, targets []Target) bool { return r.restore(ctx, targets, nil) }

	batches := s.batches(pending)
	r.notifyStarted(pending)
	failures := 0
	for i, batch := range batches {
		phase := fmt.Sprintf("batch %d/%d", i+1, len(batches))
		if ctx.Err() != nil {
			return r.cancelled(ctx, phase, restore, false)
		}
		r.info(phase, "%s: deploying %s to %s", phase, req.Version, nOf(len(batch), "target"))
		st := r.deployPhase(ctx, batch, phase)
		failures += len(st.failed)
		r.info(phase, "%s: %d healthy, %d failed", phase, st.healthy, len(st.failed))
		if st.notStarted > 0 {
			return r.cancelled(ctx, phase, restore, false)
		}
		if failures > s.cfg.MaxFailures {
			exceed := "exceed"
			if failures == 1 {
				exceed = "exceeds"
			}
			cause := fmt.Errorf("%s: %s failed; %s %s max_failures (%d)",
				phase, listIDs(st.failed), nOf(failures, "failed target"), exceed, s.cfg.MaxFailures)
			return r.fail(ctx, phase, cause, restore, false)
		}
		// The batch's window: batch_delay, or the bake after the last.
		w := stepWindow{phase: phase, stage: strconv.Itoa(i + 1), before: bakePhase, wait: s.cfg.BatchDelay, pct: r.fleetShare(), restore: restore}
		if i == len(batches)-1 {
			w.phase, w.stage, w.wait = bakePhase, bakePhase, req.Bake
		} else {
			w.before = fmt.Sprintf("batch %d/%d", i+2, len(batches))
		}
		if res := r.measureWindow(ctx, w); res != nil {
			return res
		}
		r.notifyPassed(phase, w.pct, batch)
	}
	return r.complete()
}

// Rollback redeploys req.PreviousVersion to targets.
func (s *RollingStrategy) Rollback(ctx context.Context, req Request, env Env, targets []Target) *Result {
	return rollbackOnly(ctx, NameRolling, req, env, targets, func(r *run, ctx context.Context) bool {
		return r.restore(ctx, targets, nil)
	})
}

// A rolling fleet has no traffic step: the traffic a version has is its
// share of the targets.
func (*RollingStrategy) movesTraffic() bool { return false }

func (*RollingStrategy) trafficOwed(Prior, Request, bool) bool { return false }

// trafficOn is the share of the targets that run version.
func (*RollingStrategy) trafficOn(version string, targets []Target, fleet Versions, _ float64) float64 {
	return share(version, targets, func(id string) string { return fleet[id] })
}
