package strategies

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// execute runs req, built by NewPlan, as an apply of the provider does.
func (ps applied) execute(t *testing.T, strategy string, cfg Config, req Request, ctx context.Context, env Env) *Result {
	t.Helper()
	req.Deployment, req.AutoRollback, req.HealthCheck = "web", true, hc()
	return mustNew(t, strategy, func(c *Config) { *c = cfg }).Execute(ctx, req, env)
}

// A measurement cut short by Ctrl-C or timeouts.update (the web check or
// query fails with the context) is a cancellation, not a failed metric: an
// approved resume stays paused as it was, and nothing is rolled back.
func TestCanaryResumeCancelledInAMeasurementStaysPaused(t *testing.T) {
	t.Parallel()
	ps := appliedCanary(t, Gate{At: 25})
	weights, deploys := len(ps.f.calls("weights")), len(ps.f.deployed("v1"))+len(ps.f.deployed("v2"))
	cfg := ps.cfg
	cfg.Approve = &Approval{Version: "v2", Through: 25}
	req := NewPlan(NameCanary, cfg, "v2", ps.targets, ps.prior).Request
	req.Analysis = Analysis{InitialDelay: time.Minute, Metrics: []MetricLimit{{Name: "smoke"}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := ps.f.env(ps.clk, nil)
	env.Measure = func(context.Context, int, Window) Measurement {
		cancel() // the check was in flight when the apply was interrupted
		return Measurement{Note: "web check unreachable or failed: context canceled"}
	}
	res := ps.execute(t, NameCanary, cfg, req, ctx, env)
	if res.Success || res.Abandoned {
		t.Fatalf("resume cancelled in a measurement: success %t abandoned %t (%v)", res.Success, res.Abandoned, res.Errors)
	}
	if got := ps.f.calls("weights"); len(got) != weights {
		t.Errorf("the cancelled resume set weights: %v", got[weights:])
	}
	if got := len(ps.f.deployed("v1")) + len(ps.f.deployed("v2")); got != deploys {
		t.Errorf("the cancelled resume deployed %d targets", got-deploys)
	}
	saved, back := BackAtGate(req, ps.prior, AfterApply(NameCanary, req, ps.prior, res), res)
	if !back || saved.Traffic != 25 || saved.Version != "v2" || saved.PreviousVersion != "v1" {
		t.Errorf("after the cancelled resume: status %s, saved %+v; want paused at 25 as before", res.Status, saved)
	}
}

// A newer version on top of a blue/green paused before its switch fails on
// an idle target that then stays unhealthy at the paused version too: the
// target runs what it ran and no traffic moved, so the release is left
// paused as it was (not "failed" with the traffic of a switch that never
// happened).
func TestUnhealthyRestoreOnTopOfAPausedReleaseLeavesThePause(t *testing.T) {
	t.Parallel()
	ps := pausedBeforeSwitch(t)
	idle := ""
	for _, tg := range ps.targets {
		if ps.saved.Versions[tg.ID] == "v2" {
			idle = tg.ID
			break
		}
	}
	ps.f.unhealthy[idle] = true
	req := NewPlan(NameBlueGreen, ps.cfg, "v3", ps.targets, ps.prior).Request
	res := ps.execute(t, NameBlueGreen, ps.cfg, req, context.Background(), ps.f.env(ps.clk, nil))
	if len(res.RollbackErrors) == 0 || ps.f.version(idle) != "v2" {
		t.Fatalf("want %s restored to v2 and unhealthy: runs %s, rollback errors %v", idle, ps.f.version(idle), res.RollbackErrors)
	}
	saved, back := BackAtGate(req, ps.prior, AfterApply(NameBlueGreen, req, ps.prior, res), res)
	if !back || res.Status != StatusPaused || saved.Version != "v2" || saved.Traffic != ps.prior.Traffic || saved.ActiveSlot != ps.prior.ActiveSlot {
		t.Fatalf("v3 failed on paused v2 with %s unhealthy: back %t, %s, saved %+v; want v2 paused before its switch as before", idle, back, res.Status, saved)
	}
}

// A newer version on top of a paused canary release with its router down:
// the weights could not be set nor reset, so where traffic stands is not
// known and the pause is not restored; but every target runs what it ran,
// so state names the paused release and its share, not the version before
// it at 100 %.
func TestRouterDownOnTopOfAPausedReleaseKeepsItsVersion(t *testing.T) {
	t.Parallel()
	ps := appliedCanary(t, Gate{At: 25})
	ps.f.weightsErr = errBoom
	req := NewPlan(NameCanary, ps.cfg, "v3", ps.targets, ps.prior).Request
	res := ps.execute(t, NameCanary, ps.cfg, req, context.Background(), ps.f.env(ps.clk, nil))
	if !res.TrafficUnrestored {
		t.Fatalf("router down: want the traffic unrestored, got rollback errors %v", res.RollbackErrors)
	}
	saved, back := BackAtGate(req, ps.prior, AfterApply(NameCanary, req, ps.prior, res), res)
	if back || saved.Version != "v2" || saved.PreviousVersion != "v1" || saved.Traffic != 25 || len(saved.Superseded) != 0 {
		t.Fatalf("v3 with the router down on paused v2: back %t, saved %+v; want v2 (previous v1, 25 %%) not paused", back, saved)
	}
}

// A strategy changed while paused: the pause was the old strategy's (a
// blue/green before its switch); the apply runs the new one, which decides
// where the version stops, and the next plan is then empty.
func TestStrategyChangedWhilePausedRunsTheNewOne(t *testing.T) {
	t.Parallel()
	ps := pausedBeforeSwitch(t)
	cfg := gatedCanary()
	cfg.Canary.Stages = []float64{10, 25, 50, 100}
	cfg.Canary.Gates = []Gate{{At: 10}}
	p := NewPlan(NameCanary, cfg, "v2", ps.targets, ps.prior)
	if !p.Work() {
		t.Fatal("blue/green paused, then canary: the plan has no work; the pause of another strategy would be kept as the canary's")
	}
	res, saved := applyPlan(t, ps.f, ps.clk, NameCanary, cfg, p, ps.prior)
	if !res.Success || res.Status != StatusPaused || res.PausedAt != 10 || saved.Traffic != 10 {
		t.Fatalf("canary after the blue/green pause: %s at %g, saved %+v, errors %v; want paused at its gate at 10", res.Status, res.PausedAt, saved, res.Errors)
	}
	if p := NewPlan(NameCanary, cfg, "v2", ps.targets, priorOf(NameCanary, ps.targets, saved, res, epoch)); p.Work() {
		t.Errorf("after it the plan still has work: pending %v, traffic owed %t", ids(p.Pending), p.TrafficOwed)
	}
}

// A version another strategy completed is out: a canary that takes it over
// (the strategy changed, the version did not) has its gates behind it,
// repairs every drifted target and sends the version all of the traffic.
func TestCanaryTakesOverACompletedVersion(t *testing.T) {
	t.Parallel()
	for _, drift := range []bool{false, true} {
		t.Run(fmt.Sprintf("drift=%t", drift), func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, 4, "v1")
			clk := clocktest.NewFake(epoch)
			ff := DefaultConfig()
			ff.FeatureFlag = FeatureFlagConfig{FlagName: "f", InitialRollout: 0}
			res, saved := applyPlan(t, f, clk, NameFeatureFlag, ff, NewPlan(NameFeatureFlag, ff, "v2", targets, Prior{}), Prior{})
			if !res.Success || res.Status != StatusCompleted || saved.Traffic != 0 {
				t.Fatalf("feature_flag at 0: %s, saved %+v, errors %v", res.Status, saved, res.Errors)
			}
			prior := priorOf(NameFeatureFlag, targets, saved, res, epoch)
			if drift {
				f.mu.Lock()
				f.versions["t1"], f.versions["t3"] = "hotfix", "hotfix"
				f.mu.Unlock()
				prior.Versions = Versions{"t1": "hotfix", "t2": "v2", "t3": "hotfix", "t4": "v2"}
			}
			cfg := gatedCanary()
			cfg.Canary.Stages = []float64{10, 25, 50, 100}
			cfg.Canary.Gates = []Gate{{At: 50, Wait: 2 * time.Second}, {At: 25}}
			p := NewPlan(NameCanary, cfg, "v2", targets, prior)
			if want := map[bool][]string{false: nil, true: {"t1", "t3"}}[drift]; !slices.Equal(ids(p.Pending), want) || !p.TrafficOwed {
				t.Fatalf("canary taking v2 over: pending %v, traffic owed %t; want %v and the weights owed", ids(p.Pending), p.TrafficOwed, want)
			}
			res, saved = applyPlan(t, f, clk, NameCanary, cfg, p, prior)
			if !res.Success || res.Status != StatusCompleted || saved.Traffic != 100 {
				t.Fatalf("canary taking v2 over: %s at %g, saved %+v, errors %v; want completed at 100", res.Status, res.PausedAt, saved, res.Errors)
			}
			for _, id := range []string{"t1", "t2", "t3", "t4"} {
				if v := f.version(id); v != "v2" {
					t.Errorf("%s runs %s, want v2", id, v)
				}
			}
			if w := f.calls("weights"); !slices.Equal(w, []string{"weights v2 100"}) {
				t.Errorf("router calls %v, want the version's weight set to 100 once", w)
			}
			if p := NewPlan(NameCanary, cfg, "v2", targets, priorOf(NameCanary, targets, saved, res, epoch)); p.Work() {
				t.Errorf("after it the plan still has work: pending %v, traffic owed %t", ids(p.Pending), p.TrafficOwed)
			}
		})
	}
}
