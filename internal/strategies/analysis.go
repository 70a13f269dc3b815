package strategies

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultAnalysisInterval is the time between two measurements of a window
// when analysis.interval is not set.
const DefaultAnalysisInterval = 30 * time.Second

// Analysis says what is measured in every window in which the new version
// takes traffic (a canary stage's stage_interval, a rolling batch's
// batch_delay, the bake after the last step) and how many failed
// measurements a window tolerates. The measuring itself is Env.Measure.
type Analysis struct {
	// Interval is the time between two measurements inside a window.
	Interval time.Duration
	// InitialDelay is waited after traffic moved, before the first
	// measurement of a window. A window shorter than it lasts InitialDelay.
	InitialDelay time.Duration
	// Metrics are measured in this order; Env.Measure gets their index.
	Metrics []MetricLimit
	// DryRun measures and logs, and never fails the rollout.
	DryRun bool
}

// MetricLimit names a metric and the failed measurements a window tolerates.
type MetricLimit struct {
	Name         string
	FailureLimit int
}

// Window is where a measurement is taken; its fields fill the placeholders
// of queries and URLs.
type Window struct {
	Deployment      string
	Version         string
	PreviousVersion string
	// Percentage is the share of traffic (or, rolling, of the fleet) the
	// version has during the window.
	Percentage float64
	// Stage is the 1-based stage or batch number, or "bake".
	Stage string
	// Phase names the window in messages: "stage 2 (25%)", "batch 1/3", "bake".
	Phase string
}

// Measurement is one reading of one metric.
type Measurement struct {
	Metric string
	// Value is the measured value as text ("0.021", "true"); "" when there
	// was none (no data, or the measurement failed).
	Value  string
	Passed bool
	// Threshold says what was required: "max 0.01", "equals true", "2xx".
	Threshold string
	// Note explains a reading without a value, or why it failed beyond the
	// threshold: "no data (no_data = fail)", "query returned 3 samples".
	Note  string
	Phase string
	At    time.Time
}

// describe is the measurement in a message: "0.2", "no data", an error.
func (m Measurement) describe() string {
	switch {
	case m.Value != "" && m.Note != "":
		return m.Value + " (" + m.Note + ")"
	case m.Value != "":
		return m.Value
	default:
		return m.Note
	}
}

// MeasureFunc takes one measurement of the metric at index metric of
// Analysis.Metrics in window w. A failed query is a failed measurement
// (Passed false, with a Note), not an error: the window counts it.
type MeasureFunc func(ctx context.Context, metric int, w Window) Measurement

// errWindowCancelled reports a window cut short by the context.
type errWindowCancelled struct{ err error }

func (e errWindowCancelled) Error() string { return e.err.Error() }

// window waits d after traffic moved to pct at phase, measuring every
// metric of the request's analysis on the way: the first time after
// InitialDelay, then every Interval, and always once at the end (a window of
// 0 s measures once). It returns an error as soon as a metric has failed
// more often than its failure_limit (never with DryRun), or an
// errWindowCancelled when ctx ends the wait. Without analysis it only
// waits.
func (r *run) window(ctx context.Context, phase, stage string, d time.Duration, pct float64) error {
	a := r.req.Analysis
	if len(a.Metrics) == 0 || r.env.Measure == nil {
		if d <= 0 {
			return nil
		}
		if err := r.env.Clock.Sleep(ctx, d); err != nil {
			return errWindowCancelled{err}
		}
		return nil
	}
	w := Window{
		Deployment:      r.req.Deployment,
		Version:         r.req.Version,
		PreviousVersion: r.req.PreviousVersion,
		Percentage:      pct,
		Stage:           stage,
		Phase:           phase,
	}
	interval := a.Interval
	if interval <= 0 {
		interval = DefaultAnalysisInterval
	}
	end := max(d, a.InitialDelay)
	failed := make([][]Measurement, len(a.Metrics))
	start, slept := r.env.Clock.Now(), time.Duration(0)
	for at := a.InitialDelay; ; at = min(at+interval, end) {
		// Offsets from the start of the window: the time a measurement
		// takes does not push the next one back. (A clock that does not
		// move counts the time slept.)
		if wait := at - max(r.env.Clock.Now().Sub(start), slept); wait > 0 {
			if err := r.env.Clock.Sleep(ctx, wait); err != nil {
				return errWindowCancelled{err}
			}
			slept += wait
		}
		if ctx.Err() != nil {
			return errWindowCancelled{cancelCause(ctx)}
		}
		for i, limit := range a.Metrics {
			m := r.measure(ctx, i, w)
			if m.Passed {
				continue
			}
			if ctx.Err() != nil {
				// Cut short by the apply's end (Ctrl-C, timeouts): a
				// cancellation, not a reading of the version.
				return errWindowCancelled{cancelCause(ctx)}
			}
			failed[i] = append(failed[i], m)
			if !a.DryRun && r.env.Notify != nil {
				r.notify(NoticeMeasurementFailed, phase, pct, r.runningVersionIDs(), fmt.Sprintf("metric %s = %s", m.Metric, m.describe()))
			}
			if len(failed[i]) > limit.FailureLimit && !a.DryRun {
				return r.analysisFailure(phase, limit, failed[i])
			}
		}
		if at >= end {
			return nil
		}
	}
}

// measure takes one measurement, records it as the metric's last one and
// logs it.
func (r *run) measure(ctx context.Context, i int, w Window) Measurement {
	m := r.env.Measure(ctx, i, w)
	m.Metric = r.req.Analysis.Metrics[i].Name
	m.Phase = w.Phase
	if m.At.IsZero() {
		m.At = r.env.Clock.Now()
	}
	if r.res.Measurements == nil {
		r.res.Measurements = make([]Measurement, len(r.req.Analysis.Metrics))
	}
	r.res.Measurements[i] = m
	verdict := "passed"
	if !m.Passed {
		verdict = "failed"
		if r.req.Analysis.DryRun {
			verdict = "failed (dry_run: ignored)"
		}
	}
	if m.Note != "" {
		// The note says what was wrong ("above max 0.05", "no data: ...").
		r.info(w.Phase, "%s: metric %s = %s: %s", w.Phase, m.Metric, m.describe(), verdict)
	} else {
		r.info(w.Phase, "%s: metric %s = %s (%s): %s", w.Phase, m.Metric, m.describe(), m.Threshold, verdict)
	}
	return m
}

// analysisFailure is the cause of a rollout stopped by a metric: the
// metric, every failed value of the window, the threshold, the phase, and
// the targets that run the version.
func (r *run) analysisFailure(phase string, limit MetricLimit, failed []Measurement) error {
	values := make([]string, len(failed))
	for i, m := range failed {
		values[i] = m.describe()
	}
	// The targets running the version now, deployed in this apply or an
	// earlier one (a resume measures a stage earlier applies deployed).
	at := r.runningVersionIDs()
	// The threshold, unless each failed value says it already ("above max
	// 0.05") or none was a value (no data, Prometheus unreachable).
	required := ""
	for _, m := range failed {
		if m.Value != "" && m.Threshold != "" && !strings.Contains(m.Note, m.Threshold) {
			required = "; required " + m.Threshold
			break
		}
	}
	return fmt.Errorf("%s: analysis failed: metric %q failed %s (failure_limit %d): %s%s; targets running %s: %s",
		phase, limit.Name, nOf(len(failed), "measurement"), limit.FailureLimit, strings.Join(values, ", "), required,
		r.req.Version, describeIDs(at, "none"))
}

// LastMeasurements returns the last measurement of each metric that was
// measured, in metric order.
func (res *Result) LastMeasurements() []Measurement {
	out := make([]Measurement, 0, len(res.Measurements))
	for _, m := range res.Measurements {
		if m.Metric != "" {
			out = append(out, m)
		}
	}
	return out
}

// stepWindow is the window after a step and what its failure undoes.
type stepWindow struct {
	// phase names the window in messages; stage is its number or "bake".
	phase, stage string
	// before is the step the window stands before: where a cancelled
	// window is reported.
	before string
	wait   time.Duration
	pct    float64
	// restore and trafficMoved are what a failure hands to run.fail.
	restore      restorer
	trafficMoved bool
}

// measureWindow runs the window after a step; a non-nil result ends the
// rollout: cancelled (reported at w.before), or failed on a metric (rolled
// back like an unhealthy stage).
func (r *run) measureWindow(ctx context.Context, w stepWindow) *Result {
	err := r.window(ctx, w.phase, w.stage, w.wait, w.pct)
	if err == nil {
		return nil
	}
	if errors.As(err, new(errWindowCancelled)) {
		return r.cancelled(ctx, w.before, w.restore, w.trafficMoved)
	}
	return r.fail(ctx, w.phase, err, w.restore, w.trafficMoved)
}

// bakePhase names the window after the last step.
const bakePhase = "bake"

// bake is the window after the last step, with traffic at pct.
func bake(req Request, pct float64, restore restorer, trafficMoved bool) stepWindow {
	return stepWindow{phase: bakePhase, stage: bakePhase, before: bakePhase, wait: req.Bake, pct: pct, restore: restore, trafficMoved: trafficMoved}
}
