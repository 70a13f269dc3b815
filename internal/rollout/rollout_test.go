package rollout

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

// config returns the default configuration (5/25/50/100, one hour) changed
// by mods.
func config(mods ...func(*Config)) Config {
	c := Config{Stages: DefaultStages(), StageDelay: time.Hour}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func withStages(s ...float64) func(*Config) { return func(c *Config) { c.Stages = s } }
func withDelay(d time.Duration) func(*Config) {
	return func(c *Config) { c.StageDelay = d }
}
func withMaxStage(i int) func(*Config)      { return func(c *Config) { c.MaxStage = ptr(i) } }
func withStartAt(t time.Time) func(*Config) { return func(c *Config) { c.StartAt = ptr(t) } }
func paused(c *Config)                      { c.Paused = true }
func aborted(c *Config)                     { c.Aborted = true }

// rollout builds a prior rollout of flag "f" over the default stages that
// started at t0.
func rollout(state State, stage int, updated time.Time) Rollout {
	r := Rollout{Flag: "f", State: state, Stage: stage, Stages: DefaultStages(), StartedAt: t0, UpdatedAt: updated}
	if state == StatePending {
		r.StartedAt = time.Time{}
	}
	return r
}

func (r Rollout) with(mod func(*Rollout)) Rollout {
	r = r.clone()
	mod(&r)
	return r
}

// eachCase runs check on every case, each a parallel subtest named after it.
func eachCase(t *testing.T, cases []reconcileCase, check func(*testing.T, reconcileCase)) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check(t, tt)
		})
	}
}

// step calls f (Reconcile or Settle) and fails the test on an error.
func step(t *testing.T, f func(Rollout, Config, time.Time) (Rollout, error), prior Rollout, cfg Config, now time.Time) Rollout {
	t.Helper()
	r, err := f(prior, cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		want    Rollout
		wantPct float64
		wantErr string
	}{
		{
			name:    "active at stage 0",
			cfg:     config(),
			want:    Rollout{Flag: "f", State: StateActive, Stages: DefaultStages(), StartedAt: t0, UpdatedAt: t0},
			wantPct: 5,
		},
		{
			name: "pending before start_at",
			cfg:  config(withStartAt(at(time.Hour))),
			want: Rollout{Flag: "f", State: StatePending, Stages: DefaultStages(), UpdatedAt: t0},
		},
		{
			name:    "active when start_at is now",
			cfg:     config(withStartAt(t0)),
			want:    Rollout{Flag: "f", State: StateActive, Stages: DefaultStages(), StartedAt: t0, UpdatedAt: t0},
			wantPct: 5,
		},
		{
			name:    "active when start_at passed",
			cfg:     config(withStartAt(at(-time.Hour))),
			want:    Rollout{Flag: "f", State: StateActive, Stages: DefaultStages(), StartedAt: t0, UpdatedAt: t0},
			wantPct: 5,
		},
		{
			name:    "paused exposes stage 0",
			cfg:     config(paused),
			want:    Rollout{Flag: "f", State: StatePaused, Stages: DefaultStages(), StartedAt: t0, UpdatedAt: t0},
			wantPct: 5,
		},
		{
			name: "paused and pending is pending",
			cfg:  config(paused, withStartAt(at(time.Minute))),
			want: Rollout{Flag: "f", State: StatePending, Stages: DefaultStages(), UpdatedAt: t0},
		},
		{
			name: "aborted",
			cfg:  config(aborted, withStartAt(at(time.Hour))),
			want: Rollout{Flag: "f", State: StateAborted, Stages: DefaultStages(), UpdatedAt: t0},
		},
		{name: "no stages", cfg: config(withStages()), wantErr: "at least one stage"},
		{name: "stage out of range", cfg: config(withStages(5, 150)), wantErr: "stages[1] = 150"},
		{name: "descending stages", cfg: config(withStages(50, 5)), wantErr: "stages[1] = 5"},
		{name: "negative delay", cfg: config(withDelay(-time.Second)), wantErr: "stage_delay"},
		{name: "negative max_stage", cfg: config(withMaxStage(-1)), wantErr: "max_stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Start("f", tt.cfg, t0)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `"f"`) {
					t.Fatalf("Start: error %v, want one naming the flag and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Start =\n %+v\nwant\n %+v", got, tt.want)
			}
			if got.Percentage() != tt.wantPct {
				t.Errorf("Percentage = %v, want %v", got.Percentage(), tt.wantPct)
			}
		})
	}
}

func TestStart_copiesStages(t *testing.T) {
	t.Parallel()
	cfg := config()
	r, err := Start("f", cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stages[0] = 99
	if r.Stages[0] != 5 {
		t.Errorf("Start shares the configured stages: Stages[0] = %v after the caller changed its slice", r.Stages[0])
	}
}

type reconcileCase struct {
	name  string
	prior Rollout
	cfg   Config
	now   time.Time
	want  Rollout
}

func reconcileCases() []reconcileCase {
	hour := time.Hour
	return []reconcileCase{
		// Plan-time advance.
		{
			name:  "active: delay not passed, nothing",
			prior: rollout(StateActive, 0, t0), cfg: config(), now: at(59 * time.Minute),
			want: rollout(StateActive, 0, t0),
		},
		{
			name:  "active: delay passed exactly, one stage",
			prior: rollout(StateActive, 0, t0), cfg: config(), now: at(hour),
			want: rollout(StateActive, 1, at(hour)),
		},
		{
			name:  "active: several delays passed, still one stage",
			prior: rollout(StateActive, 1, t0), cfg: config(), now: at(10 * hour),
			want: rollout(StateActive, 2, at(10*hour)),
		},
		{
			name:  "active: past the last stage completes at 100",
			prior: rollout(StateActive, 3, t0), cfg: config(), now: at(2 * hour),
			want: rollout(StateCompleted, 3, at(2*hour)),
		},
		{
			name:  "active: zero delay advances at once",
			prior: rollout(StateActive, 0, t0), cfg: config(withDelay(0)), now: t0,
			want: rollout(StateActive, 1, t0),
		},
		// MaxStage.
		{
			name:  "max_stage holds at its index",
			prior: rollout(StateActive, 1, t0), cfg: config(withMaxStage(1)), now: at(10 * hour),
			want: rollout(StateActive, 1, t0),
		},
		{
			name:  "max_stage above the current stage lets it advance",
			prior: rollout(StateActive, 1, t0), cfg: config(withMaxStage(2)), now: at(hour),
			want: rollout(StateActive, 2, at(hour)),
		},
		{
			name:  "max_stage lowered below the current stage holds, never lowers",
			prior: rollout(StateActive, 2, t0), cfg: config(withMaxStage(0)), now: at(hour),
			want: rollout(StateActive, 2, t0),
		},
		{
			name:  "max_stage at the last index never completes",
			prior: rollout(StateActive, 3, t0), cfg: config(withMaxStage(3)), now: at(hour),
			want: rollout(StateActive, 3, t0),
		},
		{
			name:  "max_stage beyond the stages allows completion",
			prior: rollout(StateActive, 3, t0), cfg: config(withMaxStage(7)), now: at(hour),
			want: rollout(StateCompleted, 3, at(hour)),
		},
		// Pause and resume.
		{
			name:  "pause an active rollout, no advance even when due",
			prior: rollout(StateActive, 1, t0), cfg: config(paused), now: at(3 * hour),
			want: rollout(StatePaused, 1, at(3*hour)),
		},
		{
			name:  "paused stays paused",
			prior: rollout(StatePaused, 1, t0), cfg: config(paused), now: at(30 * hour),
			want: rollout(StatePaused, 1, t0),
		},
		{
			name:  "resume restarts the delay instead of advancing",
			prior: rollout(StatePaused, 1, t0), cfg: config(), now: at(30 * hour),
			want: rollout(StateActive, 1, at(30*hour)),
		},
		{
			name:  "pausing a completed rollout changes nothing",
			prior: rollout(StateCompleted, 3, t0), cfg: config(paused), now: at(hour),
			want: rollout(StateCompleted, 3, t0),
		},
		{
			name:  "completed stays completed",
			prior: rollout(StateCompleted, 3, t0), cfg: config(), now: at(100 * hour),
			want: rollout(StateCompleted, 3, t0),
		},
		// StartAt.
		{
			name:  "pending before start_at",
			prior: rollout(StatePending, 0, t0), cfg: config(withStartAt(at(hour))), now: at(59 * time.Minute),
			want: rollout(StatePending, 0, t0),
		},
		{
			name:  "pending becomes active at start_at, without advancing",
			prior: rollout(StatePending, 0, t0), cfg: config(withStartAt(at(hour))), now: at(5 * hour),
			want: rollout(StateActive, 0, at(5*hour)).with(func(r *Rollout) { r.StartedAt = at(5 * hour) }),
		},
		{
			name:  "pending becomes paused at start_at when paused",
			prior: rollout(StatePending, 0, t0), cfg: config(withStartAt(at(hour)), paused), now: at(hour),
			want: rollout(StatePaused, 0, at(hour)).with(func(r *Rollout) { r.StartedAt = at(hour) }),
		},
		{
			name:  "pending starts when start_at is removed",
			prior: rollout(StatePending, 0, t0), cfg: config(), now: at(time.Minute),
			want: rollout(StateActive, 0, at(time.Minute)).with(func(r *Rollout) { r.StartedAt = at(time.Minute) }),
		},
		{
			name:  "start_at moved later after the start is ignored",
			prior: rollout(StateActive, 1, t0), cfg: config(withStartAt(at(100 * hour))), now: at(30 * time.Minute),
			want: rollout(StateActive, 1, t0),
		},
		// Stages change.
		{
			name:  "stages change lowers to the highest stage at or below",
			prior: rollout(StateActive, 1, t0), cfg: config(withStages(10, 20, 30, 100)), now: at(10 * time.Minute),
			want: rollout(StateActive, 1, at(10*time.Minute)).with(func(r *Rollout) { r.Stages = []float64{10, 20, 30, 100} }),
		},
		{
			name:  "stages change keeps an equal percentage",
			prior: rollout(StateActive, 1, t0), cfg: config(withStages(1, 5, 25, 75, 100)), now: at(10 * time.Minute),
			want: rollout(StateActive, 2, at(10*time.Minute)).with(func(r *Rollout) { r.Stages = []float64{1, 5, 25, 75, 100} }),
		},
		{
			name:  "stages change does not advance in the same reconcile",
			prior: rollout(StateActive, 1, t0), cfg: config(withStages(5, 25, 60, 100)), now: at(10 * hour),
			want: rollout(StateActive, 1, at(10*hour)).with(func(r *Rollout) { r.Stages = []float64{5, 25, 60, 100} }),
		},
		{
			name:  "stages change while paused stays paused",
			prior: rollout(StatePaused, 2, t0), cfg: config(paused, withStages(10, 40, 100)), now: at(hour),
			want: rollout(StatePaused, 1, at(hour)).with(func(r *Rollout) { r.Stages = []float64{10, 40, 100} }),
		},
		{
			name:  "stages change while pending",
			prior: rollout(StatePending, 0, t0), cfg: config(withStages(1, 100), withStartAt(at(hour))), now: at(time.Minute),
			want: rollout(StatePending, 0, at(time.Minute)).with(func(r *Rollout) { r.Stages = []float64{1, 100} }),
		},
		{
			name:  "completed at the new last stage stays completed",
			prior: rollout(StateCompleted, 3, t0), cfg: config(withStages(10, 100)), now: at(hour),
			want: rollout(StateCompleted, 1, at(hour)).with(func(r *Rollout) { r.Stages = []float64{10, 100} }),
		},
		{
			name:  "completed below the new last stage becomes active",
			prior: rollout(StateCompleted, 2, t0).with(func(r *Rollout) { r.Stages = []float64{5, 25, 50} }),
			cfg:   config(withStages(5, 25, 50, 75, 100)), now: at(hour),
			want: rollout(StateActive, 2, at(hour)).with(func(r *Rollout) { r.Stages = []float64{5, 25, 50, 75, 100} }),
		},
		// Abort.
		{
			name:  "abort a pending rollout",
			prior: rollout(StatePending, 0, t0), cfg: config(aborted, withStartAt(at(hour))), now: at(time.Minute),
			want: rollout(StateAborted, 0, at(time.Minute)).with(func(r *Rollout) { r.StartedAt = time.Time{} }),
		},
		{
			name:  "abort an active rollout keeps the stage index",
			prior: rollout(StateActive, 2, t0), cfg: config(aborted), now: at(10 * hour),
			want: rollout(StateAborted, 2, at(10*hour)),
		},
		{
			name:  "abort a paused rollout",
			prior: rollout(StatePaused, 1, t0), cfg: config(aborted, paused), now: at(hour),
			want: rollout(StateAborted, 1, at(hour)),
		},
		{
			name:  "abort a completed rollout",
			prior: rollout(StateCompleted, 3, t0), cfg: config(aborted), now: at(hour),
			want: rollout(StateAborted, 3, at(hour)),
		},
		{
			name:  "aborted is final when aborted is turned off",
			prior: rollout(StateAborted, 1, t0), cfg: config(), now: at(10 * hour),
			want: rollout(StateAborted, 1, t0),
		},
		{
			name:  "aborted takes a stages change, its index following the stage's percentage",
			prior: rollout(StateAborted, 1, t0), cfg: config(aborted, withStages(1, 2)), now: at(10 * hour),
			want: rollout(StateAborted, 1, at(10*hour)).with(func(r *Rollout) { r.Stages = []float64{1, 2} }),
		},
		{
			name:  "aborted below every new stage: index 0, still 0 %",
			prior: rollout(StateAborted, 1, t0), cfg: config(aborted, withStages(50)), now: at(10 * hour),
			want: rollout(StateAborted, 0, at(10*hour)).with(func(r *Rollout) { r.Stages = []float64{50} }),
		},
		{
			name:  "aborted stays aborted when a stages change comes with aborted off",
			prior: rollout(StateAborted, 3, t0), cfg: config(withStages(10, 100)), now: at(hour),
			want: rollout(StateAborted, 1, at(hour)).with(func(r *Rollout) { r.Stages = []float64{10, 100} }),
		},
		{
			name:  "pending below every new stage: index 0, still 0 %",
			prior: rollout(StatePending, 0, t0), cfg: config(withStages(60, 100), withStartAt(at(hour))), now: at(time.Minute),
			want: rollout(StatePending, 0, at(time.Minute)).with(func(r *Rollout) { r.Stages = []float64{60, 100} }),
		},
	}
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	eachCase(t, reconcileCases(), func(t *testing.T, tt reconcileCase) {
		prior := tt.prior.clone()
		got, err := Reconcile(tt.prior, tt.cfg, tt.now)
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Reconcile =\n %+v\nwant\n %+v", got, tt.want)
		}
		if !reflect.DeepEqual(tt.prior, prior) {
			t.Errorf("Reconcile modified its input: %+v, was %+v", tt.prior, prior)
		}
		// A stages change never raises exposure.
		if !reflect.DeepEqual(tt.prior.Stages, tt.cfg.Stages) && got.Percentage() > tt.prior.Percentage() {
			t.Errorf("stages change raised exposure from %v to %v", tt.prior.Percentage(), got.Percentage())
		}
		if got.Stage < 0 || got.Stage >= len(got.Stages) {
			t.Errorf("stage %d is no index of %v", got.Stage, got.Stages)
		}
	})
}

// Reconciling a result again at the same time changes nothing, whatever the
// case, as long as the delay is not zero.
func TestReconcile_idempotent(t *testing.T) {
	t.Parallel()
	eachCase(t, reconcileCases(), func(t *testing.T, tt reconcileCase) {
		once := step(t, Reconcile, tt.prior, tt.cfg, tt.now)
		twice := step(t, Reconcile, once, tt.cfg, tt.now)
		if tt.cfg.StageDelay == 0 {
			if twice.Stage != once.Stage+1 && twice.State == once.State {
				t.Errorf("zero delay: second reconcile should advance again, got %+v after %+v", twice, once)
			}
			return
		}
		if !reflect.DeepEqual(once, twice) {
			t.Errorf("not idempotent:\n once  %+v\n twice %+v", once, twice)
		}
	})
}

// A scheduled apply every 20 minutes walks the default stages one per hour
// and never skips one.
func TestReconcile_schedule(t *testing.T) {
	t.Parallel()
	c := clocktest.NewFake(t0)
	cfg := config()
	r, err := Start("f", cfg, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	var seen []float64
	seen = append(seen, r.Percentage())
	for range 20 { // 20 × 20 min = 6h40
		c.Advance(20 * time.Minute)
		prev := r
		if r, err = Reconcile(r, cfg, c.Now()); err != nil {
			t.Fatal(err)
		}
		if r.Stage > prev.Stage+1 {
			t.Fatalf("at %s the rollout jumped from stage %d to %d", c.Now().Sub(t0), prev.Stage, r.Stage)
		}
		if r.Stage != prev.Stage || r.State != prev.State {
			seen = append(seen, r.Percentage())
			if next := prev.NextAdvanceAt(cfg); next == nil || c.Now().Before(*next) {
				t.Fatalf("at %s advanced before NextAdvanceAt %v", c.Now().Sub(t0), next)
			}
		}
	}
	if r.State != StateCompleted || r.Percentage() != 100 {
		t.Errorf("after the schedule: %s at %v %%, want completed at 100 %%", r.State, r.Percentage())
	}
	if want := []float64{5, 25, 50, 100, 100}; !reflect.DeepEqual(seen, want) {
		t.Errorf("percentages over time %v, want %v (the last change is completion)", seen, want)
	}
	if !r.StartedAt.Equal(t0) || !r.UpdatedAt.Equal(at(4*time.Hour)) {
		t.Errorf("started %v updated %v, want %v and %v", r.StartedAt, r.UpdatedAt, t0, at(4*time.Hour))
	}
}

func TestReconcile_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prior   Rollout
		cfg     Config
		wantErr string
	}{
		{name: "invalid stages", prior: rollout(StateActive, 0, t0), cfg: config(withStages(5, 5)), wantErr: "stages[1] = 5"},
		{name: "negative delay", prior: rollout(StateActive, 0, t0), cfg: config(withDelay(-time.Minute)), wantErr: "stage_delay"},
		{name: "unknown state", prior: rollout("running", 0, t0), cfg: config(), wantErr: `unknown state "running"`},
		{name: "empty state", prior: Rollout{Flag: "f", Stages: DefaultStages()}, cfg: config(), wantErr: "unknown state"},
		{name: "no stages", prior: rollout(StateActive, 0, t0).with(func(r *Rollout) { r.Stages = nil }), cfg: config(), wantErr: "no stages"},
		{name: "stage out of range", prior: rollout(StateActive, 4, t0), cfg: config(), wantErr: "stage index 4"},
		{name: "negative stage", prior: rollout(StateActive, -1, t0), cfg: config(), wantErr: "stage index -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Reconcile(tt.prior, tt.cfg, t0)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `flag "f"`) {
				t.Fatalf("Reconcile error = %v, want one naming the flag and containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRollout_Percentage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    Rollout
		want float64
	}{
		{rollout(StatePending, 0, t0), 0},
		{rollout(StateActive, 0, t0), 5},
		{rollout(StateActive, 2, t0), 50},
		{rollout(StatePaused, 1, t0), 25},
		{rollout(StateCompleted, 3, t0), 100},
		{rollout(StateAborted, 2, t0), 0},
		{rollout(StateActive, 9, t0), 0},
	}
	for _, tt := range tests {
		if got := tt.r.Percentage(); got != tt.want {
			t.Errorf("%s at stage %d: Percentage = %v, want %v", tt.r.State, tt.r.Stage, got, tt.want)
		}
	}
}

func TestRollout_NextAdvanceAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    Rollout
		cfg  Config
		want *time.Time
	}{
		{name: "pending: start_at", r: rollout(StatePending, 0, t0), cfg: config(withStartAt(at(5 * time.Hour))), want: ptr(at(5 * time.Hour))},
		{name: "pending without start_at", r: rollout(StatePending, 0, t0), cfg: config(), want: nil},
		{name: "active: updated_at + delay", r: rollout(StateActive, 1, at(time.Hour)), cfg: config(), want: ptr(at(2 * time.Hour))},
		{name: "active at the last stage: completion", r: rollout(StateActive, 3, t0), cfg: config(withDelay(time.Minute)), want: ptr(at(time.Minute))},
		{name: "held by max_stage", r: rollout(StateActive, 2, t0), cfg: config(withMaxStage(2)), want: nil},
		{name: "below max_stage", r: rollout(StateActive, 1, t0), cfg: config(withMaxStage(2)), want: ptr(at(time.Hour))},
		{name: "paused", r: rollout(StatePaused, 1, t0), cfg: config(), want: nil},
		{name: "completed", r: rollout(StateCompleted, 3, t0), cfg: config(), want: nil},
		{name: "aborted", r: rollout(StateAborted, 1, t0), cfg: config(), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.r.NextAdvanceAt(tt.cfg)
			if (got == nil) != (tt.want == nil) || (got != nil && !got.Equal(*tt.want)) {
				t.Errorf("NextAdvanceAt = %v, want %v", got, tt.want)
			}
		})
	}
}

// NextAdvanceAt returns a copy: the caller cannot move the configured start.
func TestRollout_NextAdvanceAtCopies(t *testing.T) {
	t.Parallel()
	cfg := config(withStartAt(at(time.Hour)))
	next := rollout(StatePending, 0, t0).NextAdvanceAt(cfg)
	*next = at(99 * time.Hour)
	if !cfg.StartAt.Equal(at(time.Hour)) {
		t.Errorf("NextAdvanceAt aliases StartAt: now %v", cfg.StartAt)
	}
}

// Settle applies the configuration and nothing that elapsed time alone
// does, so the plan made before an apply and the one remade during it
// agree however much time passed in between: its State, Stage and Stages
// do not depend on now.
func TestSettle_doesNotDependOnTime(t *testing.T) {
	t.Parallel()
	eachCase(t, reconcileCases(), func(t *testing.T, tt reconcileCase) {
		early := step(t, Settle, tt.prior, tt.cfg, tt.now)
		late := step(t, Settle, tt.prior, tt.cfg, tt.now.Add(1000*time.Hour))
		if early.State != late.State || early.Stage != late.Stage || !reflect.DeepEqual(early.Stages, late.Stages) {
			t.Errorf("Settle at now gives %s stage %d, 1000h later %s stage %d", early.State, early.Stage, late.State, late.Stage)
		}
	})
}

func TestSettle_startAndAdvanceWaitForReconcile(t *testing.T) {
	t.Parallel()
	eachCase(t, []reconcileCase{
		{name: "start_at passed", prior: rollout(StatePending, 0, t0), cfg: config(withStartAt(at(time.Hour))), now: at(2 * time.Hour)},
		{name: "start_at removed", prior: rollout(StatePending, 0, t0), cfg: config(), now: at(time.Minute)},
		{name: "advance due", prior: rollout(StateActive, 1, t0), cfg: config(), now: at(3 * time.Hour)},
	}, func(t *testing.T, tt reconcileCase) {
		if settled := step(t, Settle, tt.prior, tt.cfg, tt.now); !reflect.DeepEqual(settled, tt.prior) {
			t.Errorf("Settle changed the rollout: %+v, was %+v", settled, tt.prior)
		}
		if reconciled := step(t, Reconcile, tt.prior, tt.cfg, tt.now); reflect.DeepEqual(reconciled, tt.prior) {
			t.Errorf("Reconcile did not move the rollout either: %+v", reconciled)
		}
	})
}

// A stages change that leaves no new stage at or below the exposed
// percentage is refused, naming both; the rollout is returned unchanged.
func TestReconcile_stagesChangeThatRaisesExposure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		prior    Rollout
		cfg      Config
		current  float64
		firstNew float64
	}{
		{name: "paused at 5", prior: rollout(StatePaused, 0, t0), cfg: config(paused, withStages(10, 50, 100)), current: 5, firstNew: 10},
		{name: "active at 25", prior: rollout(StateActive, 1, t0), cfg: config(withStages(30, 100)), current: 25, firstNew: 30},
		{name: "active at 5, with a pause", prior: rollout(StateActive, 0, t0), cfg: config(paused, withStages(5.5, 100)), current: 5, firstNew: 5.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for name, f := range map[string]func(Rollout, Config, time.Time) (Rollout, error){"Reconcile": Reconcile, "Settle": Settle} {
				got, err := f(tt.prior, tt.cfg, at(time.Minute))
				var exp *ExposureError
				if !errors.As(err, &exp) {
					t.Fatalf("%s: error %v, want an *ExposureError", name, err)
				}
				if exp.Current != tt.current || exp.FirstNew != tt.firstNew {
					t.Errorf("%s: %+v, want current %v, first new %v", name, exp, tt.current, tt.firstNew)
				}
				if msg := err.Error(); !strings.Contains(msg, `flag "f"`) {
					t.Errorf("%s: %q does not name the flag", name, msg)
				}
				if !reflect.DeepEqual(got, tt.prior) {
					t.Errorf("%s returned %+v, want the prior rollout", name, got)
				}
			}
		})
	}
}
