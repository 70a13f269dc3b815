package strategies

import (
	"context"
	"errors"
	"fmt"
)

// FeatureFlagStrategy deploys the version to every pending target at once
// (bounded by the shared limiter) and, when all are healthy, publishes the
// feature flag at its initial percentage.
type FeatureFlagStrategy struct {
	commonRules
	cfg FeatureFlagConfig
}

func (s *FeatureFlagStrategy) flag() string {
	if s.cfg.FlagName == "" {
		return "flag"
	}
	return fmt.Sprintf("flag %q", s.cfg.FlagName)
}

// Execute deploys req.Version everywhere, then publishes the flag.
func (s *FeatureFlagStrategy) Execute(ctx context.Context, req Request, env Env) *Result {
	r, pending, rejected := begin(NameFeatureFlag, s, req, env, func(r *run) error {
		if r.env.Publish == nil {
			return errors.New("feature_flag needs a flag endpoint to publish the flag")
		}
		return nil
	})
	if rejected != nil {
		return rejected
	}
	restore := func(ctx context.Context, targets []Target) bool {
		return r.restore(ctx, targets, s.publishUndo(r))
	}

	const phase = "deploy"
	r.notifyStarted(pending)
	if len(pending) > 0 {
		if ctx.Err() != nil {
			return r.cancelled(ctx, phase, restore, false)
		}
		r.info(phase, "deploying %s to %s", req.Version, nOf(len(pending), "target"))
		st := r.deployPhase(ctx, pending, phase)
		if st.notStarted > 0 {
			return r.cancelled(ctx, phase, restore, false)
		}
		if len(st.failed) > 0 {
			flag := s.flag() + " not published"
			if req.PriorTraffic > 0 {
				flag = fmt.Sprintf("%s stays at %s%%", s.flag(), formatPercent(req.PriorTraffic))
			}
			cause := fmt.Errorf("%s: %s failed; %s", phase, listIDs(st.failed), flag)
			return r.fail(ctx, phase, cause, restore, false)
		}
		r.notifyPassed(phase, r.res.TrafficPercentage, pending)
	}

	if ctx.Err() != nil {
		return r.cancelled(ctx, "publish", restore, false)
	}
	pct := formatPercent(s.cfg.InitialRollout)
	r.info("publish", "publishing %s at %s%%", s.flag(), pct)
	if err := r.env.Publish(ctx, s.cfg.InitialRollout); err != nil {
		cause := fmt.Errorf("publish: publishing %s at %s%%: %w", s.flag(), pct, err)
		return r.fail(ctx, "publish", cause, restore, true)
	}
	r.res.TrafficPercentage = s.cfg.InitialRollout
	if res := r.measureWindow(ctx, bake(req, s.cfg.InitialRollout, restore, true)); res != nil {
		return res
	}
	return r.complete()
}

// publishUndo publishes the flag at what it had before the apply: 0 for a
// new version, the saved percentage for a repair.
func (s *FeatureFlagStrategy) publishUndo(r *run) *trafficUndo {
	prior := r.priorTraffic()
	u := &trafficUndo{
		what: fmt.Sprintf("publish %s at %s%%", s.flag(), formatPercent(prior)),
		done: func() { r.res.TrafficPercentage = prior },
	}
	if r.env.Publish != nil {
		u.call = func(ctx context.Context) error { return r.env.Publish(ctx, prior) }
	}
	return u
}

// Rollback publishes the flag at 0 %, then redeploys req.PreviousVersion to
// targets.
func (s *FeatureFlagStrategy) Rollback(ctx context.Context, req Request, env Env, targets []Target) *Result {
	return rollbackOnly(ctx, NameFeatureFlag, req, env, targets, func(r *run, ctx context.Context) bool {
		return r.restore(ctx, targets, s.publishUndo(r))
	})
}

// A feature flag gates a feature, not a version: a failure puts back the
// percentage it had, whatever the version.
func (*FeatureFlagStrategy) trafficOutlivesVersion() bool { return true }

// trafficOwed: a rollout that failed after every target got the version
// (flag not published, nothing rolled back) is known by its status, and a
// flag not at the configured percentage is published again.
func (s *FeatureFlagStrategy) trafficOwed(prior Prior, _ Request, versionChanged bool) bool {
	return versionChanged || prior.Status == StatusFailed ||
		prior.Strategy != NameFeatureFlag || prior.Traffic != s.cfg.InitialRollout
}

// trafficOn: traffic_percentage is the flag's percentage, not a version's.
func (*FeatureFlagStrategy) trafficOn(_ string, _ []Target, _ Versions, newShare float64) float64 {
	return newShare
}
