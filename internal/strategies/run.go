package strategies

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// run is the bookkeeping of one Execute or Rollback call.
type run struct {
	req   Request
	env   Env
	res   *Result
	start time.Time
	// toPrevious: restore PreviousVersion everywhere (Rollback, destroy)
	// instead of what each target ran before (a failed Execute).
	toPrevious bool
}

// newRun prepares a result with an outcome for every target. It reports an
// unusable request or environment as an error; the run can still record it.
func newRun(strategy string, req Request, env Env) (*run, error) {
	env = env.withDefaults()
	r := &run{
		req:   req,
		env:   env,
		start: env.Clock.Now(),
		res: &Result{
			Strategy:   strategy,
			Status:     StatusFailed,
			Outcomes:   make(map[string]*TargetOutcome, len(req.Targets)),
			ActiveSlot: req.ActiveSlot,
			// Until the rollout moves traffic, the version has what it had.
			TrafficPercentage: req.PriorTraffic,
		},
	}
	var dup []string
	for _, t := range req.Targets {
		if _, seen := r.res.Outcomes[t.ID]; seen {
			dup = append(dup, t.ID)
			continue
		}
		r.res.Outcomes[t.ID] = &TargetOutcome{ID: t.ID, Version: req.ran(t.ID)}
	}
	switch {
	case len(dup) > 0:
		return r, fmt.Errorf("target ids must be unique: %s repeated", listIDs(dup))
	case env.Deploy == nil:
		return r, errors.New("no deploy function configured")
	case req.HealthCheck.Enabled && env.Health == nil:
		return r, errors.New("health checks are enabled but no health checker is configured")
	}
	return r, nil
}

// outcome returns the outcome of t, adding one for a target outside
// req.Targets (a Rollback may be given such a target).
func (r *run) outcome(t Target) *TargetOutcome {
	o, ok := r.res.Outcomes[t.ID]
	if !ok {
		o = &TargetOutcome{ID: t.ID, Version: r.req.ran(t.ID)}
		r.res.Outcomes[t.ID] = o
	}
	return o
}

func (r *run) emit(e Event) {
	if r.env.OnEvent != nil {
		r.env.OnEvent(e)
	}
}

func (r *run) info(phase, format string, args ...any) {
	r.emit(Event{Level: LevelInfo, Phase: phase, Version: r.req.Version, Message: fmt.Sprintf(format, args...)})
}

func (r *run) errorEvent(phase, targetID, version, msg string, err error) {
	r.emit(Event{Level: LevelError, Phase: phase, TargetID: targetID, Version: version, Message: msg, Err: err})
}

// begin starts the Execute of a strategy by its rules: it rejects a request
// that newRun or one of checks refuses (rejected is then the result), and
// otherwise marks every target that is not pending as skipped.
func begin(strategy string, rules fleetRules, req Request, env Env, checks ...func(*run) error) (r *run, pending []Target, rejected *Result) {
	r, err := newRun(strategy, req, env)
	for _, check := range checks {
		if err != nil {
			break
		}
		err = check(r)
	}
	if err != nil {
		return r, nil, r.reject(err)
	}
	pending = pendingFor(rules, req)
	r.markSkipped(pending)
	return r, pending, nil
}

// markSkipped flags every target that is not pending as skipped; those
// already at the version count as healthy.
func (r *run) markSkipped(pending []Target) {
	isPending := make(map[string]bool, len(pending))
	for _, t := range pending {
		isPending[t.ID] = true
	}
	for _, t := range r.req.Targets {
		if !isPending[t.ID] {
			o := r.res.Outcomes[t.ID]
			o.Skipped = true
			o.Healthy = o.Version == r.req.Version
		}
	}
}

// phaseStats sums up one deployPhase.
type phaseStats struct {
	attempted  int
	healthy    int
	failed     []string // ids, in list order
	notStarted int      // left out because ctx was cancelled
}

// deployPhase deploys the version to targets concurrently (bounded by the
// shared limiter), health-checks each one, and records the outcomes.
func (r *run) deployPhase(ctx context.Context, targets []Target, phase string) phaseStats {
	version, previous := r.req.Version, r.req.PreviousVersion
	results := runGroup(ctx, r.env.Limit, targets, func(ctx context.Context, t Target) targetResult {
		return deployAndWait(ctx, r.env, r.req.HealthCheck, t, version, previous)
	})
	var st phaseStats
	for i, t := range targets {
		tr := results[i]
		if !tr.started {
			st.notStarted++
			continue
		}
		st.attempted++
		o := r.outcome(t)
		o.Attempted, o.Skipped, o.Phase = true, false, phase
		r.res.Order = append(r.res.Order, t.ID)
		if tr.version != "" {
			o.Version = tr.version
		}
		if tr.err == nil {
			o.Healthy = true
			st.healthy++
			continue
		}
		o.Healthy = false
		o.Err = fmt.Errorf("target %s (%s): %w", t.ID, phase, tr.err)
		st.failed = append(st.failed, t.ID)
		r.errorEvent(phase, t.ID, version, fmt.Sprintf("%s: target %s failed", phase, t.ID), o.Err)
	}
	return st
}

// touched returns the targets a deploy was sent to in this apply, in the
// order the deploys started.
func (r *run) touched() []Target {
	byID := make(map[string]Target, len(r.req.Targets))
	for _, t := range r.req.Targets {
		byID[t.ID] = t
	}
	out := make([]Target, 0, len(r.res.Order))
	for _, id := range r.res.Order {
		out = append(out, byID[id])
	}
	return out
}

// reject ends a run that could not start; nothing was deployed.
func (r *run) reject(err error) *Result {
	r.res.StoppedAt = "validation"
	r.res.Errors = append(r.res.Errors, err)
	r.errorEvent("validation", "", r.req.Version, "rollout not started", err)
	r.notify(NoticeFailed, "validation", r.res.TrafficPercentage, nil, err.Error())
	return r.finalize()
}

// complete ends a successful rollout. Failures it tolerated stay in
// Outcomes (TargetsFailed counts them).
func (r *run) complete() *Result {
	r.res.Success = true
	r.res.Status = StatusCompleted
	r.info("", "rollout of %s completed: %s updated", r.req.Version, nOf(r.countUpdated(), "target"))
	res := r.finalize()
	if r.env.Notify != nil {
		r.notify(NoticeCompleted, "", res.TrafficPercentage, r.updatedIDs(), nOf(res.TargetsUpdated, "target")+" updated")
	}
	return res
}

// restorer rolls the given targets back and reports whether everything,
// traffic included, was restored.
type restorer func(ctx context.Context, targets []Target) bool

// fail ends a rollout that stopped at phase because of cause. With
// auto-rollback and a known previous version it runs restore on every target
// touched in this apply (and also when trafficMoved, with no target touched).
// The rollback runs on a context that ignores cancellation: a cancelled
// apply must still be able to undo what it did.
func (r *run) fail(ctx context.Context, phase string, cause error, restore restorer, trafficMoved bool) *Result {
	r.res.StoppedAt = phase
	touched := r.touched()
	prev := r.req.PreviousVersion
	r.errorEvent(phase, "", r.req.Version, "rollout failed", cause)
	if r.env.Notify != nil {
		r.notify(NoticeFailed, phase, r.res.TrafficPercentage, r.failedIDs(), cause.Error())
	}

	var note string
	switch {
	case !r.req.AutoRollback:
		note = "nothing was rolled back (auto_rollback is off)"
	case prev == "":
		note = "nothing was rolled back (previous version unknown)"
	case len(touched) == 0 && !trafficMoved:
		note = "nothing was rolled back (no target had been changed)"
	default:
		r.info("rollback", "rolling %s back to %s", nOf(len(touched), "target"), prev)
		if restore(context.WithoutCancel(ctx), touched) {
			r.res.Status = StatusRolledBack
			note = fmt.Sprintf("rolled back to %s: %s", r.restoredVersions(prev), describeIDs(r.res.RolledBack, "no target needed it"))
		} else {
			note = fmt.Sprintf("rollback to %s incomplete: restored %s; not restored: %s",
				r.restoredVersions(prev), describeIDs(r.res.RolledBack, "none"), describeIDs(r.notRestored(touched), "traffic"))
		}
	}
	r.res.Errors = append(r.res.Errors, fmt.Errorf("%w; %s", cause, note))
	r.appendTargetErrors()
	res := r.finalize()
	if res.Status == StatusRolledBack {
		r.notify(NoticeRolledBack, phase, res.TrafficPercentage, res.RolledBack, note)
	}
	return res
}

// cancelled ends a rollout whose context was cancelled before phase could
// start or finish.
func (r *run) cancelled(ctx context.Context, phase string, restore restorer, trafficMoved bool) *Result {
	cause := fmt.Errorf("%s: rollout cancelled, no further target started: %w", phase, cancelCause(ctx))
	return r.fail(ctx, phase+" (cancelled)", cause, restore, trafficMoved)
}

// restoredVersions names what the rollback restored: prev, or, when some
// target went back to a version of its own, "the version each target ran
// before (t4: 1.0.0)".
func (r *run) restoredVersions(prev string) string {
	var own []string
	for _, id := range r.res.RolledBack {
		if v := r.res.Outcomes[id].RestoredTo; v != prev {
			own = append(own, id+": "+v)
		}
	}
	if len(own) == 0 {
		return prev
	}
	return fmt.Sprintf("the version each target ran before (%s)", listIDs(own))
}

func (r *run) notRestored(touched []Target) []string {
	var ids []string
	for _, t := range touched {
		if !r.res.Outcomes[t.ID].RolledBack {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// appendTargetErrors copies the first per-target failures into Errors.
func (r *run) appendTargetErrors() {
	var failed []error
	for _, id := range r.res.Order {
		if o := r.res.Outcomes[id]; o.Err != nil {
			failed = append(failed, o.Err)
		}
	}
	if len(failed) > maxListed {
		extra := len(failed) - maxListed
		failed = append(failed[:maxListed], fmt.Errorf("and %s", strings.Replace(nOf(extra, "failed target"), " ", " more ", 1)))
	}
	r.res.Errors = append(r.res.Errors, failed...)
}

func (r *run) countUpdated() int {
	n := 0
	for _, o := range r.res.Outcomes {
		if o.Attempted && o.Healthy && !o.RolledBack {
			n++
		}
	}
	return n
}

// finalize fills the counters and the duration.
func (r *run) finalize() *Result {
	r.res.TargetsUpdated = r.countUpdated()
	r.res.TargetsFailed = 0
	for _, o := range r.res.Outcomes {
		if (o.Attempted && !o.Healthy) || o.RollbackErr != nil {
			r.res.TargetsFailed++
		}
	}
	if r.res.Strategy == NameRolling && len(r.req.Targets) > 0 {
		r.res.TrafficPercentage = r.fleetShare()
	}
	r.res.Duration = r.env.Clock.Now().Sub(r.start)
	return r.res
}

// fleetShare is the percentage of the targets that run the version: the
// share of traffic a rolling fleet gives it.
func (r *run) fleetShare() float64 {
	return share(r.req.Version, r.req.Targets, func(id string) string { return r.res.Outcomes[id].Version })
}

// share is the percentage of targets whose version (by versionOf) is
// version.
func share(version string, targets []Target, versionOf func(id string) string) float64 {
	if len(targets) == 0 {
		return 0
	}
	at := 0
	for _, t := range targets {
		if versionOf(t.ID) == version {
			at++
		}
	}
	return 100 * float64(at) / float64(len(targets))
}
