package strategies

import (
	"maps"
	"slices"
	"testing"
)

func TestNewPlan(t *testing.T) {
	t.Parallel()
	bg := slotted("blue", "blue", "green", "green")
	rolling := slotted("", "", "", "")
	prior := func(strategy string, targets []Target, version string, versions map[string]string, slot string) Prior {
		return Prior{Strategy: strategy, Version: version, PreviousVersion: "0", Status: StatusCompleted, Traffic: 100, ActiveSlot: slot, Targets: targets, Versions: versions}
	}
	moved := slices.Clone(rolling)
	moved[1].Address = "http://h/elsewhere"
	tests := []struct {
		name     string
		strategy string
		version  string
		targets  []Target
		prior    Prior
		want     []string
		traffic  float64
		topUp    bool
		owed     bool
	}{
		{"rolling create deploys every target", NameRolling, "2", rolling, Prior{}, []string{"t1", "t2", "t3", "t4"}, 0, false, false},
		{"rolling resume", NameRolling, "2", rolling, prior(NameRolling, rolling, "1", map[string]string{"t1": "2", "t2": "2", "t3": "1"}, ""), []string{"t3", "t4"}, 0, false, false},
		{"address change with the same version", NameRolling, "2", moved, prior(NameRolling, rolling, "2", map[string]string{"t1": "2", "t2": "2", "t3": "2", "t4": "2"}, ""), []string{"t2"}, 100, false, false},
		{"blue/green create goes green", NameBlueGreen, "2", bg, Prior{}, []string{"t3", "t4"}, 0, false, false},
		{"blue/green new version goes to the idle slot", NameBlueGreen, "2", bg, prior(NameBlueGreen, bg, "1", map[string]string{"t1": "1", "t2": "1", "t3": "1", "t4": "1"}, "green"), []string{"t1", "t2"}, 0, false, true},
		{"blue/green converged plans nothing", NameBlueGreen, "2", bg, prior(NameBlueGreen, bg, "2", map[string]string{"t1": "1", "t2": "1", "t3": "2", "t4": "2"}, "green"), nil, 100, true, false},
		{"blue/green added target of the active slot is a top-up", NameBlueGreen, "2", bg, prior(NameBlueGreen, bg, "2", map[string]string{"t1": "1", "t2": "1", "t3": "2"}, "green"), []string{"t4"}, 100, true, false},
		{"canary repair keeps the traffic it has", NameCanary, "2", rolling, prior(NameCanary, rolling, "2", map[string]string{"t1": "2", "t2": "2", "t3": "2", "t4": "1"}, ""), []string{"t4"}, 100, false, false},
		{"canary that failed after every target owes its weights", NameCanary, "2", rolling, Prior{Strategy: NameCanary, Version: "2", Status: StatusFailed, Traffic: 50, Targets: rolling, Versions: map[string]string{"t1": "2", "t2": "2", "t3": "2", "t4": "2"}}, nil, 50, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := NewPlan(tt.strategy, DefaultConfig(), tt.version, tt.targets, tt.prior)
			if got := ids(p.Pending); !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Fatalf("pending = %v, want %v", got, tt.want)
			}
			if p.Request.PriorTraffic != tt.traffic || p.Request.TopUp != tt.topUp || p.TrafficOwed != tt.owed {
				t.Fatalf("prior traffic %v, top-up %v, traffic owed %v; want %v, %v, %v",
					p.Request.PriorTraffic, p.Request.TopUp, p.TrafficOwed, tt.traffic, tt.topUp, tt.owed)
			}
		})
	}
}

// applySaved runs strategy on the plan of prior and returns what is saved.
func applySaved(t *testing.T, f *fleet, strategy string, cfg func(*Config), version string, targets []Target, prior Prior) (Saved, *Result) {
	t.Helper()
	p := NewPlan(strategy, DefaultConfig(), version, targets, prior)
	req := p.Request
	req.Deployment, req.AutoRollback, req.HealthCheck = "web", true, hc()
	req.Before = map[string]string{}
	for _, t := range Unknown(req) {
		req.Before[t.ID] = f.version(t.ID)
	}
	res := f.execute(t, strategy, cfg, req)
	return AfterApply(strategy, req, prior, res), res
}

// TestFailedRepairKeepsTrafficAndState: a repair of one drifted target
// (version unchanged) that fails restores that target to what it ran,
// leaves the others and the live traffic alone, never walks the weights
// back through the stages, and keeps version and previous_version.
func TestFailedRepairKeepsTrafficAndState(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{NameCanary, NameFeatureFlag, NameRolling} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, 4, "v2")
			f.versions["t4"] = "v1" // drifted out of band
			f.deployErr["t4@v2"] = errBoom
			traffic, want := 100.0, 100.0
			switch strategy {
			case NameFeatureFlag:
				traffic, want = 40, 40
			case NameRolling:
				want = 75 // a rolling fleet serves in proportion: t4 runs v1 again
			}
			prior := Prior{Strategy: strategy, Version: "v2", PreviousVersion: "v1", Status: StatusCompleted, Traffic: traffic, Targets: targets,
				Versions: map[string]string{"t1": "v2", "t2": "v2", "t3": "v2", "t4": "v1"}}
			cfg := func(c *Config) { c.Canary.Stages = []float64{25, 50, 100}; c.FeatureFlag.InitialRollout = 40 }
			saved, res := applySaved(t, f, strategy, cfg, "v2", targets, prior)
			if res.Success {
				t.Fatal("the repair succeeded; want it to fail")
			}
			if saved.Version != "v2" || saved.PreviousVersion != "v1" || saved.Traffic != want {
				t.Fatalf("saved %q, previous %q, traffic %v; want v2, v1, %v", saved.Version, saved.PreviousVersion, saved.Traffic, want)
			}
			runs := map[string]string{"t1": "v2", "t2": "v2", "t3": "v2", "t4": "v1"}
			if !maps.Equal(saved.Versions, runs) || !maps.Equal(f.versions, runs) {
				t.Fatalf("saved versions %v, fleet %v; want %v", saved.Versions, f.versions, runs)
			}
			for _, c := range append(f.calls("weights"), f.calls("publish")...) {
				if c != "weights v2 100" && c != "publish 40" {
					t.Fatalf("traffic call %q lowers the live version's traffic (calls %v)", c, f.calls(""))
				}
			}
			if strategy == NameFeatureFlag && !errorsMention(res.Errors, `flag stays at 40%`) {
				t.Fatalf("errors %v do not say the flag stays at 40%%", res.Errors)
			}
		})
	}
}

// TestCanaryRepairDoesNotWalkWeightsBack: a successful repair deploys the
// drifted target in one step and never sets a weight below 100.
func TestCanaryRepairDoesNotWalkWeightsBack(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 4, "v2")
	f.versions["t4"] = "v1"
	prior := Prior{Strategy: NameCanary, Version: "v2", PreviousVersion: "v1", Status: StatusCompleted, Traffic: 100, Targets: targets,
		Versions: map[string]string{"t1": "v2", "t2": "v2", "t3": "v2", "t4": "v1"}}
	saved, res := applySaved(t, f, NameCanary, func(c *Config) { c.Canary.Stages = []float64{25, 50, 100} }, "v2", targets, prior)
	if !res.Success || saved.Traffic != 100 {
		t.Fatalf("success %v, traffic %v; want a repair at 100%%: %v", res.Success, saved.Traffic, res.Errors)
	}
	if got := f.calls("weights"); !slices.Equal(got, []string{"weights v2 100"}) {
		t.Fatalf("weights calls %v, want only v2 at 100", got)
	}
	if got := f.deployed("v2"); !slices.Equal(got, []string{"t4"}) {
		t.Fatalf("deployed %v, want t4 only", got)
	}
}

// TestFailedTopUpStaysATopUp: a blue/green target added to the active slot
// that rejects the version is restored to what it ran, nothing is switched,
// and state keeps the version, so the next plan is a top-up again.
func TestFailedTopUpStaysATopUp(t *testing.T) {
	t.Parallel()
	targets := slotted("blue", "blue", "green", "green", "blue")
	f, _ := newFleet(t, 5, "v3")
	f.versions["t3"], f.versions["t4"], f.versions["t5"] = "v2", "v2", "v1"
	f.deployErr["t5@v3"] = errBoom
	prior := Prior{Strategy: NameBlueGreen, Version: "v3", PreviousVersion: "v2", Status: StatusCompleted, Traffic: 100, ActiveSlot: SlotBlue, Targets: targets[:4],
		Versions: map[string]string{"t1": "v3", "t2": "v3", "t3": "v2", "t4": "v2"}}
	saved, res := applySaved(t, f, NameBlueGreen, nil, "v3", targets, prior)
	if res.Success || len(f.calls("switch")) != 0 {
		t.Fatalf("success %v, switches %v; want a failed top-up with no switch", res.Success, f.calls("switch"))
	}
	if saved.Version != "v3" || saved.PreviousVersion != "v2" || saved.ActiveSlot != SlotBlue || saved.Traffic != 100 {
		t.Fatalf("saved %+v; want v3, previous v2, blue active at 100%%", saved)
	}
	if f.versions["t5"] != "v1" {
		t.Fatalf("t5 runs %q, want v1 (what it ran before)", f.versions["t5"])
	}
	next := Prior{Strategy: NameBlueGreen, Version: saved.Version, PreviousVersion: saved.PreviousVersion, Status: StatusFailed, Traffic: saved.Traffic,
		ActiveSlot: saved.ActiveSlot, Targets: targets, Versions: saved.Versions}
	if p := NewPlan(NameBlueGreen, DefaultConfig(), "v3", targets, next); !p.Request.TopUp || !slices.Equal(ids(p.Pending), []string{"t5"}) {
		t.Fatalf("next plan: top-up %v, pending %v; want a top-up of t5", p.Request.TopUp, ids(p.Pending))
	}
}

// TestRolledBackCanaryTraffic: after a canary of a new version rolls back,
// traffic_percentage is the share on the saved (old) version: 100.
func TestRolledBackCanaryTraffic(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 4, "v3")
	f.deployErr["t3@v3.1"] = errBoom
	prior := Prior{Strategy: NameCanary, Version: "v3", PreviousVersion: "v2", Status: StatusCompleted, Traffic: 100, Targets: targets, Versions: currentAt(targets, "v3")}
	saved, res := applySaved(t, f, NameCanary, func(c *Config) { c.Canary.Stages = []float64{50, 100} }, "v3.1", targets, prior)
	if res.Status != StatusRolledBack {
		t.Fatalf("status %q, want rolled_back: %v", res.Status, res.Errors)
	}
	if saved.Version != "v3" || saved.PreviousVersion != "v2" || saved.Traffic != 100 {
		t.Fatalf("saved %q, previous %q, traffic %v; want v3, v2, 100", saved.Version, saved.PreviousVersion, saved.Traffic)
	}
}

// TestCreateDeploysEveryListedTarget: a create deploys every target its
// plan listed, also those that already run the version (a re-create after
// state rm), and a failure puts each back on what it ran.
func TestCreateDeploysEveryListedTarget(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 3, "v2")
	f.versions["t3"] = "v1"
	p := NewPlan(NameRolling, DefaultConfig(), "v2", targets, Prior{})
	req := p.Request
	req.Deployment, req.AutoRollback, req.HealthCheck = "web", true, hc()
	req.Before = map[string]string{"t1": "v2", "t2": "v2", "t3": "v1"}
	res := f.execute(t, NameRolling, func(c *Config) { c.Rolling.BatchDelay = 0 }, req)
	if !res.Success || !slices.Equal(f.deployed("v2"), ids(p.Pending)) || len(p.Pending) != 3 {
		t.Fatalf("success %v, deployed %v; want every planned target %v", res.Success, f.deployed("v2"), ids(p.Pending))
	}
}

// TestNewPlanReadsUnknownIdleTargets: a blue/green target of the idle slot
// given another address is not deployed, but state no longer knows what it
// runs: the apply reads it.
func TestNewPlanReadsUnknownIdleTargets(t *testing.T) {
	t.Parallel()
	targets := slotted("blue", "blue", "green", "green")
	prior := Prior{Strategy: NameBlueGreen, Version: "2", PreviousVersion: "1", Status: StatusCompleted, Traffic: 100, ActiveSlot: SlotBlue, Targets: slices.Clone(targets),
		Versions: map[string]string{"t1": "2", "t2": "2", "t3": "1", "t4": "1"}}
	targets[2].Address = "http://h/elsewhere"
	p := NewPlan(NameBlueGreen, DefaultConfig(), "2", targets, prior)
	if len(p.Pending) != 0 || !slices.Equal(ids(p.Unread), []string{"t3"}) || !p.Work() {
		t.Fatalf("pending %v, unread %v, work %v; want nothing pending, t3 read", ids(p.Pending), ids(p.Unread), p.Work())
	}
}

// TestFeatureFlagKeepsItsPercentage: the flag gates a feature, not a
// version: a failed update to a new version publishes the percentage the
// flag had, and a changed initial_rollout is owed even when no target is.
func TestFeatureFlagKeepsItsPercentage(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v2")
	f.deployErr["t2@v3"] = errBoom
	prior := Prior{Strategy: NameFeatureFlag, Version: "v2", PreviousVersion: "v1", Status: StatusCompleted, Traffic: 50, Targets: targets, Versions: currentAt(targets, "v2")}
	cfg := func(c *Config) { c.FeatureFlag.InitialRollout = 50 }
	saved, res := applySaved(t, f, NameFeatureFlag, cfg, "v3", targets, prior)
	if res.Success || saved.Version != "v2" || saved.Traffic != 50 {
		t.Fatalf("success %v, saved %q at %v%%; want a failure that keeps v2 at 50%%", res.Success, saved.Version, saved.Traffic)
	}
	if got := f.calls("publish"); !slices.Equal(got, []string{"publish 50"}) {
		t.Fatalf("publish calls %v, want the flag put back at 50", got)
	}
	c := DefaultConfig()
	c.FeatureFlag.InitialRollout = 25
	if p := NewPlan(NameFeatureFlag, c, "v2", targets, prior); !p.TrafficOwed || len(p.Pending) != 0 {
		t.Fatalf("initial_rollout 50 → 25: owed %v, pending %v; want the flag published, no target", p.TrafficOwed, ids(p.Pending))
	}
	c.FeatureFlag.InitialRollout = 50
	if p := NewPlan(NameFeatureFlag, c, "v2", targets, prior); p.Work() {
		t.Fatal("a converged feature_flag deployment plans work")
	}
}

// TestDestroyReportsTheTrafficItLeft: destroy (Rollback) takes the
// version's traffic to 0 and reports it, so that a destroy that then fails
// on a target saves the flag as it is; when the flag cannot be published
// it still has what it had.
func TestDestroyReportsTheTrafficItLeft(t *testing.T) {
	t.Parallel()
	for _, publishFails := range []bool{false, true} {
		f, targets := newFleet(t, 2, "v2")
		f.deployErr["t2@v1"] = errBoom
		if publishFails {
			f.publishErr = errBoom
		}
		req := Request{Deployment: "web", Version: "v2", PreviousVersion: "v1", Targets: targets, Current: currentAt(targets, "v2"),
			PriorTraffic: 40, AutoRollback: true, HealthCheck: hc()}
		res := f.rollback(t, NameFeatureFlag, req, targets)
		want := 0.0
		if publishFails {
			want = 40
		}
		if res.Success || res.TrafficPercentage != want {
			t.Errorf("publish fails %v: success %v, traffic %v; want a failed destroy at %v%%", publishFails, res.Success, res.TrafficPercentage, want)
		}
	}
}

// TestPriorTrafficIsTheStrategys: a switch of strategy at the same version
// carries no traffic over: rolling's share of targets is no flag
// percentage.
func TestPriorTrafficIsTheStrategys(t *testing.T) {
	t.Parallel()
	targets := slotted("", "")
	prior := Prior{Strategy: NameRolling, Version: "2", Status: StatusRolledBack, Traffic: 50, Targets: targets, Versions: map[string]string{"t1": "2", "t2": "1"}}
	if p := NewPlan(NameFeatureFlag, DefaultConfig(), "2", targets, prior); p.Request.PriorTraffic != 0 {
		t.Fatalf("rolling → feature_flag: prior traffic %v, want 0 (no flag was published)", p.Request.PriorTraffic)
	}
	prior.Strategy = NameFeatureFlag
	if p := NewPlan(NameFeatureFlag, DefaultConfig(), "3", targets, prior); p.Request.PriorTraffic != 50 {
		t.Fatalf("feature_flag to a new version: prior traffic %v, want the flag's 50", p.Request.PriorTraffic)
	}
}
