package strategies

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// CanaryStrategy brings the version to a growing share of the fleet, stage by
// stage, moving router weights along and stopping when a stage's success
// rate falls below the threshold.
type CanaryStrategy struct {
	commonRules
	cfg CanaryConfig
}

// stageGoal is how many of n targets run the version after a stage at pct:
// ceil(n × pct / 100), at least 1.
func stageGoal(n int, pct float64) int {
	// The epsilon keeps 30% of 10 at 3 despite float rounding.
	g := int(math.Ceil(float64(n)*pct/100 - 1e-9))
	return min(max(g, 1), n)
}

// Execute rolls req.Version out stage by stage.
func (s *CanaryStrategy) Execute(ctx context.Context, req Request, env Env) *Result {
	r, pending, rejected := begin(NameCanary, s, req, env)
	if rejected != nil {
		return rejected
	}
	restore := func(ctx context.Context, targets []Target) bool {
		return r.restore(ctx, targets, s.weightsUndo(r)) && s.reinstate(ctx, r)
	}

	stages := s.cfg.Stages
	// The rollout goes as far as the first closed gate (the last stage
	// when there is none).
	until := s.cfg.Until(req)
	stop := len(stages) - 1
	if i := slices.Index(stages, until); i >= 0 {
		stop = i
	}
	// Stages at or below the traffic the version already has are behind
	// it: a repair of drifted targets never walks the weights back. At a
	// gate still closed, its stage is run again (a repair stays there).
	first := 0
	for first < stop && stages[first] <= req.PriorTraffic {
		first++
	}
	if len(pending) == 0 {
		// Nothing to deploy: only make sure the router sends the version
		// its share (a previous apply may have stopped before that).
		first = stop
	}
	n := len(req.Targets)
	atVersion := n - len(pending)
	r.notifyStarted(pending)
	deployed := 0         // how many of pending were deployed: the next one's index
	trafficMoved := false // router weights were (maybe) changed with nothing deployed
	if req.Gates.Paused && first > 0 && stages[first-1] == req.PriorTraffic {
		if res := s.resume(ctx, r, first-1); res != nil {
			return res
		}
	}
	for k := first; k <= stop; k++ {
		pct := stages[k]
		phase := fmt.Sprintf("stage %d (%s%%)", k+1, formatPercent(pct))
		if ctx.Err() != nil {
			return r.cancelled(ctx, phase, restore, trafficMoved)
		}
		count := min(max(stageGoal(n, pct)-atVersion, 0), len(pending)-deployed)
		if k == len(stages)-1 {
			count = len(pending) - deployed
		}
		batch := pending[deployed : deployed+count]
		r.info(phase, "%s: deploying %s to %s more (%d of %d run it after this stage)", phase, req.Version, nOf(len(batch), "target"), atVersion+len(batch), n)
		st := r.deployPhase(ctx, batch, phase)
		deployed += st.attempted
		atVersion += st.attempted
		if st.notStarted > 0 {
			return r.cancelled(ctx, phase, restore, trafficMoved)
		}
		if st.attempted > 0 {
			rate := float64(st.healthy) / float64(st.attempted)
			r.info(phase, "%s: %d of %d targets healthy", phase, st.healthy, st.attempted)
			if rate < s.cfg.SuccessThreshold {
				cause := fmt.Errorf("%s: success rate %.2f (%d of %d healthy) is below success_threshold %g; failed: %s",
					phase, rate, st.healthy, st.attempted, s.cfg.SuccessThreshold, listIDs(st.failed))
				return r.fail(ctx, phase, cause, restore, trafficMoved)
			}
		}
		if r.env.Weights != nil {
			if ctx.Err() != nil {
				return r.cancelled(ctx, phase, restore, trafficMoved)
			}
			trafficMoved = len(pending) > 0
			r.info(phase, "%s: sending %s%% of traffic to %s", phase, formatPercent(pct), req.Version)
			if err := r.env.Weights(ctx, req.Version, pct); err != nil {
				cause := fmt.Errorf("%s: setting router weights of %s to %s%%: %w", phase, req.Version, formatPercent(pct), err)
				return r.fail(ctx, phase, cause, restore, trafficMoved)
			}
		}
		r.res.TrafficPercentage = pct
		// The stage's window: stage_interval, or the bake after the last.
		w := stepWindow{phase: phase, stage: strconv.Itoa(k + 1), before: bakePhase, wait: s.cfg.StageInterval, pct: pct, restore: restore, trafficMoved: trafficMoved}
		switch {
		case k == len(stages)-1:
			w.phase, w.stage, w.wait = bakePhase, bakePhase, req.Bake
		case k == stop:
			w.before = "gate"
		default:
			w.before = fmt.Sprintf("stage %d (%s%%)", k+2, formatPercent(stages[k+1]))
		}
		if res := r.measureWindow(ctx, w); res != nil {
			return res
		}
		r.notifyPassed(phase, pct, batch)
		if k == stop && k < len(stages)-1 {
			return r.pause(pct, func(since time.Time) time.Time { return s.cfg.resumeAt(pct, since) }, phase)
		}
	}
	return r.complete()
}

// resume measures the stage at index k, where the rollout was paused, once
// more before it goes past the gate. A failed measurement condemns the
// version: every target running it, deployed by earlier applies, goes back
// to the previous version and its traffic to 0. Cancelled (Ctrl-C, a
// timeout) before the measurement was taken, nothing was done: the rollout
// stays paused as it was.
func (s *CanaryStrategy) resume(ctx context.Context, r *run, k int) *Result {
	stages := s.cfg.Stages
	phase := fmt.Sprintf("stage %d (%s%%)", k+1, formatPercent(stages[k]))
	err := r.window(ctx, phase, strconv.Itoa(k+1), 0, stages[k])
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(errWindowCancelled)):
		cause := fmt.Errorf("%s: rollout cancelled while measuring the paused stage, before resuming: %w", phase, cancelCause(ctx))
		return r.fail(ctx, phase+" (cancelled)", cause, nil, false)
	}
	abandon := func(ctx context.Context, _ []Target) bool {
		r.toPrevious, r.res.Abandoned = true, true
		return r.restore(ctx, r.runningVersion(), s.weightsUndo(r))
	}
	return r.fail(ctx, phase, err, abandon, true)
}

// weightsUndo gives the version back the traffic it had before the apply:
// none for a new version, all of it for a repair.
func (s *CanaryStrategy) weightsUndo(r *run) *trafficUndo {
	prior := r.priorTraffic()
	u := &trafficUndo{
		what: fmt.Sprintf("set router weights of %s to %s%%", r.req.Version, formatPercent(prior)),
		done: func() { r.res.TrafficPercentage = prior },
	}
	if r.env.Weights != nil {
		u.call = func(ctx context.Context) error { return r.env.Weights(ctx, r.req.Version, prior) }
	}
	return u
}

// reinstate gives the paused release the version was rolled out on top of
// its traffic share back, once its targets are restored: the router sent
// the version's share to the rest of the fleet meanwhile.
func (s *CanaryStrategy) reinstate(ctx context.Context, r *run) bool {
	rel := r.req.Reinstate
	if rel == nil || rel.Traffic <= 0 || r.env.Weights == nil {
		return true
	}
	undo := &trafficUndo{
		what: fmt.Sprintf("set router weights of %s back to %s%%", rel.Version, formatPercent(rel.Traffic)),
		call: func(ctx context.Context) error { return r.env.Weights(ctx, rel.Version, rel.Traffic) },
	}
	return r.undoTraffic(ctx, undo) == nil
}

// Rollback sets the router weights of req.Version to req.PriorTraffic (0
// on destroy), then redeploys req.PreviousVersion to targets (a revert to
// a paused release: what each ran then, and its weight back).
func (s *CanaryStrategy) Rollback(ctx context.Context, req Request, env Env, targets []Target) *Result {
	return rollbackOnly(ctx, NameCanary, req, env, targets, func(r *run, ctx context.Context) bool {
		return r.restore(ctx, targets, s.weightsUndo(r)) && s.reinstate(ctx, r)
	})
}

// gated cuts the pending targets at the first closed gate: the targets the
// stages up to it deploy, in rollout order.
func (s *CanaryStrategy) gated(req Request, pending []Target) []Target {
	until := s.cfg.Until(req)
	if until >= 100 {
		return pending
	}
	n := len(req.Targets)
	count := min(max(stageGoal(n, until)-(n-len(pending)), 0), len(pending))
	return pending[:count]
}

// resumeAt: only a canary has time gates.
func (s *CanaryStrategy) resumeAt(rel Release) time.Time {
	return s.cfg.resumeAt(rel.PausedAt, rel.Since)
}

func (s *CanaryStrategy) opened(req Request) bool {
	return req.Gates.Paused && s.cfg.Until(req) > req.PriorTraffic
}

// trafficOwed: a rollout that failed after every target got the version
// (weights not set, nothing rolled back) is known by its status.
func (s *CanaryStrategy) trafficOwed(prior Prior, req Request, versionChanged bool) bool {
	return versionChanged || prior.Status == StatusFailed || s.opened(req)
}

// takeOver: a version another strategy completed is out; its gates are
// behind it (drifted targets are repaired, not held at the first gate),
// and the router, which that strategy never set, is given it all.
func (*CanaryStrategy) takeOver(prior Prior) (float64, bool) {
	if prior.Status != StatusCompleted {
		return 0, false
	}
	return 100, true
}

// trafficHoldsVersion: the router weighs versions; while the saved version
// has traffic, the next apply is a repair that never takes it away.
func (*CanaryStrategy) trafficHoldsVersion(traffic float64) bool { return traffic > 0 }
