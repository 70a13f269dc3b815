// Package rollout is the feature-flag rollout state machine behind
// codomyrmex_feature_rollout and the deterministic user bucketing behind the
// provider functions. It imports nothing from the plugin framework; time is
// always passed in (Start, Reconcile, Settle), so time-driven behaviour is
// tested without sleeping.
//
// A rollout moves a flag through staged percentages:
//
//	pending ──► active ◄──► paused
//	              │
//	              ▼
//	          completed          (any state) ──► aborted (final)
package rollout

import (
	"fmt"
	"slices"
	"time"
)

// State is the lifecycle state of a rollout, as published in the flag
// document and saved in state.
type State string

const (
	StatePending   State = "pending"
	StateActive    State = "active"
	StatePaused    State = "paused"
	StateCompleted State = "completed"
	StateAborted   State = "aborted"
)

// States are every state, as flag documents spell them.
func States() []State {
	return []State{StatePending, StateActive, StatePaused, StateCompleted, StateAborted}
}

// DefaultStages returns the stages used when none are configured:
// 5 → 25 → 50 → 100 %. It returns a fresh slice on every call.
func DefaultStages() []float64 { return []float64{5, 25, 50, 100} }

// Config is what the practitioner asks for.
type Config struct {
	// Stages are the percentages, strictly ascending, each in (0, 100].
	Stages []float64
	// StageDelay is the minimum time between two advances.
	StageDelay time.Duration
	// MaxStage, when set, is the stage index at which auto-advance stops.
	MaxStage *int
	// StartAt, when set, keeps the rollout pending (0 %) until then.
	StartAt *time.Time
	// Paused stops auto-advance; the current percentage stays exposed.
	Paused bool
	// Aborted drops exposure to 0 %; aborting is final.
	Aborted bool
}

// Validate checks the configuration; Start and Reconcile call it.
func (c Config) Validate() error {
	if err := ValidateStages(c.Stages); err != nil {
		return err
	}
	if c.StageDelay < 0 {
		return fmt.Errorf("stage_delay: must not be negative, got %s", c.StageDelay)
	}
	if c.MaxStage != nil && *c.MaxStage < 0 {
		return fmt.Errorf("max_stage: must not be negative, got %d", *c.MaxStage)
	}
	return nil
}

// Rollout is the observable state of one flag's rollout.
type Rollout struct {
	Flag  string
	State State
	// Stage is the index into Stages. An aborted rollout keeps the index it
	// was aborted at, although it exposes nobody.
	Stage  int
	Stages []float64
	// StartedAt is when exposure began: the rollout first left pending (for
	// active, or paused at stage 0). Zero while pending, or when aborted
	// before it ever started.
	StartedAt time.Time
	// UpdatedAt is the last change of State, Stage or Stages; the next
	// advance is due StageDelay after it.
	UpdatedAt time.Time
}

// Percentage is the share of keys exposed: 0 when pending or aborted,
// otherwise the current stage's percentage.
func (r Rollout) Percentage() float64 {
	if r.State == StatePending || r.State == StateAborted {
		return 0
	}
	if r.Stage < 0 || r.Stage >= len(r.Stages) {
		return 0 // rejected by validate; never expose on corrupt input
	}
	return r.Stages[r.Stage]
}

// NextAdvanceAt is when the next advance becomes due under cfg: StartAt for
// a pending rollout, UpdatedAt+StageDelay for an active one that is not held
// by MaxStage (at the last stage that advance completes the rollout), and nil
// otherwise (paused, completed, aborted, held).
func (r Rollout) NextAdvanceAt(cfg Config) *time.Time {
	switch r.State {
	case StatePending:
		if cfg.StartAt == nil {
			return nil
		}
		t := *cfg.StartAt
		return &t
	case StateActive:
		if r.heldBy(cfg) {
			return nil
		}
		t := r.UpdatedAt.Add(cfg.StageDelay)
		return &t
	default:
		return nil
	}
}

// heldBy reports whether MaxStage stops auto-advance. A MaxStage lowered
// below the current stage holds the rollout where it is; it never lowers
// exposure.
func (r Rollout) heldBy(cfg Config) bool {
	return cfg.MaxStage != nil && r.Stage >= *cfg.MaxStage
}

func (r Rollout) clone() Rollout {
	r.Stages = slices.Clone(r.Stages)
	return r
}

// validate rejects a prior rollout that cannot have come from this package,
// e.g. a hand-edited state or a foreign flag document.
func (r Rollout) validate() error {
	switch r.State {
	case StatePending, StateActive, StatePaused, StateCompleted, StateAborted:
	default:
		return fmt.Errorf("unknown state %q", r.State)
	}
	if len(r.Stages) == 0 {
		return fmt.Errorf("no stages")
	}
	if r.Stage < 0 || r.Stage >= len(r.Stages) {
		return fmt.Errorf("stage index %d outside the %d stages", r.Stage, len(r.Stages))
	}
	return nil
}

// Start creates a rollout at now: active at stage 0, or pending when now is
// before StartAt. Paused and Aborted are honoured from the start (a paused
// rollout exposes stage 0 but does not advance).
func Start(flag string, cfg Config, now time.Time) (Rollout, error) {
	if err := cfg.Validate(); err != nil {
		return Rollout{}, fmt.Errorf("starting rollout of flag %q: %w", flag, err)
	}
	r := Rollout{Flag: flag, Stages: slices.Clone(cfg.Stages), UpdatedAt: now}
	switch {
	case cfg.Aborted:
		r.State = StateAborted
	case cfg.StartAt != nil && now.Before(*cfg.StartAt):
		r.State = StatePending
	case cfg.Paused:
		r.State, r.StartedAt = StatePaused, now
	default:
		r.State, r.StartedAt = StateActive, now
	}
	return r, nil
}

// Reconcile returns what prior should become under cfg at now. It is pure:
// plan calls it to show the next state, and apply publishes exactly that.
// The rules, applied in this order:
//
//  1. Stages: a change of Stages never raises exposure. Stage becomes the
//     highest new index whose percentage is <= the stage's current
//     percentage; when there is none, a rollout that exposes keys (active,
//     paused, completed) is refused with an *ExposureError, and a pending
//     or aborted one (0 %) takes index 0. A completed rollout that is no
//     longer at the last stage becomes active again, so it can reach the
//     new end.
//  2. Abort: an aborted rollout stays aborted (only rule 1 still applies to
//     it); Aborted moves any other state to aborted.
//  3. Pause and resume: Paused moves active to paused, and !Paused moves
//     paused to active. Pending and completed rollouts are not affected.
//  4. Start: pending becomes active (or paused, when Paused) once now >=
//     StartAt.
//  5. Advance, at most one stage: when nothing above changed the rollout,
//     it is active, not held by MaxStage, and now >= UpdatedAt+StageDelay.
//     Advancing past the last stage gives completed at the last stage.
//
// UpdatedAt is set to now only when State, Stage or Stages change; StartedAt
// when the rollout first leaves pending. Reconcile is idempotent:
// reconciling its result again at the same now changes nothing, unless
// StageDelay is 0 (then every call is due an advance).
func Reconcile(prior Rollout, cfg Config, now time.Time) (Rollout, error) {
	return reconcile(prior, cfg, now, true)
}

// Settle is Reconcile without what elapsed time alone does (the start of
// rule 4 and the advance of rule 5): it applies what the configuration asks
// for (stages, abort, pause) and its State, Stage and Stages do not depend
// on now. The provider settles when the configuration changed, so that the
// plan made before apply and the plan remade during apply agree whatever
// time passed between them; the start or advance that became due waits for
// the next plan.
func Settle(prior Rollout, cfg Config, now time.Time) (Rollout, error) {
	return reconcile(prior, cfg, now, false)
}

// ExposureError is a change of stages refused because no new stage is at
// or below the percentage the rollout exposes.
type ExposureError struct {
	Flag  string
	State State
	// Current is the exposed percentage, FirstNew the lowest new stage.
	Current, FirstNew float64
}

func (e *ExposureError) Error() string {
	return fmt.Sprintf("stages: the rollout is %s and exposes %g %%, and the first new stage is %g %%: a change of stages never raises exposure, so the new stages must include one at or below %g %%",
		e.State, e.Current, e.FirstNew, e.Current)
}

func reconcile(prior Rollout, cfg Config, now time.Time, withTime bool) (Rollout, error) {
	if err := cfg.Validate(); err != nil {
		return prior, fmt.Errorf("reconciling rollout of flag %q: %w", prior.Flag, err)
	}
	if err := prior.validate(); err != nil {
		return prior, fmt.Errorf("reconciling rollout of flag %q: prior state: %w", prior.Flag, err)
	}

	next := prior.clone()
	changed := false
	if !slices.Equal(next.Stages, cfg.Stages) {
		// Aborting in the same change drops exposure to 0 %, so no stage
		// list can raise it.
		if err := next.restage(cfg.Stages, !cfg.Aborted); err != nil {
			return prior, fmt.Errorf("reconciling rollout of flag %q: %w", prior.Flag, err)
		}
		changed = true
	}

	switch {
	case next.State == StateAborted:
	case cfg.Aborted:
		next.State, changed = StateAborted, true
	case next.State == StateActive && cfg.Paused:
		next.State, changed = StatePaused, true
	case next.State == StatePaused && !cfg.Paused:
		next.State, changed = StateActive, true
	}

	if withTime && next.State == StatePending && (cfg.StartAt == nil || !now.Before(*cfg.StartAt)) {
		next.State, next.StartedAt, changed = StateActive, now, true
		if cfg.Paused {
			next.State = StatePaused
		}
	}

	// A change above restarted the delay (UpdatedAt becomes now), so one
	// apply never both changes the rollout and advances it.
	if withTime && !changed && next.State == StateActive && !next.heldBy(cfg) && !now.Before(next.UpdatedAt.Add(cfg.StageDelay)) {
		next.advance()
		changed = true
	}

	if changed {
		next.UpdatedAt = now
	}
	return next, nil
}

// restage moves r onto stages (rule 1 of Reconcile). guard refuses a list
// that would raise the exposure of a rollout that exposes keys.
func (r *Rollout) restage(stages []float64, guard bool) error {
	idx := 0
	if r.State != StatePending {
		var ok bool
		idx, ok = stageAtOrBelow(stages, r.Stages[r.Stage])
		exposes := r.State == StateActive || r.State == StatePaused || r.State == StateCompleted
		if !ok && exposes && guard {
			return &ExposureError{Flag: r.Flag, State: r.State, Current: r.Percentage(), FirstNew: stages[0]}
		}
	}
	r.Stage, r.Stages = idx, slices.Clone(stages)
	if r.State == StateCompleted && r.Stage < len(r.Stages)-1 {
		r.State = StateActive
	}
	return nil
}

// advance moves an active rollout one stage on, or completes it at the last
// stage. The caller sets UpdatedAt.
func (r *Rollout) advance() {
	if r.Stage < len(r.Stages)-1 {
		r.Stage++
		return
	}
	r.State = StateCompleted
}

// stageAtOrBelow is the highest index of stages whose percentage is <= pct;
// ok is false (and the index 0) when every stage is above pct.
func stageAtOrBelow(stages []float64, pct float64) (idx int, ok bool) {
	for i, s := range stages {
		if s <= pct {
			idx, ok = i, true
		}
	}
	return idx, ok
}
