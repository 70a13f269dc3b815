package strategies

// Notices: what a rollout tells the people and systems watching it, one
// notice per step (docs/guides/watching-a-rollout.md). Events (types.go)
// are log lines; notices are the few moments worth a message.

// Notice kinds of a deployment, as sent in notifications
// (dev.codomyrmex.deployment.<kind>).
const (
	NoticeStarted           = "started"
	NoticeStagePassed       = "stage_passed"
	NoticeMeasurementFailed = "measurement_failed"
	NoticePaused            = "paused"
	NoticeCompleted         = "completed"
	NoticeFailed            = "failed"
	NoticeRolledBack        = "rolled_back"
)

// NoticeKinds lists a deployment's notice kinds in the order a rollout can
// send them.
var NoticeKinds = []string{
	NoticeStarted, NoticeStagePassed, NoticeMeasurementFailed, NoticePaused,
	NoticeCompleted, NoticeFailed, NoticeRolledBack,
}

// Notice is one step of a rollout worth telling: it started, a stage or
// batch passed, a measurement failed, it paused at a gate, completed,
// failed, or was rolled back. Notices come from the goroutine that runs the
// rollout, in order; the last notice of an Execute is the status it ends
// with (a failure that is rolled back sends failed, then rolled_back).
type Notice struct {
	Kind            string
	Deployment      string
	Version         string
	PreviousVersion string
	Strategy        string
	// Stage is the phase: "batch 2/5", "stage 1 (10%)", "green slot",
	// "bake", "switch"; "" for the rollout as a whole.
	Stage string
	// Percentage is the share of traffic the version has at this step.
	Percentage float64
	// Targets are the ids of the targets concerned, in rollout order: those
	// the apply deploys (started), of the stage (stage_passed), running the
	// version (measurement_failed, paused), updated (completed), failed
	// (failed), rolled back (rolled_back).
	Targets []string
	// Reason says why: the failure, the measurement, the gate.
	Reason string
}

// NotifyFunc receives the notices of a rollout. It must not block: a
// delivery that waits on the network belongs on another goroutine.
type NotifyFunc func(Notice)

// notify sends a notice of kind about the run's request.
func (r *run) notify(kind, stage string, pct float64, targets []string, reason string) {
	if r.env.Notify == nil {
		return
	}
	r.env.Notify(Notice{
		Kind:            kind,
		Deployment:      r.req.Deployment,
		Version:         r.req.Version,
		PreviousVersion: r.req.PreviousVersion,
		Strategy:        r.res.Strategy,
		Stage:           stage,
		Percentage:      pct,
		Targets:         targets,
		Reason:          reason,
	})
}

// PausedAgainNotice is the notice of an apply that left a rollout of
// saved paused at a gate it had reached before: a failure BackAtGate made a
// pause again, a revert to a paused release (AfterRevert).
func PausedAgainNotice(deployment string, saved Saved, res *Result, reason string) Notice {
	return Notice{
		Kind: NoticePaused, Deployment: deployment, Version: saved.Version, PreviousVersion: saved.PreviousVersion,
		Strategy: res.Strategy, Stage: "gate", Percentage: res.PausedAt, Reason: reason,
	}
}

// notifyStarted tells that the rollout of the pending targets started.
func (r *run) notifyStarted(pending []Target) {
	if r.env.Notify == nil {
		return
	}
	r.notify(NoticeStarted, "", r.res.TrafficPercentage, ids(pending), "")
}

// notifyPassed tells that the step at phase passed: its targets are
// deployed, healthy and measured.
func (r *run) notifyPassed(phase string, pct float64, targets []Target) {
	if r.env.Notify == nil {
		return
	}
	r.notify(NoticeStagePassed, phase, pct, ids(targets), "")
}

// runningVersionIDs are the targets running the version now, deployed in
// this apply or an earlier one.
func (r *run) runningVersionIDs() []string {
	var at []string
	for _, t := range r.req.Targets {
		if o := r.res.Outcomes[t.ID]; o != nil && o.Version == r.req.Version && (o.Healthy || !o.Attempted) {
			at = append(at, t.ID)
		}
	}
	return at
}

// updatedIDs are the targets this apply deployed that run the version,
// in rollout order.
func (r *run) updatedIDs() []string {
	var out []string
	for _, id := range r.res.Order {
		if o := r.res.Outcomes[id]; o.Healthy && !o.RolledBack {
			out = append(out, id)
		}
	}
	return out
}

// failedIDs are the targets whose deploy or health check failed in this
// apply, in rollout order; when none did (a metric or the router failed),
// the targets this apply deployed.
func (r *run) failedIDs() []string {
	var out []string
	for _, id := range r.res.Order {
		if r.res.Outcomes[id].Err != nil {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		out = append(out, r.res.Order...)
	}
	return out
}

// ids returns the ids of targets.
func ids(targets []Target) []string {
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t.ID
	}
	return out
}
