package rollout

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

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
