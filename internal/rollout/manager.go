package rollout

import (
	"fmt"
	"sync"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// Manager is the seed's imperative RolloutManager: rollouts kept in memory,
// moved by explicit calls rather than by configuration. Timestamps come from
// the injected clock. It is safe for concurrent use.
//
// Unlike Reconcile, Advance is an operator's decision: it ignores StageDelay
// and MaxStage, which only govern automatic advances.
type Manager struct {
	clock clock.Clock

	mu       sync.Mutex
	rollouts map[string]*Rollout
}

// NewManager returns an empty Manager reading time from c.
func NewManager(c clock.Clock) *Manager {
	return &Manager{clock: c, rollouts: make(map[string]*Rollout)}
}

// Create starts a rollout for flag with Start. Unlike the seed, it refuses to
// replace an existing rollout silently.
func (m *Manager) Create(flag string, cfg Config) (Rollout, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rollouts[flag]; ok {
		return Rollout{}, fmt.Errorf("creating rollout of flag %q: %w", flag, ErrRolloutExists)
	}
	r, err := Start(flag, cfg, m.clock.Now())
	if err != nil {
		return Rollout{}, fmt.Errorf("creating rollout of flag %q: %w", flag, err)
	}
	m.rollouts[flag] = &r
	return r.clone(), nil
}

// Advance moves the rollout one stage on; past the last stage it completes.
// A pending rollout is started at stage 0 instead. Paused, completed and
// aborted rollouts cannot advance.
func (m *Manager) Advance(flag string) (Rollout, error) {
	return m.transition(flag, "advancing", func(r *Rollout, now time.Time) error {
		switch r.State {
		case StatePending:
			r.State, r.StartedAt = StateActive, now
		case StateActive:
			r.advance()
		case StatePaused:
			return fmt.Errorf("cannot advance a paused rollout, resume it first: %w", ErrIllegalTransition)
		default:
			return fmt.Errorf("cannot advance a rollout that is %s: %w", r.State, ErrIllegalTransition)
		}
		return nil
	})
}

// Pause stops an active rollout at its current stage.
func (m *Manager) Pause(flag string) (Rollout, error) {
	return m.transition(flag, "pausing", func(r *Rollout, _ time.Time) error {
		if r.State != StateActive {
			return fmt.Errorf("only an active rollout can be paused, this one is %s: %w", r.State, ErrIllegalTransition)
		}
		r.State = StatePaused
		return nil
	})
}

// Resume makes a paused rollout active again.
func (m *Manager) Resume(flag string) (Rollout, error) {
	return m.transition(flag, "resuming", func(r *Rollout, _ time.Time) error {
		if r.State != StatePaused {
			return fmt.Errorf("only a paused rollout can be resumed, this one is %s: %w", r.State, ErrIllegalTransition)
		}
		r.State = StateActive
		return nil
	})
}

// Abort drops the rollout to 0 % from any state; it is final.
func (m *Manager) Abort(flag string) (Rollout, error) {
	return m.transition(flag, "aborting", func(r *Rollout, _ time.Time) error {
		if r.State == StateAborted {
			return fmt.Errorf("the rollout is already aborted: %w", ErrIllegalTransition)
		}
		r.State = StateAborted
		return nil
	})
}

// Status returns a copy of the rollout of flag.
func (m *Manager) Status(flag string) (Rollout, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rollouts[flag]
	if !ok {
		return Rollout{}, fmt.Errorf("reading rollout of flag %q: %w", flag, ErrUnknownFlag)
	}
	return r.clone(), nil
}

// transition applies move to a copy of the rollout of flag under the lock and
// keeps the copy, with UpdatedAt = now, only when move succeeds.
func (m *Manager) transition(flag, verb string, move func(r *Rollout, now time.Time) error) (Rollout, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rollouts[flag]
	if !ok {
		return Rollout{}, fmt.Errorf("%s rollout of flag %q: %w", verb, flag, ErrUnknownFlag)
	}
	next := r.clone()
	now := m.clock.Now()
	if err := move(&next, now); err != nil {
		return r.clone(), fmt.Errorf("%s rollout of flag %q: %w", verb, flag, err)
	}
	next.UpdatedAt = now
	*r = next
	return next.clone(), nil
}
