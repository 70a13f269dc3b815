package rollout

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// action is one Manager call.
type action string

const (
	actAdvance action = "advance"
	actPause   action = "pause"
	actResume  action = "resume"
	actAbort   action = "abort"
)

func (a action) do(m *Manager, flag string) (Rollout, error) {
	switch a {
	case actAdvance:
		return m.Advance(flag)
	case actPause:
		return m.Pause(flag)
	case actResume:
		return m.Resume(flag)
	case actAbort:
		return m.Abort(flag)
	}
	panic("unknown action " + a)
}

// newManagerAt returns a manager whose rollout of "f" (default stages) was
// brought to state by legal calls, and its clock.
func newManagerAt(t *testing.T, state State, cfg Config) (*Manager, *clock.Fake) {
	t.Helper()
	c := clock.NewFake(t0)
	m := NewManager(c)
	if state == StatePending {
		cfg.StartAt = ptr(at(time.Hour))
	}
	if _, err := m.Create("f", cfg); err != nil {
		t.Fatalf("Create: %v", err)
	}
	var steps []action
	switch state {
	case StatePaused:
		steps = []action{actPause}
	case StateCompleted:
		steps = []action{actAdvance, actAdvance, actAdvance, actAdvance}
	case StateAborted:
		steps = []action{actAbort}
	}
	for _, a := range steps {
		if _, err := a.do(m, "f"); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	c.Advance(time.Minute)
	return m, c
}

func TestManager_transitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from      State
		act       action
		wantState State
		wantStage int
		wantPct   float64
		illegal   string // substring of the error when the transition is illegal
	}{
		{from: StatePending, act: actAdvance, wantState: StateActive, wantStage: 0, wantPct: 5},
		{from: StatePending, act: actPause, illegal: "only an active rollout can be paused, this one is pending"},
		{from: StatePending, act: actResume, illegal: "only a paused rollout can be resumed, this one is pending"},
		{from: StatePending, act: actAbort, wantState: StateAborted},

		{from: StateActive, act: actAdvance, wantState: StateActive, wantStage: 1, wantPct: 25},
		{from: StateActive, act: actPause, wantState: StatePaused, wantPct: 5},
		{from: StateActive, act: actResume, illegal: "this one is active"},
		{from: StateActive, act: actAbort, wantState: StateAborted},

		{from: StatePaused, act: actAdvance, illegal: "cannot advance a paused rollout, resume it first"},
		{from: StatePaused, act: actPause, illegal: "this one is paused"},
		{from: StatePaused, act: actResume, wantState: StateActive, wantPct: 5},
		{from: StatePaused, act: actAbort, wantState: StateAborted},

		{from: StateCompleted, act: actAdvance, illegal: "cannot advance a rollout that is completed"},
		{from: StateCompleted, act: actPause, illegal: "this one is completed"},
		{from: StateCompleted, act: actResume, illegal: "this one is completed"},
		{from: StateCompleted, act: actAbort, wantState: StateAborted, wantStage: 3},

		{from: StateAborted, act: actAdvance, illegal: "cannot advance a rollout that is aborted"},
		{from: StateAborted, act: actPause, illegal: "this one is aborted"},
		{from: StateAborted, act: actResume, illegal: "this one is aborted"},
		{from: StateAborted, act: actAbort, illegal: "already aborted"},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"/"+string(tt.act), func(t *testing.T) {
			t.Parallel()
			m, c := newManagerAt(t, tt.from, config())
			before, err := m.Status("f")
			if err != nil {
				t.Fatal(err)
			}
			if before.State != tt.from {
				t.Fatalf("setup reached %s, want %s", before.State, tt.from)
			}
			got, err := tt.act.do(m, "f")
			after, statusErr := m.Status("f")
			if statusErr != nil {
				t.Fatal(statusErr)
			}
			if tt.illegal != "" {
				if !errors.Is(err, ErrIllegalTransition) {
					t.Fatalf("%s from %s: error %v, want ErrIllegalTransition", tt.act, tt.from, err)
				}
				if !strings.Contains(err.Error(), tt.illegal) || !strings.Contains(err.Error(), `flag "f"`) {
					t.Errorf("error %q should name the flag and say %q", err, tt.illegal)
				}
				if !equalRollout(after, before) {
					t.Errorf("a refused %s changed the rollout: %+v -> %+v", tt.act, before, after)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s from %s: %v", tt.act, tt.from, err)
			}
			if got.State != tt.wantState || got.Stage != tt.wantStage || got.Percentage() != tt.wantPct {
				t.Errorf("%s from %s = %s stage %d at %v %%, want %s stage %d at %v %%",
					tt.act, tt.from, got.State, got.Stage, got.Percentage(), tt.wantState, tt.wantStage, tt.wantPct)
			}
			if !got.UpdatedAt.Equal(c.Now()) {
				t.Errorf("UpdatedAt = %v, want the clock's %v", got.UpdatedAt, c.Now())
			}
			if !equalRollout(after, got) {
				t.Errorf("Status after %s = %+v, want %+v", tt.act, after, got)
			}
		})
	}
}

func equalRollout(a, b Rollout) bool {
	return a.Flag == b.Flag && a.State == b.State && a.Stage == b.Stage && slices.Equal(a.Stages, b.Stages) &&
		a.StartedAt.Equal(b.StartedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func TestManager_lifecycle(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(t0)
	m := NewManager(c)
	r, err := m.Create("checkout", config())
	if err != nil {
		t.Fatal(err)
	}
	if r.State != StateActive || r.Percentage() != 5 || !r.StartedAt.Equal(t0) {
		t.Fatalf("Create = %+v, want active at 5 %% started at t0", r)
	}
	var pcts []float64
	for range 3 {
		c.Advance(time.Minute)
		if r, err = m.Advance("checkout"); err != nil {
			t.Fatal(err)
		}
		pcts = append(pcts, r.Percentage())
	}
	if want := []float64{25, 50, 100}; !slices.Equal(pcts, want) {
		t.Errorf("percentages %v, want %v", pcts, want)
	}
	if r.State != StateActive {
		t.Errorf("at the last stage the rollout is %s, want active until advanced past it", r.State)
	}
	if r, err = m.Advance("checkout"); err != nil || r.State != StateCompleted || r.Percentage() != 100 {
		t.Fatalf("advance past the last stage = %+v, %v; want completed at 100 %%", r, err)
	}
	if !r.StartedAt.Equal(t0) || !r.UpdatedAt.Equal(at(3*time.Minute)) {
		t.Errorf("StartedAt %v UpdatedAt %v", r.StartedAt, r.UpdatedAt)
	}
}

// Advance is a manual decision: it ignores the delay and max_stage.
func TestManager_advanceIgnoresDelayAndMaxStage(t *testing.T) {
	t.Parallel()
	m := NewManager(clock.NewFake(t0))
	if _, err := m.Create("f", config(withDelay(24*time.Hour), withMaxStage(0))); err != nil {
		t.Fatal(err)
	}
	r, err := m.Advance("f")
	if err != nil || r.Stage != 1 {
		t.Fatalf("Advance = stage %d, %v; want stage 1", r.Stage, err)
	}
}

func TestManager_pendingStartsOnAdvance(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(t0)
	m := NewManager(c)
	r, err := m.Create("f", config(withStartAt(at(time.Hour))))
	if err != nil || r.State != StatePending || r.Percentage() != 0 || !r.StartedAt.IsZero() {
		t.Fatalf("Create = %+v, %v; want pending at 0 %%", r, err)
	}
	c.Advance(10 * time.Minute)
	if r, err = m.Advance("f"); err != nil || r.State != StateActive || r.Stage != 0 || !r.StartedAt.Equal(c.Now()) {
		t.Fatalf("Advance of a pending rollout = %+v, %v; want active at stage 0 started now", r, err)
	}
}

func TestManager_errors(t *testing.T) {
	t.Parallel()
	m := NewManager(clock.NewFake(t0))
	if _, err := m.Create("f", config()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("f", config()); !errors.Is(err, ErrRolloutExists) {
		t.Errorf("second Create: %v, want ErrRolloutExists", err)
	}
	for _, stages := range [][]float64{nil, {0}, {5, 101}, {-1}} {
		if _, err := m.Create("bad", config(withStages(stages...))); err == nil || !strings.Contains(err.Error(), "stage") {
			t.Errorf("Create with stages %v: %v, want a stages error", stages, err)
		}
	}
	if _, err := m.Status("bad"); !errors.Is(err, ErrUnknownFlag) {
		t.Errorf("a refused Create stored the rollout: Status error %v", err)
	}
	calls := map[string]func(string) (Rollout, error){
		"advance": m.Advance, "pause": m.Pause, "resume": m.Resume, "abort": m.Abort, "status": m.Status,
	}
	for name, call := range calls {
		_, err := call("missing")
		if !errors.Is(err, ErrUnknownFlag) || !strings.Contains(err.Error(), `"missing"`) {
			t.Errorf("%s of an unknown flag: %v, want ErrUnknownFlag naming the flag", name, err)
		}
	}
}

// Status returns copies: a caller cannot change the stored rollout.
func TestManager_statusIsACopy(t *testing.T) {
	t.Parallel()
	m := NewManager(clock.NewFake(t0))
	r, err := m.Create("f", config())
	if err != nil {
		t.Fatal(err)
	}
	r.Stages[0] = 99
	got, err := m.Status("f")
	if err != nil {
		t.Fatal(err)
	}
	got.Stages[1] = 99
	if again, _ := m.Status("f"); again.Stages[0] != 5 || again.Stages[1] != 25 {
		t.Errorf("stored stages changed through a returned rollout: %v", again.Stages)
	}
}

func TestManager_concurrent(t *testing.T) {
	t.Parallel()
	m := NewManager(clock.NewFake(t0))
	if _, err := m.Create("f", config(withStages(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100))); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				_, _ = m.Advance("f")
				_, _ = m.Status("f")
			}
		})
	}
	wg.Wait()
	r, err := m.Status("f")
	if err != nil {
		t.Fatal(err)
	}
	// 40 advances over 11 stages: 10 moves to the last stage, one completes,
	// the rest are refused.
	if r.State != StateCompleted || r.Stage != 10 {
		t.Errorf("after concurrent advances: %s at stage %d, want completed at stage 10", r.State, r.Stage)
	}
}
