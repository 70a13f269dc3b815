package provider

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

func TestAccDeployment_rolling(t *testing.T) {
	f := newTestFleet(t, 5, "1.0.0")
	cfg := func(version string, batch int) string {
		return hcl{fleet: f, version: version, targets: f.targets(5, ""), body: fmt.Sprintf(`
  rolling = { batch_size = %d, batch_delay = "0s" }
`, batch)}.String()
	}
	deploysBefore := 0
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		// The last update made 2.0.0 the previous version: destroy restores it.
		CheckDestroy: fleetCheck(func() error { return f.expectAll(5, "2.0.0") }),
		Steps: []resource.TestStep{
			{
				Config: cfg("2.0.0", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionCreate),
					plannedIs("changed_targets", idList(ids(5)...)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("status", knownvalue.StringExact("completed")),
					stateIs("strategy", knownvalue.StringExact("rolling")),
					stateIs("previous_version", knownvalue.StringExact("1.0.0")),
					stateIs("targets_updated", knownvalue.Int64Exact(5)),
					stateIs("targets_failed", knownvalue.Int64Exact(0)),
					stateIs("target_versions", allAt(5, "2.0.0")),
					stateIs("id", knownvalue.StringExact("web")),
					stateIs("active_slot", knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					fleetCheck(func() error { return f.expectAll(5, "2.0.0") }),
					fleetCheck(func() error {
						if got := f.deployOrder("2.0.0"); len(got) != 5 || !batchOrdered(got, 2) {
							return fmt.Errorf("deploy order %v is not batches of 2 in list order", got)
						}
						return nil
					}),
				),
			},
			{
				// An update resumes from the fleet: every target changes.
				Config: cfg("3.0.0", 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
					plannedIs("changed_targets", idList(ids(5)...)),
					plannedIs("previous_version", knownvalue.StringExact("2.0.0")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("target_versions", allAt(5, "3.0.0")),
					stateIs("previous_version", knownvalue.StringExact("2.0.0")),
				},
				Check: resource.ComposeTestCheckFunc(
					fleetCheck(func() error { return f.expectAll(5, "3.0.0") }),
					fleetCheck(func() error { deploysBefore = len(f.Deploys()); return nil }),
				),
			},
			{
				// A change of settings alone plans an update that deploys nothing.
				Config: cfg("3.0.0", 3),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
					plannedIs("changed_targets", knownvalue.ListSizeExact(0)),
					plannedIs("target_versions", allAt(5, "3.0.0")),
				}},
				Check: fleetCheck(func() error {
					if n := len(f.Deploys()); n != deploysBefore {
						return fmt.Errorf("a settings-only change made %d deploy calls", n-deploysBefore)
					}
					return nil
				}),
			},
		},
	})
}

// batchOrdered reports whether ids arrive as consecutive batches of size,
// each batch a set of consecutive targets in list order.
func batchOrdered(got []string, size int) bool {
	var ends []int
	for start := 0; start < len(got); start += size {
		ends = append(ends, min(start+size, len(got)))
	}
	return batchOrderedStages(got, ends)
}

func TestAccDeployment_blueGreen(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	cfg := func(version string) string {
		return hcl{fleet: f, version: version, targets: f.targets(4, `i <= 2 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router" }
`, f.URL)}.String()
	}
	accTest(t, []resource.TestStep{
		{
			Config: cfg("2.0.0"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				// On create the new version goes to the green slot only.
				plannedIs("changed_targets", idList("t3", "t4")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("active_slot", knownvalue.StringExact("green")),
				stateIs("strategy", knownvalue.StringExact("blue_green")),
				stateIs("status", knownvalue.StringExact("completed")),
			},
			Check: resource.ComposeTestCheckFunc(
				fleetCheck(func() error {
					return f.expectVersions(map[string]string{"t1": "1.0.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0"})
				}),
				fleetCheck(func() error { return routerAt(f, "green", "2.0.0") }),
			),
		},
		{
			// The next version goes to the idle (blue) slot, then traffic flips.
			Config:           cfg("3.0.0"),
			ConfigPlanChecks: changesPlanned(idList("t1", "t2")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("active_slot", knownvalue.StringExact("blue")),
				stateIs("previous_version", knownvalue.StringExact("2.0.0")),
			},
			Check: fleetCheck(func() error {
				if err := routerAt(f, "blue", "3.0.0"); err != nil {
					return err
				}
				return f.expectVersions(map[string]string{"t1": "3.0.0", "t2": "3.0.0", "t3": "2.0.0", "t4": "2.0.0"})
			}),
		},
		{
			// Converged: nothing to plan.
			Config:   cfg("3.0.0"),
			PlanOnly: true,
		},
	})
}

func TestAccDeployment_canary(t *testing.T) {
	f := newTestFleet(t, 10, "1.0.0")
	accTest(t, []resource.TestStep{{
		Config: hcl{fleet: f, version: "2.0.0", targets: f.targets(10, ""), body: fmt.Sprintf(`
  canary  = { stages = [10, 50, 100], stage_interval = "0s", router_url = "%s/router" }
`, f.URL)}.String(),
		ConfigPlanChecks: changesPlanned(idList(ids(10)...)),
		ConfigStateChecks: []statecheck.StateCheck{
			stateIs("strategy", knownvalue.StringExact("canary")),
			stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
			stateIs("target_versions", allAt(10, "2.0.0")),
		},
		Check: fleetCheck(func() error {
			order := f.deployOrder("2.0.0")
			// Stage 1 brings 1 target, stage 2 up to 5, stage 3 the rest.
			if len(order) != 10 || order[0] != "t1" || !batchOrderedStages(order, []int{1, 5, 10}) {
				return fmt.Errorf("canary deploy order %v does not follow stages 1/5/10", order)
			}
			if w := f.Router().Weights["2.0.0"]; w != 100 {
				return fmt.Errorf("router weight for 2.0.0 = %v, want 100", w)
			}
			return nil
		}),
	}})
}

// batchOrderedStages reports whether ids arrive as consecutive batches
// ending at the cumulative counts, each batch a set of consecutive targets
// in list order.
func batchOrderedStages(got []string, cumulative []int) bool {
	want := ids(len(got))
	start := 0
	for _, end := range cumulative {
		a := slices.Clone(got[start:end])
		b := slices.Clone(want[start:end])
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			return false
		}
		start = end
	}
	return true
}

func TestAccDeployment_featureFlag(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy: fleetCheck(func() error {
			if fl, ok := f.Flag("new-checkout"); !ok || fl.Percentage != 0 {
				return fmt.Errorf("after destroy the flag is %+v (present %v), want 0%%", fl, ok)
			}
			return f.expectAll(3, "1.0.0")
		}),
		Steps: []resource.TestStep{{
			Config: hcl{fleet: f, version: "2.0.0", targets: f.targets(3, ""), body: `
  feature_flag = { flag_name = "new-checkout", initial_rollout = 10 }
`}.String(),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("strategy", knownvalue.StringExact("feature_flag")),
				stateIs("traffic_percentage", knownvalue.Float64Exact(10)),
			},
			Check: fleetCheck(func() error { return f.flagPublishedAndAll("new-checkout", 10, 3, "2.0.0") }),
		}},
	})
}

func TestAccDeployment_failureRollsBack(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	cfg := func(version string) string {
		return hcl{fleet: f, body: rollingArgs(f, 4, 2, hclString(version))}.String()
	}
	accTest(t, []resource.TestStep{
		{
			// A failed create that rolled everything back saves no state.
			PreConfig:   func() { f.SetFault("t2", simulator.Fault{DeployStatus: 500, FailVersion: "1.5.0"}) },
			Config:      cfg("1.5.0"),
			ExpectError: errorPattern(`failed at batch 1/2.*t2.*Rolled back`),
		},
		{
			PreConfig: func() { f.ClearFaults() },
			Config:    cfg("2.0.0"),
			Check:     fleetCheck(func() error { return f.expectAll(4, "2.0.0") }),
			ConfigStateChecks: []statecheck.StateCheck{
				// Created afresh: the failed create left nothing behind.
				stateIs("previous_version", knownvalue.StringExact("1.0.0")),
			},
		},
		{
			// A failing update rolls the touched targets back to 2.0.0.
			PreConfig:   func() { f.SetFault("t3", simulator.Fault{DeployStatus: 500, FailVersion: "3.0.0"}) },
			Config:      cfg("3.0.0"),
			ExpectError: errorPattern(`failed at batch 2/2.*t3.*Rolled back`),
		},
		{
			// State matches the fleet: refresh shows every target at 2.0.0, and the
			// plan proposes 3.0.0 again to all of them.
			PreConfig:          func() { f.ClearFaults() },
			Config:             cfg("3.0.0"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks:   planOnlyFleetChecks(func() error { return f.expectAll(4, "2.0.0") }),
		},
		{
			Config:           cfg("3.0.0"),
			ConfigPlanChecks: changesPlanned(idList(ids(4)...)),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("target_versions", allAt(4, "3.0.0")),
			},
		},
	})
}

func TestAccDeployment_noPreviousVersion(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	f.SetVersion("t3", "0.9.0") // the fleet disagrees: previous_version is unknown
	cfg := hcl{fleet: f, body: rollingArgs(f, 3, 1, `"2.0.0"`)}.String()
	accTest(t, []resource.TestStep{
		{
			PreConfig:   func() { f.SetFault("t2", simulator.Fault{DeployStatus: 500, FailVersion: "2.0.0"}) },
			Config:      cfg,
			ExpectError: errorPattern(`t2.*Nothing was rolled back`),
		},
		{
			// t1 runs 2.0.0 (no rollback possible), t2 and t3 the old versions; the
			// saved state is honest, so the resource is tainted and planned again.
			PreConfig:          func() { f.ClearFaults() },
			Config:             cfg,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks: planOnlyFleetChecks(func() error {
				return f.expectVersions(map[string]string{"t1": "2.0.0", "t2": "1.0.0", "t3": "0.9.0"})
			}),
		},
		{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionDestroyBeforeCreate),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("previous_version", knownvalue.Null()),
				stateIs("target_versions", allAt(3, "2.0.0")),
			},
		},
	})
}

func TestAccDeployment_drift(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	cfg := hcl{fleet: f, version: "2.0.0", targets: f.targets(3, ""), body: `
  rolling = { batch_delay = "0s" }
`}.String()
	deploys := 0
	accTest(t, []resource.TestStep{
		{Config: cfg, Check: fleetCheck(func() error { deploys = len(f.Deploys()); return f.expectAll(3, "2.0.0") })},
		{Config: cfg, PlanOnly: true},
		{
			// Someone hot-fixed t2 by hand: the plan redeploys t2 only.
			PreConfig: func() { f.SetVersion("t2", "2.0.1-hotfix") },
			Config:    cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
				plannedIs("changed_targets", idList("t2")),
				plannedIs("version", knownvalue.StringExact("2.0.0")),
			}},
			Check: fleetCheck(func() error {
				if got := f.Deploys()[deploys:]; len(got) != 1 || got[0].Target != "t2" || got[0].Version != "2.0.0" {
					return fmt.Errorf("drift repair made deploys %+v, want only t2 → 2.0.0", got)
				}
				return f.expectAll(3, "2.0.0")
			}),
		},
	})
}

func TestAccDeployment_unreachableTargetWarns(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	cfg := hcl{fleet: f, version: "2.0.0", targets: f.targets(2, ""), body: `
  rolling = { batch_delay = "0s" }
`}.String()
	accTest(t, []resource.TestStep{
		{Config: cfg},
		{
			// An unreachable target is not drift: the plan stays empty.
			PreConfig: func() { f.SetFault("t1", simulator.Fault{CloseConnection: true}) },
			Config:    cfg,
			PlanOnly:  true,
		},
		// Back online, so the post-test destroy can roll back.
		{PreConfig: func() { f.ClearFaults() }, Config: cfg, PlanOnly: true},
	})
}

func TestAccDeployment_destroyWithoutRollback(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             fleetCheck(func() error { return f.expectAll(2, "2.0.0") }),
		Steps: []resource.TestStep{{
			Config: hcl{fleet: f, version: "2.0.0", targets: f.targets(2, ""), body: `
  rolling    = { batch_delay = "0s" }
  on_destroy = "none"
`}.String(),
		}},
	})
}

func TestAccDeployment_blueGreenDestroySwitchesBack(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             fleetCheck(func() error { return routerAt(f, "blue", "1.0.0") }),
		Steps: []resource.TestStep{{
			Config: hcl{fleet: f, version: "2.0.0", targets: f.targets(2, `i == 1 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router" }
`, f.URL)}.String(),
		}},
	})
}

func TestAccDeployment_validation(t *testing.T) {
	f := newTestFleet(t, 1, "1.0.0")
	one := f.targets(1, "")
	cases := map[string]struct {
		body string
		err  string
	}{
		"duplicate ids": {
			body: fmt.Sprintf(`version = "2"
  targets = [{ id = "a", address = "%[1]s/t/t1" }, { id = "a", address = "%[1]s/t/t1" }]`, f.URL),
			err: `Duplicate target id`,
		},
		"bad address": {
			body: `version = "2"
  targets = [{ id = "a", address = "ftp://host/x?y=1" }]`,
			err: `targets\[0\]\.address`,
		},
		"no targets": {
			body: `version = "2"
  targets = []`,
			err: `(?s)targets.*at least 1`,
		},
		"two strategies": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  rolling = {}
  canary  = {}`, one),
			err: `(?s)canary.*rolling|rolling.*canary`,
		},
		"blue_green without slots": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  blue_green = {}`, one),
			err: `(?s)targets\[0\]\.slot`,
		},
		"blue_green one slot": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  blue_green = {}`, f.targets(1, `"blue"`)),
			err: `Both slots must be used`,
		},
		"bad slot": {
			body: fmt.Sprintf(`version = "2"
  targets = %s`, f.targets(1, `"purple"`)),
			err: `(?s)slot.*blue.*green`,
		},
		"canary not ascending": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  canary = { stages = [10, 5, 100] }`, one),
			err: `(?s)canary\.stages.*strictly ascending`,
		},
		"canary not ending at 100": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  canary = { stages = [10, 50] }`, one),
			err: `(?s)canary\.stages.*must be 100`,
		},
		"canary stage above 100": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  canary = { stages = [10, 150] }`, one),
			err: `(?s)canary\.stages.*\(0, 100\]`,
		},
		"threshold": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  canary = { success_threshold = 1.5 }`, one),
			err: `(?s)success_threshold.*between 0`,
		},
		"batch size": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  rolling = { batch_size = 0 }`, one),
			err: `(?s)rolling\.batch_size.*at least 1`,
		},
		"batch size and count": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  rolling = { batch_size = 2, batch_count = 2 }`, one),
			err: `(?s)batch_count`,
		},
		"bad duration": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  rolling = { batch_delay = "soon" }`, one),
			err: `(?s)rolling\.batch_delay.*Go duration`,
		},
		"empty version": {
			body: fmt.Sprintf(`version = ""
  targets = %s`, one),
			err: `(?s)version.*at least 1`,
		},
		"health path": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  health_check = { path = "health?x=1" }`, one),
			err: `health_check.path.*start with '/'`,
		},
		"health timeout": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  health_check = { timeout = "0s" }`, one),
			err: `health_check.timeout.*greater than zero`,
		},
		"stage interval": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  canary = { stage_interval = "1 minute" }`, one),
			err: `canary.stage_interval.*Go duration`,
		},
		"initial rollout": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  feature_flag = { flag_name = "f", initial_rollout = 101 }`, one),
			err: `initial_rollout.*between 0`,
		},
		"flag name": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  feature_flag = { flag_name = "no spaces" }`, one),
			err: `flag_name.*A-Z`,
		},
		"router url": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  canary = { router_url = "http://router/x#frag" }`, one),
			err: `canary.router_url.*fragment`,
		},
		"bad on_destroy": {
			body: fmt.Sprintf(`version = "2"
  targets = %s
  on_destroy = "explode"`, one),
			err: `(?s)on_destroy.*rollback.*none`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			accTest(t, []resource.TestStep{{
				Config:      hcl{fleet: f, body: "  " + tc.body}.String(),
				PlanOnly:    true,
				ExpectError: errorPattern(tc.err),
			}})
		})
	}
	t.Run("bad name", func(t *testing.T) {
		accTest(t, []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "codomyrmex_deployment" "test" {
  name    = "web app!"
  version = "2"
  targets = %s
}`, one),
			PlanOnly:    true,
			ExpectError: errorPattern(`name.*A-Z`),
		}})
	})
	t.Run("feature_flag without endpoint", func(t *testing.T) {
		t.Setenv(EnvFlagEndpoint, "")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			Steps: []resource.TestStep{{
				Config: fmt.Sprintf(`
resource "codomyrmex_deployment" "test" {
  name         = "web"
  version      = "2"
  targets      = %s
  feature_flag = { flag_name = "f" }
}`, one),
				PlanOnly:    true,
				ExpectError: errorPattern(`feature_flag.*flag_endpoint`),
			}},
		})
	})
}

func TestAccDeployment_canaryAndFlagUpdates(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	canary := func(version string) string {
		return hcl{fleet: f, version: version, targets: f.targets(4, ""), body: fmt.Sprintf(`
  canary  = { stages = [25, 100], stage_interval = "0s", router_url = "%s/router" }
`, f.URL)}.String()
	}
	flag := func(version string, pct int) string {
		return hcl{fleet: f, version: version, targets: f.targets(4, ""), body: fmt.Sprintf(`
  feature_flag = { flag_name = "checkout-v2", initial_rollout = %d }
`, pct)}.String()
	}
	accTest(t, []resource.TestStep{
		{Config: canary("2.0.0"), Check: fleetCheck(func() error { return f.expectAll(4, "2.0.0") })},
		{
			Config: canary("3.0.0"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
				plannedIs("changed_targets", idList(ids(4)...)),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
				stateIs("previous_version", knownvalue.StringExact("2.0.0")),
			},
			Check: fleetCheck(func() error {
				if order := f.deployOrder("3.0.0"); len(order) != 4 || order[0] != "t1" {
					return fmt.Errorf("canary update order %v: stage 1 (25%%) must bring t1 alone", order)
				}
				return f.expectAll(4, "3.0.0")
			}),
		},
		{
			// Switching strategy with a new version: the feature-flag rollout.
			Config: flag("4.0.0", 20),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("strategy", knownvalue.StringExact("feature_flag")),
				stateIs("traffic_percentage", knownvalue.Float64Exact(20)),
			},
			Check: resource.ComposeTestCheckFunc(
				f.expectFlag("checkout-v2", "active", 0, 20),
				fleetCheck(func() error { return f.expectAll(4, "4.0.0") }),
			),
		},
		{
			Config: flag("5.0.0", 50),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("traffic_percentage", knownvalue.Float64Exact(50)),
				stateIs("previous_version", knownvalue.StringExact("4.0.0")),
			},
			Check: resource.ComposeTestCheckFunc(
				f.expectFlag("checkout-v2", "active", 0, 50),
				fleetCheck(func() error { return f.expectAll(4, "5.0.0") }),
			),
		},
	})
}

func TestAccDeployment_timeoutRollsBack(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	cfg := func(version string) string {
		return hcl{fleet: f, version: version, targets: f.targets(3, ""), body: `
  rolling  = { batch_size = 1, batch_delay = "0s" }
  timeouts = { update = "5s" }
`}.String()
	}
	accTest(t, []resource.TestStep{
		{Config: cfg("2.0.0")},
		{
			// t2 hangs on the deploy of 3.0.0 past the update timeout: the call in
			// flight finishes, t3 is never started, and t1 and t2 are rolled back.
			// 5s leaves a loaded machine room to finish t1 and start t2 first;
			// the 8s hang stays under the 10s request_timeout.
			PreConfig:   func() { f.SetFault("t2", simulator.Fault{Hang: 8 * time.Second, FailVersion: "3.0.0"}) },
			Config:      cfg("3.0.0"),
			ExpectError: errorPattern(`failed at batch 3/3 \(cancelled\).*no further target started: timeouts.update \(5s\) expired.*Rolled back to previous_version "[^"]+": t1, t2`),
		},
		{
			PreConfig:          func() { f.ClearFaults() },
			Config:             cfg("3.0.0"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks: planOnlyFleetChecks(func() error {
				if n := f.deploysOf("3.0.0"); n > 2 {
					return fmt.Errorf("%d deploys of 3.0.0 after the timeout: t3 must not start", n)
				}
				return f.expectVersions(map[string]string{"t1": "2.0.0", "t3": "2.0.0"})
			}),
		},
	})
}

func TestAccProvider_validation(t *testing.T) {
	cases := map[string]struct {
		provider string
		err      string
	}{
		"request_timeout":         {`request_timeout = "soon"`, `request_timeout.*Go duration`},
		"retries":                 {`retries = 11`, `retries.*between 0 and 10`},
		"max_concurrency":         {`max_concurrency = 0`, `max_concurrency.*between 1 and 10000`},
		"flag_endpoint":           {`flag_endpoint = "localhost:7070"`, `flag_endpoint.*http`},
		"client cert without key": {`client_cert_pem = "x"`, `client_key_pem`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			accTest(t, []resource.TestStep{{
				Config: fmt.Sprintf(`
provider "codomyrmex" {
  %s
}
resource "codomyrmex_feature_rollout" "test" {
  flag_name = "validation"
}`, tc.provider),
				PlanOnly:    true,
				ExpectError: errorPattern(tc.err),
			}})
		})
	}
}

func TestAccDeployment_targetsAddedAndRemoved(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	cfg := func(targets string) string {
		return hcl{fleet: f, version: "2.0.0", targets: targets, body: `
  rolling = { batch_delay = "0s" }
`}.String()
	}
	first := fmt.Sprintf(`[for i in range(1, 4) : { id = "t${i}", address = "%s/t/t${i}" }]`, f.URL)
	second := fmt.Sprintf(`[for i in range(2, 5) : { id = "t${i}", address = "%s/t/t${i}" }]`, f.URL)
	deploys := 0
	accTest(t, []resource.TestStep{
		{Config: cfg(first), Check: fleetCheck(func() error { deploys = len(f.Deploys()); return nil })},
		{
			// t1 leaves the list (left alone), t4 joins (gets the version).
			Config:           cfg(second),
			ConfigPlanChecks: changesPlanned(idList("t4")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("target_versions", knownvalue.MapExact(map[string]knownvalue.Check{
					"t2": knownvalue.StringExact("2.0.0"), "t3": knownvalue.StringExact("2.0.0"), "t4": knownvalue.StringExact("2.0.0"),
				})),
			},
			Check: fleetCheck(func() error {
				if got := f.Deploys()[deploys:]; len(got) != 1 || got[0].Target != "t4" {
					return fmt.Errorf("deploys %+v, want only t4", got)
				}
				return f.expectVersions(map[string]string{"t1": "2.0.0", "t4": "2.0.0"})
			}),
		},
	})
}
