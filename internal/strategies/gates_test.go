package strategies

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// gatedCanary is a canary of 20 targets over [5, 25, 50, 100] with a manual
// gate at 25 and a time gate (24h) at 50.
func gatedCanary() Config {
	cfg := DefaultConfig()
	cfg.Canary.Stages = []float64{5, 25, 50, 100}
	cfg.Canary.StageInterval = 0
	cfg.Canary.Gates = []Gate{{At: 25}, {At: 50, Wait: 24 * time.Hour}}
	return cfg
}

// applyPlan runs what p plans, as the provider's Update does, and returns
// the result and what state saves.
func applyPlan(t *testing.T, f *fleet, clk *clocktest.Fake, strategy string, cfg Config, p Plan, prior Prior) (*Result, Saved) {
	t.Helper()
	s, err := New(strategy, cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := f.env(clk, nil)
	if p.Revert {
		res := s.Rollback(context.Background(), p.RevertRequest, env, p.RevertTargets)
		saved := AfterRevert(strategy, p, prior, res)
		if !res.Success || p.FollowUp == nil {
			return res, saved
		}
		// As the provider does: then what the next plan would do.
		after := PriorAfter(strategy, p.Request.Targets, saved, res, prior.Now)
		return applyPlan(t, f, clk, strategy, cfg, NewPlan(strategy, cfg, p.Request.Version, p.Request.Targets, after), after)
	}
	req := p.Request
	req.Deployment, req.AutoRollback, req.HealthCheck = "web", true, hc()
	if !prior.Exists() {
		// The provider's create reads what the fleet runs first.
		req.PreviousVersion = "v1"
		req.Before = make(map[string]string, len(f.versions))
		for id, v := range f.versions {
			req.Before[id] = v
		}
	}
	res := s.Execute(context.Background(), req, env)
	return res, AfterApply(strategy, req, prior, res)
}

// priorOf is the state saved after res.
func priorOf(strategy string, targets []Target, saved Saved, res *Result, now time.Time) Prior {
	return Prior{
		Strategy: strategy, Version: saved.Version, PreviousVersion: saved.PreviousVersion,
		Status: res.Status, Traffic: saved.Traffic, ActiveSlot: saved.ActiveSlot,
		Targets: targets, Versions: saved.Versions, PausedAt: res.PausedAt, PausedSince: res.PausedSince, Now: now,
		Superseded: saved.Superseded,
	}
}

func TestCanaryGates(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 20, "v1")
	clk := clocktest.NewFake(epoch)
	cfg := gatedCanary()

	// Create: stops at the manual gate at 25 %, successfully.
	p := NewPlan(NameCanary, cfg, "v2", targets, Prior{})
	if got := ids(p.Pending); !slices.Equal(got, idRange(1, 5)) {
		t.Fatalf("create plans %v, want t1..t5 (up to the gate at 25%%)", got)
	}
	res, saved := applyPlan(t, f, clk, NameCanary, cfg, p, Prior{})
	if !res.Success || res.Status != StatusPaused || res.PausedAt != 25 || !res.ResumeAt.IsZero() || saved.Traffic != 25 || saved.Version != "v2" {
		t.Fatalf("paused: %+v saved %+v errors %v", res, saved, res.Errors)
	}
	if got := f.calls("weights"); !slices.Equal(got, []string{"weights v2 5", "weights v2 25"}) {
		t.Errorf("weights %v", got)
	}
	prior := priorOf(NameCanary, targets, saved, res, clk.Now())

	// Paused: nothing new, or an approval of another version, plans nothing.
	if p := NewPlan(NameCanary, cfg, "v2", targets, prior); p.Work() {
		t.Errorf("paused with nothing new: work %+v", p)
	}
	other := cfg
	other.Approve = &Approval{Version: "v9", Through: 100}
	if p := NewPlan(NameCanary, other, "v2", targets, prior); p.Work() {
		t.Errorf("an approval of another version opened the gate: %+v", p.Pending)
	}
	// A target that drifts is repaired without passing the gate.
	f.versions["t2"] = "v1"
	drifted := prior
	drifted.Versions = withVersion(prior.Versions, "t2", "v1")
	p = NewPlan(NameCanary, cfg, "v2", targets, drifted)
	if got := ids(p.Pending); !slices.Equal(got, []string{"t2"}) || p.TrafficOwed {
		t.Fatalf("repair at the gate plans %v (traffic owed %t), want t2 only", got, p.TrafficOwed)
	}
	res, saved = applyPlan(t, f, clk, NameCanary, cfg, p, drifted)
	if res.Status != StatusPaused || res.PausedAt != 25 || f.version("t2") != "v2" || f.version("t6") != "v1" {
		t.Fatalf("repair: %+v, t2 %s t6 %s", res, f.version("t2"), f.version("t6"))
	}
	if got := f.calls("weights"); slices.Contains(got, "weights v2 50") {
		t.Errorf("the repair passed the gate: weights %v", got)
	}
	prior = priorOf(NameCanary, targets, saved, res, clk.Now())

	// Approved through 25: up to the time gate at 50.
	approved := cfg
	approved.Approve = &Approval{Version: "v2", Through: 25}
	p = NewPlan(NameCanary, approved, "v2", targets, prior)
	if got := ids(p.Pending); !slices.Equal(got, idRange(6, 10)) || !p.TrafficOwed {
		t.Fatalf("approved plans %v (owed %t), want t6..t10", got, p.TrafficOwed)
	}
	clk.Set(epoch.Add(time.Hour))
	res, saved = applyPlan(t, f, clk, NameCanary, approved, p, prior)
	if res.Status != StatusPaused || res.PausedAt != 50 || !res.ResumeAt.Equal(epoch.Add(25*time.Hour)) {
		t.Fatalf("time gate: %+v errors %v", res, res.Errors)
	}
	prior = priorOf(NameCanary, targets, saved, res, epoch.Add(24*time.Hour))

	// Before the wait: nothing. After it: the rest.
	if p := NewPlan(NameCanary, approved, "v2", targets, prior); p.Work() {
		t.Errorf("the time gate opened early: %v", ids(p.Pending))
	}
	prior.Now = epoch.Add(25 * time.Hour)
	p = NewPlan(NameCanary, approved, "v2", targets, prior)
	if got := ids(p.Pending); !slices.Equal(got, idRange(11, 20)) {
		t.Fatalf("due time gate plans %v, want t11..t20", got)
	}
	res, saved = applyPlan(t, f, clk, NameCanary, approved, p, prior)
	if !res.Success || res.Status != StatusCompleted || saved.Traffic != 100 {
		t.Fatalf("completion: %+v saved %+v", res, saved)
	}
	prior = priorOf(NameCanary, targets, saved, res, clk.Now())

	// The next release stops at the gate again, the old approval ignored.
	p = NewPlan(NameCanary, approved, "v3", targets, prior)
	if got := ids(p.Pending); !slices.Equal(got, idRange(1, 5)) {
		t.Errorf("next release plans %v, want t1..t5", got)
	}
}

// withVersion returns a copy of m with id set to v.
func withVersion(m map[string]string, id, v string) map[string]string {
	out := make(map[string]string, len(m))
	for k, x := range m {
		out[k] = x
	}
	out[id] = v
	return out
}

func TestCanaryResumeMeasuresThePausedStage(t *testing.T) {
	t.Parallel()
	for _, bad := range []bool{false, true} {
		a := appliedCanary(t, Gate{At: 25})
		f, targets, clk, cfg, prior := a.f, a.targets, a.clk, a.cfg, a.prior

		cfg.Approve = &Approval{Version: "v2", Through: 25}
		req := NewPlan(NameCanary, cfg, "v2", targets, prior).Request
		req.Deployment, req.AutoRollback, req.HealthCheck = "web", true, hc()
		req.Analysis = Analysis{Metrics: []MetricLimit{{Name: "error-rate"}}}
		env := f.env(clk, nil)
		m := newMeter(func(_ int, w Window, _ int) (string, bool) { return "0.2", !bad || w.Phase != "stage 2 (25%)" })
		env.Measure = m.Measure
		res := mustNew(t, NameCanary, func(c *Config) { *c = cfg }).Execute(context.Background(), req, env)
		phases := m.phases()
		if len(phases) == 0 || phases[0] != "stage 2 (25%)" {
			t.Fatalf("bad=%t: the resume did not measure the paused stage first: %v", bad, phases)
		}
		if bad {
			if res.Status != StatusRolledBack || len(f.deployed("v2")) != 5 {
				t.Errorf("a failed resume measurement: %s, t1 %s, deployed %v", res.Status, f.version("t1"), f.deployed("v2"))
			}
			if msg := errors.Join(res.Errors...).Error(); !strings.Contains(msg, "targets running v2: t1, t2, t3, t4, t5") {
				t.Errorf("the failure does not name the targets that ran v2 from earlier applies: %s", msg)
			}
			if got := f.calls("weights"); got[len(got)-1] != "weights v2 0" {
				t.Errorf("a failed resume takes the version's traffic away: %v", got)
			}
			if saved := AfterApply(NameCanary, req, prior, res); saved.Version != "v1" || saved.Traffic != 100 || saved.PreviousVersion != "" {
				t.Errorf("after a failed resume state saves %+v, want v1 with all the traffic and no previous version", saved)
			}
			wantRunning(t, f, "v1", idRange(1, 5)...) // after the failed resume
			continue
		}
		if !res.Success || res.Status != StatusCompleted || !slices.Equal(phases, []string{"stage 2 (25%)", "stage 3 (50%)", "bake"}) {
			t.Errorf("resume: %s %v, windows %v", res.Status, res.Errors, phases)
		}
	}
}

// applied is a fleet after the first apply of v2: the result, what it
// saved and the state the next plan sees.
type applied struct {
	f       *fleet
	targets []Target
	clk     *clocktest.Fake
	cfg     Config
	res     *Result
	saved   Saved
	prior   Prior
}

// pausedBeforeSwitch is a blue/green fleet that served v1 from blue, whose
// rollout of v2, with pause_before_switch, paused before its switch.
func pausedBeforeSwitch(t *testing.T) applied {
	t.Helper()
	f, targets := blueGreenFleet(t, "v1")
	clk := clocktest.NewFake(epoch)
	cfg := DefaultConfig()
	cfg.BlueGreen.PauseBeforeSwitch = true
	prior := Prior{Strategy: NameBlueGreen, Version: "v1", Status: StatusCompleted, Traffic: 100, ActiveSlot: SlotBlue,
		Targets: targets, Versions: currentAt(targets, "v1"), Now: epoch}
	res, saved := applyPlan(t, f, clk, NameBlueGreen, cfg, NewPlan(NameBlueGreen, cfg, "v2", targets, prior), prior)
	if res.Status != StatusPaused {
		t.Fatalf("not paused: %+v", res)
	}
	return applied{f, targets, clk, cfg, res, saved, priorOf(NameBlueGreen, targets, saved, res, epoch)}
}

// appliedCanary is a canary of 20 targets at v1, with the gates of
// gatedCanary or those given, after its first apply of v2.
func appliedCanary(t *testing.T, gates ...Gate) applied {
	t.Helper()
	f, targets := newFleet(t, 20, "v1")
	clk := clocktest.NewFake(epoch)
	cfg := gatedCanary()
	if gates != nil {
		cfg.Canary.Gates = gates
	}
	res, saved := applyPlan(t, f, clk, NameCanary, cfg, NewPlan(NameCanary, cfg, "v2", targets, Prior{}), Prior{})
	return applied{f, targets, clk, cfg, res, saved, priorOf(NameCanary, targets, saved, res, clk.Now())}
}

// switches applies p, which must complete the rollout with the one switch
// to green.
func (ps applied) switches(t *testing.T, cfg Config, p Plan, what string) {
	t.Helper()
	res, saved := applyPlan(t, ps.f, ps.clk, NameBlueGreen, cfg, p, ps.prior)
	if !res.Success || res.Status != StatusCompleted || saved.ActiveSlot != SlotGreen || saved.Traffic != 100 {
		t.Fatalf("%s: %+v saved %+v", what, res, saved)
	}
	if got := ps.f.calls("switch"); !slices.Equal(got, []string{"switch green v2"}) {
		t.Errorf("switches %v", got)
	}
}

func TestBlueGreenPauseBeforeSwitch(t *testing.T) {
	t.Parallel()
	ps := pausedBeforeSwitch(t)
	f, targets, cfg, res, saved := ps.f, ps.targets, ps.cfg, ps.res, ps.saved
	if res.Status != StatusPaused || res.ActiveSlot != SlotBlue || saved.Traffic != 0 || len(f.calls("switch")) != 0 {
		t.Fatalf("pause before switch: %+v saved %+v switches %v", res, saved, f.calls("switch"))
	}
	if f.version("g1") != "v2" || f.version("b1") != "v1" {
		t.Fatalf("idle slot not deployed: g1 %s b1 %s", f.version("g1"), f.version("b1"))
	}
	if p := NewPlan(NameBlueGreen, cfg, "v2", targets, ps.prior); p.Work() {
		t.Errorf("paused before the switch, nothing new plans work: %+v", p)
	}
	if v := saved.Versions.ClaimAtRefresh(NameBlueGreen, "v2", StatusPaused, 0, ActiveTargets(NameBlueGreen, targets, SlotBlue)); v != "v2" {
		t.Errorf("refresh while paused saves %s, want v2", v)
	}
	cfg.Approve = &Approval{Version: "v2"}
	p := NewPlan(NameBlueGreen, cfg, "v2", targets, ps.prior)
	if len(p.Pending) != 0 || !p.TrafficOwed || p.Request.TopUp {
		t.Fatalf("approved: pending %v owed %t top-up %t", ids(p.Pending), p.TrafficOwed, p.Request.TopUp)
	}
	ps.switches(t, cfg, p, "switch after approval")
}

func TestRevertWhilePaused(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 20, "v1")
	clk := clocktest.NewFake(epoch)
	cfg := gatedCanary()
	prior := Prior{Strategy: NameCanary, Version: "v1", Status: StatusCompleted, Traffic: 100, Targets: targets, Versions: currentAt(targets, "v1"), Now: epoch}
	p := NewPlan(NameCanary, cfg, "v2", targets, prior)
	res, saved := applyPlan(t, f, clk, NameCanary, cfg, p, prior)
	if res.Status != StatusPaused {
		t.Fatalf("not paused: %+v", res)
	}
	prior = priorOf(NameCanary, targets, saved, res, epoch)
	mark := len(f.log)

	p = NewPlan(NameCanary, cfg, "v1", targets, prior)
	if !p.Revert || !slices.Equal(ids(p.Pending), idRange(1, 5)) {
		t.Fatalf("revert plans %v (revert %t), want t1..t5", ids(p.Pending), p.Revert)
	}
	res, saved = applyPlan(t, f, clk, NameCanary, cfg, p, prior)
	if !res.Success || saved.Version != "v1" || saved.PreviousVersion != "" || saved.Traffic != 100 {
		t.Fatalf("revert: %+v saved %+v", res, saved)
	}
	calls := f.log[mark:]
	if len(calls) == 0 || calls[0] != "weights v2 0" {
		t.Errorf("the abandoned version's traffic must go first: %v", calls)
	}
	for _, c := range calls[1:] {
		if strings.HasPrefix(c, "weights") {
			t.Errorf("a revert walks no stages: %v", calls)
		}
	}
	for _, id := range idRange(1, 20) {
		if f.version(id) != "v1" {
			t.Errorf("%s runs %s after the revert", id, f.version(id))
		}
	}
}

func TestGateValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		gates []Gate
		want  string
	}{
		{[]Gate{{At: 30}}, "gates[0].at = 30 is not one of the stages"},
		{[]Gate{{At: 100}}, "must stand below 100"},
		{[]Gate{{At: 25}, {At: 25}}, "two gates at one stage"},
		{[]Gate{{At: 25, Wait: -time.Second}}, "must not be negative"},
	} {
		cfg := gatedCanary()
		cfg.Canary.Gates = tc.gates
		_, err := New(NameCanary, cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "canary.gates" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("gates %+v: %v, want %q", tc.gates, err, tc.want)
		}
	}
}

// A resume that fails after the gate and is rolled back to it leaves the
// rollout paused there: without the approval the next plan does nothing.
// One that abandons the version is not a pause.
func TestBackAtGate(t *testing.T) {
	t.Parallel()
	a := appliedCanary(t)
	f, targets, clk, cfg, prior := a.f, a.targets, a.clk, a.cfg, a.prior

	approved := cfg
	approved.Approve = &Approval{Version: "v2", Through: 25}
	f.unhealthy["t7@v2"] = true
	p := NewPlan(NameCanary, approved, "v2", targets, prior)
	res, saved := applyPlan(t, f, clk, NameCanary, approved, p, prior)
	if res.Success || res.Status != StatusRolledBack || saved.Traffic != 25 {
		t.Fatalf("failed stage 50: %+v saved %+v", res, saved)
	}
	if saved, back := BackAtGate(p.Request, prior, saved, res); !back || saved.Traffic != 25 || res.Status != StatusPaused || res.PausedAt != 25 || !res.ResumeAt.IsZero() {
		t.Fatalf("rolled back to the gate, not paused there: %+v", res)
	}
	again := priorOf(NameCanary, targets, saved, res, clk.Now())
	if p := NewPlan(NameCanary, cfg, "v2", targets, again); p.Work() {
		t.Errorf("the approval withdrawn, the gate opened: %v", ids(p.Pending))
	}
	if p := NewPlan(NameCanary, approved, "v2", targets, again); !slices.Equal(ids(p.Pending), idRange(6, 10)) {
		t.Errorf("approved again plans %v, want t6..t10", ids(p.Pending))
	}

	// A failed measurement of the paused stage abandons the version.
	abandoned := &Result{Status: StatusRolledBack, Abandoned: true}
	if _, back := BackAtGate(p.Request, prior, Saved{Version: "v1", Traffic: 100}, abandoned); back || abandoned.Status != StatusRolledBack {
		t.Errorf("an abandoned version is paused: %+v", abandoned)
	}
}

// TestBlueGreenPauseTurnedOffSwitches: a blue/green paused before its
// switch whose pause_before_switch is turned off switches at the next
// apply, as a canary whose gates are removed goes on: the plan is not
// empty.
func TestBlueGreenPauseTurnedOffSwitches(t *testing.T) {
	t.Parallel()
	ps := pausedBeforeSwitch(t)
	cfg := ps.cfg
	cfg.BlueGreen.PauseBeforeSwitch = false
	p := NewPlan(NameBlueGreen, cfg, "v2", ps.targets, ps.prior)
	if !p.Work() || p.Request.TopUp {
		t.Fatalf("pause_before_switch off: work %t (pending %v, owed %t), top-up %t; want the switch owed", p.Work(), ids(p.Pending), p.TrafficOwed, p.Request.TopUp)
	}
	ps.switches(t, cfg, p, "after pause_before_switch off")
}

// TestBlueGreenFailedRepairWhilePausedIsNoTopUp: a blue/green paused
// before its switch whose repair of the idle slot fails is still before its
// switch: the next apply deploys the idle slot and pauses again; it must
// not take the version for the serving one and deploy it to the active
// slot as a top-up.
func TestBlueGreenFailedRepairWhilePausedIsNoTopUp(t *testing.T) {
	t.Parallel()
	ps := pausedBeforeSwitch(t)
	f, targets, clk, cfg, prior := ps.f, ps.targets, ps.clk, ps.cfg, ps.prior

	// An idle target drifts, and its repair fails.
	f.versions["g1"], prior.Versions["g1"] = "v0", "v0"
	f.deployErr["g1@v2"] = errBoom
	res, saved := applyPlan(t, f, clk, NameBlueGreen, cfg, NewPlan(NameBlueGreen, cfg, "v2", targets, prior), prior)
	if res.Success || saved.Version != "v2" {
		t.Fatalf("failed repair: %+v saved %+v", res, saved)
	}
	prior = priorOf(NameBlueGreen, targets, saved, res, epoch)
	delete(f.deployErr, "g1@v2")

	p := NewPlan(NameBlueGreen, cfg, "v2", targets, prior)
	if p.Request.TopUp || !slices.Equal(ids(p.Pending), []string{"g1"}) {
		t.Fatalf("after the failed repair: top-up %t, pending %v; want g1 of the idle slot", p.Request.TopUp, ids(p.Pending))
	}
	res, _ = applyPlan(t, f, clk, NameBlueGreen, cfg, p, prior)
	if res.Status != StatusPaused || len(f.calls("switch")) != 0 {
		t.Fatalf("after the failed repair: %s, switches %v; want paused before the switch again", res.Status, f.calls("switch"))
	}
	wantRunning(t, f, "v1", "b1", "b2", "b3") // the serving slot
}

// TestCanaryFailedRepairWhilePausedKeepsTheGate: a canary paused at a
// manual gate whose repair of a drifted target fails stands at the gate,
// with status rolled_back: the next apply, not approved, repairs and pauses
// there again; it must not take the gate for one already passed.
func TestCanaryFailedRepairWhilePausedKeepsTheGate(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 20, "v1")
	clk := clocktest.NewFake(epoch)
	cfg := gatedCanary()
	res, saved := applyPlan(t, f, clk, NameCanary, cfg, NewPlan(NameCanary, cfg, "v2", targets, Prior{}), Prior{})
	if res.Status != StatusPaused || res.PausedAt != 25 {
		t.Fatalf("not paused at 25: %+v", res)
	}
	prior := priorOf(NameCanary, targets, saved, res, clk.Now())

	// t1 drifts, and its repair fails.
	f.versions["t1"], prior.Versions["t1"] = "v0", "v0"
	f.deployErr["t1@v2"] = errBoom
	res, saved = applyPlan(t, f, clk, NameCanary, cfg, NewPlan(NameCanary, cfg, "v2", targets, prior), prior)
	if res.Success || saved.Version != "v2" || saved.Traffic != 25 {
		t.Fatalf("failed repair: %+v saved %+v", res, saved)
	}
	prior = priorOf(NameCanary, targets, saved, res, clk.Now())
	delete(f.deployErr, "t1@v2")

	p := NewPlan(NameCanary, cfg, "v2", targets, prior)
	if got := ids(p.Pending); !slices.Equal(got, []string{"t1"}) {
		t.Fatalf("after the failed repair the plan deploys %v, want t1 alone (the gate at 25%% is not approved)", got)
	}
	res, _ = applyPlan(t, f, clk, NameCanary, cfg, p, prior)
	if !res.Success || res.Status != StatusPaused || res.PausedAt != 25 {
		t.Fatalf("after the failed repair: %s at %v, want paused at 25 again", res.Status, res.PausedAt)
	}
	for _, w := range f.calls("weights") {
		if w == "weights v2 50" || w == "weights v2 100" {
			t.Errorf("traffic went past the gate: %v", f.calls("weights"))
		}
	}
}

// TestCanaryResumeCancelledStaysPaused: cancelled while measuring the
// paused stage on resume, the rollout abandons nothing: no call, the
// targets and weight of the pause stay, and it is paused again.
func TestCanaryResumeCancelledStaysPaused(t *testing.T) {
	t.Parallel()
	a := appliedCanary(t, Gate{At: 25})
	f, targets, clk, cfg, prior := a.f, a.targets, a.clk, a.cfg, a.prior
	weights, deploys := len(f.calls("weights")), len(f.deployed("v1"))+len(f.deployed("v2"))

	cfg.Approve = &Approval{Version: "v2", Through: 25}
	p := NewPlan(NameCanary, cfg, "v2", targets, prior)
	req := p.Request
	req.Deployment, req.AutoRollback, req.HealthCheck = "web", true, hc()
	req.Analysis = Analysis{InitialDelay: time.Minute, Metrics: []MetricLimit{{Name: "error-rate"}}}
	ctx := cancelAtSleep(t, clk, time.Minute)
	env := f.env(clk, nil)
	m := newMeter(func(int, Window, int) (string, bool) { return "0", true })
	env.Measure = m.Measure
	res := mustNew(t, NameCanary, func(c *Config) { *c = cfg }).Execute(ctx, req, env)
	if res.Success || res.Abandoned || len(m.phases()) != 0 {
		t.Fatalf("cancelled resume: success %t abandoned %t measured %v", res.Success, res.Abandoned, m.phases())
	}
	if got := f.calls("weights"); len(got) != weights {
		t.Errorf("the cancelled resume set weights: %v", got[weights:])
	}
	if got := len(f.deployed("v1")) + len(f.deployed("v2")); got != deploys {
		t.Errorf("the cancelled resume deployed %d targets", got-deploys)
	}
	saved, back := BackAtGate(req, prior, AfterApply(NameCanary, req, prior, res), res)
	if !back || res.PausedAt != 25 || saved.Traffic != 25 || saved.Version != "v2" || saved.PreviousVersion != "v1" {
		t.Errorf("after the cancelled resume: status %s at %g, saved %+v; want paused at 25 as before", res.Status, res.PausedAt, saved)
	}
}

// TestResumeAtFollowsTheConfiguration: paused at a gate, resume_at is the
// time it was reached plus the gate's wait as configured now. Lengthened
// or shortened, the wait moves it; a manual gate given a wait gets one; a
// time gate made manual loses it and only an approval opens it; a gate
// removed is open. A repair at the gate keeps the time it was reached.
func TestResumeAtFollowsTheConfiguration(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 20, "v1")
	clk := clocktest.NewFake(epoch)
	cfg := gatedCanary()
	cfg.Canary.Gates = []Gate{{At: 25, Wait: time.Hour}}
	res, saved := applyPlan(t, f, clk, NameCanary, cfg, NewPlan(NameCanary, cfg, "v2", targets, Prior{}), Prior{})
	if res.Status != StatusPaused || !res.PausedSince.Equal(epoch) || !res.ResumeAt.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("paused: %+v", res)
	}
	prior := priorOf(NameCanary, targets, saved, res, epoch.Add(30*time.Minute))

	with := func(gates ...Gate) Config {
		c := cfg
		c.Canary.Gates = gates
		return c
	}
	for _, tc := range []struct {
		name     string
		cfg      Config
		resumeAt time.Time // zero: manual
		opens    bool      // at 30 minutes past the pause
	}{
		{"unchanged", cfg, epoch.Add(time.Hour), false},
		{"lengthened", with(Gate{At: 25, Wait: 24 * time.Hour}), epoch.Add(24 * time.Hour), false},
		{"shortened", with(Gate{At: 25, Wait: 10 * time.Minute}), epoch.Add(10 * time.Minute), true},
		{"not whole seconds", with(Gate{At: 25, Wait: 1500 * time.Millisecond}), epoch.Add(2 * time.Second), true},
		{"made manual", with(Gate{At: 25}), time.Time{}, false},
		{"removed", with(), time.Time{}, true},
		{"moved to 50", with(Gate{At: 50}), time.Time{}, true},
	} {
		p := NewPlan(NameCanary, tc.cfg, "v2", targets, prior)
		if !p.Request.Gates.ResumeAt.Equal(tc.resumeAt) || p.Work() != tc.opens {
			t.Errorf("%s: resume_at %v, work %t (pending %v); want %v, %t", tc.name, p.Request.Gates.ResumeAt, p.Work(), ids(p.Pending), tc.resumeAt, tc.opens)
		}
	}
	// A manual gate given a wait while paused there gets a resume time from
	// when it was reached.
	manual := with(Gate{At: 25})
	res, saved = applyPlan(t, f, clk, NameCanary, manual, NewPlan(NameCanary, manual, "v3", targets, Prior{}), Prior{})
	if res.Status != StatusPaused || !res.ResumeAt.IsZero() {
		t.Fatalf("paused at the manual gate: %+v", res)
	}
	prior = priorOf(NameCanary, targets, saved, res, epoch.Add(3*time.Second))
	timed := with(Gate{At: 25, Wait: 2 * time.Second})
	if p := NewPlan(NameCanary, timed, "v3", targets, prior); !p.Request.Gates.ResumeAt.Equal(epoch.Add(2*time.Second)) || !p.Work() {
		t.Errorf("manual made a time gate: resume_at %v, work %t; want %v and open", p.Request.Gates.ResumeAt, p.Work(), epoch.Add(2*time.Second))
	}
	// A repair at the gate (t2 drifted) pauses there again, reached when it
	// first was.
	clk.Set(epoch.Add(time.Hour))
	f.versions["t2"], prior.Versions = "v1", withVersion(prior.Versions, "t2", "v1")
	long := with(Gate{At: 25, Wait: 24 * time.Hour})
	p := NewPlan(NameCanary, long, "v3", targets, prior)
	res, _ = applyPlan(t, f, clk, NameCanary, long, p, prior)
	if res.Status != StatusPaused || !res.PausedSince.Equal(epoch) || !res.ResumeAt.Equal(epoch.Add(24*time.Hour)) || f.version("t2") != "v3" {
		t.Errorf("repair at the gate: %s since %v resume %v, t2 %s; want paused since %v until %v", res.Status, res.PausedSince, res.ResumeAt, f.version("t2"), epoch, epoch.Add(24*time.Hour))
	}
}

// TestRevertToAPausedRelease: v2 paused at its manual gate at 25 %, then
// v3 on top of it, paused at 50 %. Setting version back to v2 restores v2
// as it was: its targets (t1..t5), the others back to what they ran before
// v3 (v1), its weight of 25 % and its pause at 25. Without an approval of
// v2 nothing moves on; approved, it continues.
func TestRevertToAPausedRelease(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 20, "v1")
	clk := clocktest.NewFake(epoch)
	cfg := gatedCanary()
	cfg.Canary.Gates = []Gate{{At: 25}, {At: 50}}
	prior := Prior{Strategy: NameCanary, Version: "v1", Status: StatusCompleted, Traffic: 100, Targets: targets, Versions: currentAt(targets, "v1"), Now: epoch}
	res, saved := applyPlan(t, f, clk, NameCanary, cfg, NewPlan(NameCanary, cfg, "v2", targets, prior), prior)
	if res.Status != StatusPaused || res.PausedAt != 25 {
		t.Fatalf("v2 not paused at 25: %+v", res)
	}
	prior = priorOf(NameCanary, targets, saved, res, epoch)
	since := res.PausedSince

	clk.Set(epoch.Add(time.Hour))
	v3 := cfg
	v3.Approve = &Approval{Version: "v3", Through: 25}
	res, saved = applyPlan(t, f, clk, NameCanary, v3, NewPlan(NameCanary, v3, "v3", targets, prior), prior)
	if res.Status != StatusPaused || res.PausedAt != 50 || saved.PreviousVersion != "v2" || len(f.deployed("v3")) != 10 {
		t.Fatalf("v3 not paused at 50 on top of v2: %+v saved %+v, v3 on %v", res, saved, f.deployed("v3"))
	}
	prior = priorOf(NameCanary, targets, saved, res, clk.Now())
	mark := len(f.log)

	p := NewPlan(NameCanary, cfg, "v2", targets, prior)
	if !p.Revert || !slices.Equal(ids(p.Pending), idRange(1, 5)) || !slices.Equal(ids(p.RevertTargets), idRange(1, 10)) {
		t.Fatalf("revert plans v2 on %v, restores %v (revert %t); want t1..t5, t1..t10", ids(p.Pending), ids(p.RevertTargets), p.Revert)
	}
	if p.Request.PreviousVersion != "v1" {
		t.Errorf("the revert plans previous_version %q, want v1 (v2's own)", p.Request.PreviousVersion)
	}
	res, saved = applyPlan(t, f, clk, NameCanary, cfg, p, prior)
	if !res.Success || res.Status != StatusPaused || res.PausedAt != 25 || !res.PausedSince.Equal(since) {
		t.Fatalf("revert: %s at %g since %v, errors %v; want paused at 25 since %v", res.Status, res.PausedAt, res.PausedSince, res.Errors, since)
	}
	if saved.Version != "v2" || saved.PreviousVersion != "v1" || saved.Traffic != 25 || len(saved.Superseded) != 0 {
		t.Errorf("revert saves %+v, want v2 (previous v1) at 25%% with nothing superseded", saved)
	}
	if calls := f.log[mark:]; len(calls) == 0 || calls[0] != "weights v3 0" || calls[len(calls)-1] != "weights v2 25" {
		t.Errorf("revert calls %v: want v3's weight to 0 first and v2's back to 25 last", calls)
	}
	for _, id := range idRange(1, 20) {
		want := "v1"
		if slices.Contains(idRange(1, 5), id) {
			want = "v2"
		}
		if f.version(id) != want {
			t.Errorf("%s runs %s after the revert, want %s", id, f.version(id), want)
		}
	}
	prior = priorOf(NameCanary, targets, saved, res, clk.Now())
	if p := NewPlan(NameCanary, cfg, "v2", targets, prior); p.Work() {
		t.Errorf("v2 restored at its gate went on unapproved: %v", ids(p.Pending))
	}
	approved := cfg
	approved.Approve = &Approval{Version: "v2", Through: 25}
	if p := NewPlan(NameCanary, approved, "v2", targets, prior); !slices.Equal(ids(p.Pending), idRange(6, 10)) {
		t.Errorf("v2 approved through 25 plans %v, want t6..t10 (up to its gate at 50)", ids(p.Pending))
	}
}

// TestFailedReleaseOnAPausedOneLeavesThePause: v3 fails on top of v2
// paused at 25 % and rolls everything back: v2 is paused at 25 % as
// before, with its weight.
func TestFailedReleaseOnAPausedOneLeavesThePause(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 20, "v1")
	clk := clocktest.NewFake(epoch)
	cfg := gatedCanary()
	cfg.Canary.Gates = []Gate{{At: 25}}
	prior := Prior{Strategy: NameCanary, Version: "v1", Status: StatusCompleted, Traffic: 100, Targets: targets, Versions: currentAt(targets, "v1"), Now: epoch}
	res, saved := applyPlan(t, f, clk, NameCanary, cfg, NewPlan(NameCanary, cfg, "v2", targets, prior), prior)
	prior = priorOf(NameCanary, targets, saved, res, epoch)
	f.deployErr["t3@v3"] = errBoom
	p := NewPlan(NameCanary, cfg, "v3", targets, prior)
	req := p.Request
	req.Deployment, req.AutoRollback, req.HealthCheck = "web", true, hc()
	res = mustNew(t, NameCanary, func(c *Config) { *c = cfg }).Execute(context.Background(), req, f.env(clk, nil))
	saved, back := BackAtGate(req, prior, AfterApply(NameCanary, req, prior, res), res)
	if !back || res.Status != StatusPaused || res.PausedAt != 25 || saved.Version != "v2" || saved.PreviousVersion != "v1" || saved.Traffic != 25 {
		t.Fatalf("v3 failed on paused v2: back %t, %s at %g, saved %+v; want v2 paused at 25 as before", back, res.Status, res.PausedAt, saved)
	}
	if got := f.calls("weights"); got[len(got)-1] != "weights v2 25" {
		t.Errorf("weights %v: want v2's share put back last", got)
	}
}

// TestRevertDeploysTargetsAddedWithIt: a blue/green paused before its
// switch, a newer version on top of it, then version set back together
// with a target added to the idle slot: the revert restores the paused
// release and deploys it to the new target too, so the next plan is
// empty.
func TestRevertDeploysTargetsAddedWithIt(t *testing.T) {
	t.Parallel()
	f, all := newFleet(t, 6, "v1")
	for i := range all {
		all[i].Slot = SlotGreen
		if i%2 == 1 {
			all[i].Slot = SlotBlue
		}
	}
	targets := all[1:]
	clk := clocktest.NewFake(epoch)
	cfg := DefaultConfig()
	cfg.BlueGreen.PauseBeforeSwitch = true
	res, saved := applyPlan(t, f, clk, NameBlueGreen, cfg, NewPlan(NameBlueGreen, cfg, "v2", targets, Prior{}), Prior{})
	prior := priorOf(NameBlueGreen, targets, saved, res, epoch)
	res, saved = applyPlan(t, f, clk, NameBlueGreen, cfg, NewPlan(NameBlueGreen, cfg, "v3", targets, prior), prior)
	if res.Status != StatusPaused || len(saved.Superseded) != 1 {
		t.Fatalf("v3 on top of paused v2: %s, superseded %v", res.Status, saved.Superseded)
	}
	prior = priorOf(NameBlueGreen, targets, saved, res, epoch)

	p := NewPlan(NameBlueGreen, cfg, "v2", all, prior)
	if !p.Revert || p.FollowUp == nil || !slices.Contains(ids(p.Pending), all[0].ID) {
		t.Fatalf("revert with a new idle target: revert %t, follow-up %t, pending %v", p.Revert, p.FollowUp != nil, ids(p.Pending))
	}
	res, saved = applyPlan(t, f, clk, NameBlueGreen, cfg, p, prior)
	if !res.Success || res.Status != StatusPaused || saved.Version != "v2" || f.version(all[0].ID) != "v2" {
		t.Fatalf("revert: %s %v, saved %+v, %s runs %s", res.Status, res.Errors, saved, all[0].ID, f.version(all[0].ID))
	}
	if p := NewPlan(NameBlueGreen, cfg, "v2", all, priorOf(NameBlueGreen, all, saved, res, epoch)); p.Work() {
		t.Errorf("after the revert the plan still deploys %v", ids(p.Pending))
	}
}

// resume_at is whole seconds, rounded up, so that a time gate never opens
// before its wait is over.
func TestResumeAtRoundsUp(t *testing.T) {
	t.Parallel()
	cfg := CanaryConfig{Gates: []Gate{{At: 50, Wait: time.Hour}}}
	for since, want := range map[time.Time]time.Time{
		time.Date(2026, 12, 2, 8, 0, 0, 1, time.UTC):           time.Date(2026, 12, 2, 9, 0, 1, 0, time.UTC),
		time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC):           time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 2, 8, 59, 59, 999999999, time.UTC): time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
	} {
		if got := cfg.resumeAt(50, since); !got.Equal(want) {
			t.Errorf("paused since %s: resume_at %s, want %s", since, got, want)
		}
	}
	if got := cfg.resumeAt(25, time.Now()); !got.IsZero() {
		t.Errorf("no gate at 25%%: resume_at %s, want none", got)
	}
}
