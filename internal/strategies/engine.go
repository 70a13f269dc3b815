package strategies

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// maxListed caps how many target ids a message names and how many per-target
// errors are copied into Result.Errors; Outcomes always hold all of them.
const maxListed = 10

// IdleSlot returns the blue/green slot that receives a new version while
// active serves traffic. With no active slot (a new deployment) it is green.
func IdleSlot(active string) string {
	if active == SlotGreen {
		return SlotBlue
	}
	return SlotGreen
}

// Pending returns the targets that strategy name deploys for req, in rollout
// order: those whose req.Current entry differs from req.Version (a target
// missing from Current counts as different). For blue_green only targets of
// the idle slot are pending (of the active slot with req.TopUp). Execute
// deploys exactly these targets, in this order, so the list can be shown at
// plan time.
func Pending(name string, req Request) []Target {
	slot := ""
	if name == NameBlueGreen {
		slot = IdleSlot(req.ActiveSlot)
		if req.TopUp {
			slot = req.ActiveSlot
		}
	}
	var out []Target
	for _, t := range req.Targets {
		if slot != "" && t.Slot != slot {
			continue
		}
		if v, ok := req.Current[t.ID]; ok && v == req.Version {
			continue
		}
		out = append(out, t)
	}
	return out
}

// ran is the version target id ran before the apply, "" when unknown.
func (req Request) ran(id string) string {
	if v, ok := req.Current[id]; ok {
		return v
	}
	return req.Before[id]
}

// known merges Before and Current: every version known before the apply.
func (req Request) known() Versions {
	out := make(Versions, len(req.Current)+len(req.Before))
	maps.Copy(out, req.Before)
	maps.Copy(out, req.Current)
	return out
}

func (e Env) withDefaults() Env {
	if e.Clock == nil {
		e.Clock = clock.Real()
	}
	if e.Limit == nil {
		e.Limit = NewLimiter(DefaultConcurrency)
	}
	if e.Poll == nil {
		e.Poll = e.Health
	}
	return e
}

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
			return reported, fmt.Errorf("not healthy within %s (%d health checks): %w", hc.Timeout, poll, last)
		}
		sleep := func(ctx context.Context) error { return env.Clock.Sleep(ctx, interval) }
		if serr := env.Limit.Pause(ctx, sleep); serr != nil {
			return reported, fmt.Errorf("health wait interrupted after %d health checks (%w): %w", poll, serr, last)
		}
	}
}

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
		r.errorEvent(phase, t.ID, version, "target failed", o.Err)
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
	return r.finalize()
}

// complete ends a successful rollout. Failures it tolerated stay in
// Outcomes (TargetsFailed counts them).
func (r *run) complete() *Result {
	r.res.Success = true
	r.res.Status = StatusCompleted
	r.info("", "rollout of %s completed: %d targets updated", r.req.Version, r.countUpdated())
	return r.finalize()
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

	var note string
	switch {
	case !r.req.AutoRollback:
		note = "nothing was rolled back (auto_rollback is off)"
	case prev == "":
		note = "nothing was rolled back (previous version unknown)"
	case len(touched) == 0 && !trafficMoved:
		note = "nothing was rolled back (no target had been changed)"
	default:
		r.info("rollback", "rolling %d targets back to %s", len(touched), prev)
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
	return r.finalize()
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
		failed = append(failed[:maxListed], fmt.Errorf("and %d more failed targets", extra))
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
	if len(r.req.Targets) == 0 {
		return 0
	}
	at := 0
	for _, t := range r.req.Targets {
		if r.res.Outcomes[t.ID].Version == r.req.Version {
			at++
		}
	}
	return 100 * float64(at) / float64(len(r.req.Targets))
}

// cancelCause is ctx's cause, or context.Canceled for a context that is not
// done (a limiter refused a slot for another reason).
func cancelCause(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return context.Canceled
}

// listIDs joins ids for a message, naming at most maxListed of them.
func listIDs(ids []string) string {
	if len(ids) <= maxListed {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:maxListed], ", "), len(ids)-maxListed)
}

func describeIDs(ids []string, none string) string {
	if len(ids) == 0 {
		return none
	}
	return listIDs(ids)
}

// formatPercent prints a percentage without trailing zeros: 25, 12.5.
func formatPercent(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64)
}
