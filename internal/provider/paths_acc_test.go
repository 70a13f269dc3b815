package provider

// Acceptance tests for the deployment lifecycle (docs/resources/deployment.md)
// on the less common paths: failed repairs, top-ups, address changes,
// versionless targets, values unknown at plan, equivalent configurations,
// state surgery and the plan's text (paths_cli_acc_test.go). Each test names the finding it covers.

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// ---------------------------------------------------------------------------
// Finding 1: a failed repair of a drifted target (version unchanged) keeps
// the live version's traffic where it was, and keeps version /
// previous_version / traffic_percentage in state.

func TestAccPaths_failedRepairKeepsTraffic(t *testing.T) {
	t.Run("canary", func(t *testing.T) {
		f, traffic := newTrafficFleet(t, 4, "1.0.0")
		cfg := faultHCL(hcl{fleet: f, version: "2.0.0", targets: f.targets(4, ""), body: fmt.Sprintf(`
  canary  = { stages = [50, 100], stage_interval = "0s", router_url = "%s/router" }
`, f.URL)})
		mark := 0
		accTest(t, []resource.TestStep{
			{
				Config: cfg,
				Check: fleetCheck(func() error {
					if w := f.Router().Weights["2.0.0"]; w != 100 {
						return fmt.Errorf("router weight of 2.0.0 = %v after the create, want 100", w)
					}
					return f.expectAll(4, "2.0.0")
				}),
			},
			{
				// t4 was put back to 1.0.0 by hand, and now rejects 2.0.0: the repair fails.
				PreConfig: func() {
					f.SetVersion("t4", "1.0.0")
					f.SetFault("t4", simulator.Fault{DeployStatus: 500, FailVersion: "2.0.0"})
					mark = traffic.mark()
				},
				Config:      cfg,
				ExpectError: errorPattern(`t4`),
			},
			afterFailureStep(cfg, func() {
				if low := traffic.lowered(mark, "weights", "2.0.0", 100); len(low) > 0 {
					t.Errorf("the failed repair lowered the live version's weights: %+v", low)
				}
				if w := f.Router().Weights["2.0.0"]; w != 100 {
					t.Errorf("router weight of 2.0.0 = %v after the failed repair, want 100 (weights %v)", w, f.Router().Weights)
				}
				expectFleet(t, f.expectVersions(map[string]string{"t1": "2.0.0", "t2": "2.0.0", "t3": "2.0.0", "t4": "1.0.0"}))
			}, plancheck.ResourceActionUpdate, []string{"t4"},
				savedState{f: f, version: "2.0.0", targets: ids(4)},
				priorValues{deploymentAddr, map[string]any{"previous_version": "1.0.0", "traffic_percentage": 100}},
			),
			{
				PreConfig: func() { f.ClearFaults() },
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("target_versions", allAt(4, "2.0.0")),
					stateIs("previous_version", knownvalue.StringExact("1.0.0")),
					stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
				},
			},
		})
	})

	t.Run("feature_flag", func(t *testing.T) {
		f, traffic := newTrafficFleet(t, 4, "1.0.0")
		diags := &diagLog{}
		cfg := faultHCL(hcl{fleet: f, version: "2.0.0", targets: f.targets(4, ""), body: `
  feature_flag = { flag_name = "f", initial_rollout = 40 }
`})
		mark, diagMark := 0, 0
		resource.ParallelTest(t, resource.TestCase{
			ProtoV6ProviderFactories: diags.providers(),
			Steps: []resource.TestStep{
				{Config: cfg, Check: fleetCheck(func() error { return f.flagPublishedAndAll("f", 40, 4, "2.0.0") })},
				{
					PreConfig: func() {
						f.SetVersion("t4", "1.0.0")
						f.SetFault("t4", simulator.Fault{DeployStatus: 500, FailVersion: "2.0.0"})
						mark, diagMark = traffic.mark(), diags.mark()
					},
					Config:      cfg,
					ExpectError: errorPattern(`t4`),
				},
				afterFailureStep(cfg, func() {
					if low := traffic.lowered(mark, "flag", "", 40); len(low) > 0 {
						t.Errorf("the failed repair lowered the published flag: %+v", low)
					}
					if fl, ok := f.Flag("f"); !ok || fl.Percentage != 40 {
						t.Errorf("flag f = %+v (present %v) after the failed repair, want still published at 40%%", fl, ok)
					}
					if text := diags.since(diagMark); errorPattern(`not published`).MatchString(text) {
						t.Errorf("the failed repair's error says the flag was not published, but it was and stays published:\n%s", text)
					}
					expectFleet(t, f.expectVersions(map[string]string{"t1": "2.0.0", "t2": "2.0.0", "t3": "2.0.0", "t4": "1.0.0"}))
				}, plancheck.ResourceActionUpdate, []string{"t4"},
					savedState{f: f, version: "2.0.0", targets: ids(4)},
					priorValues{deploymentAddr, map[string]any{"previous_version": "1.0.0", "traffic_percentage": 40}},
				),
			},
		})
	})
}

// ---------------------------------------------------------------------------
// Finding 2: a blue/green top-up of the active slot that fails stays a
// top-up: traffic and the saved version stay, and the next apply retries the
// top-up without a switch.

func TestAccPaths_blueGreenFailedTopUpStaysTopUp(t *testing.T) {
	f := newTestFleet(t, 5, "1.0.0")
	cfg := func(version string, n int) string {
		return faultHCL(hcl{fleet: f, version: version, targets: f.targets(n, `i <= 2 || i == 5 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router" }
`, f.URL)})
	}
	routerOnBlue := func() error { return routerAtAfter(f, "blue", "3.0.0", 2) }
	mark := 0
	accTest(t, []resource.TestStep{
		{Config: cfg("2.0.0", 4)},
		{
			Config: cfg("3.0.0", 4),
			Check: resource.ComposeTestCheckFunc(
				fleetCheck(routerOnBlue),
				fleetCheck(func() error {
					return f.expectVersions(map[string]string{"t1": "3.0.0", "t2": "3.0.0", "t3": "2.0.0", "t4": "2.0.0"})
				}),
			),
		},
		{
			// t5 joins the active (blue) slot and rejects 3.0.0.
			PreConfig:   func() { f.SetFault("t5", simulator.Fault{DeployStatus: 500, FailVersion: "3.0.0"}) },
			Config:      cfg("3.0.0", 5),
			ExpectError: errorPattern(`t5`),
		},
		afterFailureStep(cfg("3.0.0", 5), func() {
			expectFleet(t, routerOnBlue())
			expectFleet(t, f.expectVersions(map[string]string{"t1": "3.0.0", "t2": "3.0.0", "t3": "2.0.0", "t4": "2.0.0"}))
			if v := f.Versions()["t5"]; v == "3.0.0" {
				t.Errorf("t5 runs 3.0.0 after its failed deploy")
			}
			f.ClearFaults()
			mark = len(f.Deploys())
		}, plancheck.ResourceActionUpdate, []string{"t5"},
			priorValues{deploymentAddr, map[string]any{"version": "3.0.0", "active_slot": "blue", "previous_version": "2.0.0"}},
		),
		{
			Config:           cfg("3.0.0", 5),
			ConfigPlanChecks: changesPlanned(idList("t5")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("active_slot", knownvalue.StringExact("blue")),
				stateIs("version", knownvalue.StringExact("3.0.0")),
			},
			Check: resource.ComposeTestCheckFunc(
				fleetCheck(routerOnBlue),
				fleetCheck(func() error {
					if got := deploysSince(f, mark); !slices.Equal(got, []string{"t5=3.0.0"}) {
						return fmt.Errorf("the retried top-up made deploys %v, want only t5=3.0.0", got)
					}
					return nil
				}),
			),
		},
	})
}

// ---------------------------------------------------------------------------
// Finding 3: identity is id + address. A target whose address changed is in
// changed_targets even with the same version, the apply deploys to the new
// address, and state records what that address reports.

func TestAccPaths_addressChangeSameVersion(t *testing.T) {
	// t5 runs 1.0.0 and is not in the list until t2's address points at it.
	f := newTestFleet(t, 5, "1.0.0")
	cfg := func(t2 string) string {
		return hcl{fleet: f, body: fmt.Sprintf(`
  version = "2.0.0"
  targets = [for i in range(1, 5) : { id = "t${i}", address = i == 2 ? "%s/t/%s" : "%s/t/t${i}" }]
  rolling = { batch_size = 4, batch_delay = "0s" }
`, f.URL, t2, f.URL)}.String()
	}
	accTest(t, []resource.TestStep{
		{Config: cfg("t2"), Check: fleetCheck(func() error { return f.expectAll(4, "2.0.0") })},
		{
			Config: cfg("t5"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
				plannedIs("changed_targets", idList("t2")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("target_versions", allAt(4, "2.0.0")),
			},
			Check: fleetCheck(func() error {
				return f.expectVersions(map[string]string{"t5": "2.0.0"})
			}),
		},
		// State equals what the addresses report: nothing left to plan.
		{Config: cfg("t5"), PlanOnly: true},
	})
}

// ---------------------------------------------------------------------------
// Finding 4: a target that reports no version (expect_version = false) runs
// what was last deployed to it: never "" in state, no permanent diff, and
// destroy still rolls back.

func TestAccPaths_versionlessTargets(t *testing.T) {
	body := func(f *testFleet) string {
		return fmt.Sprintf(`
  version      = "2.0.0"
  targets      = %s
  rolling      = { batch_size = 3, batch_delay = "0s" }
  health_check = { expect_version = false, interval = "10ms", timeout = "2s" }
`, f.targets(3, ""))
	}

	t.Run("after_create", func(t *testing.T) {
		// The versions are readable at create (previous_version 1.0.0); then
		// the health checks stop reporting them.
		f := newTestFleet(t, 3, "1.0.0")
		cfg := hcl{fleet: f, body: body(f)}.String()
		saved := priorValues{deploymentAddr, map[string]any{
			"version": "2.0.0", "previous_version": "1.0.0", "target_versions": versionsMap("2.0.0", ids(3)...),
		}}
		resource.ParallelTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProviders,
			CheckDestroy:             fleetCheck(func() error { return f.expectAll(3, "1.0.0") }),
			Steps: []resource.TestStep{
				{
					Config: cfg,
					ConfigStateChecks: []statecheck.StateCheck{
						stateIs("previous_version", knownvalue.StringExact("1.0.0")),
					},
				},
				{
					PreConfig: func() { f.SetFault("*", simulator.Fault{NoVersion: true}) },
					Config:    cfg,
					PlanOnly:  true,
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PostApplyPostRefresh: []plancheck.PlanCheck{saved, plancheck.ExpectEmptyPlan()},
					},
				},
				{
					Config: cfg,
					ConfigStateChecks: []statecheck.StateCheck{
						stateIs("version", knownvalue.StringExact("2.0.0")),
						stateIs("previous_version", knownvalue.StringExact("1.0.0")),
						stateIs("target_versions", allAt(3, "2.0.0")),
					},
				},
			},
		})
	})

	t.Run("from_create", func(t *testing.T) {
		// No target ever reports a version.
		f := newTestFleet(t, 3, "1.0.0")
		f.SetFault("*", simulator.Fault{NoVersion: true})
		cfg := hcl{fleet: f, body: body(f)}.String()
		accTest(t, []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("version", knownvalue.StringExact("2.0.0")),
					stateIs("target_versions", allAt(3, "2.0.0")),
				},
				Check: fleetCheck(func() error { return f.expectAll(3, "2.0.0") }),
			},
			{
				Config:   cfg,
				PlanOnly: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{
						priorValues{deploymentAddr, map[string]any{"version": "2.0.0", "target_versions": versionsMap("2.0.0", ids(3)...)}},
						plancheck.ExpectEmptyPlan(),
					},
				},
			},
		})
	})
}

// ---------------------------------------------------------------------------
// Finding 6: a target id or slot unknown at plan, with the list's length
// known: changed_targets is unknown at plan and apply computes it, without
// an inconsistent result.

func TestAccPaths_unknownTargetIdentity(t *testing.T) {
	const health = `health_check = { interval = "10ms", timeout = "2s" }`
	idsConfig := func(idList, targets string) string {
		return fmt.Sprintf(`
provider "codomyrmex" {}

resource "terraform_data" "ids" {
  input = %s
}

resource "codomyrmex_deployment" "test" {
  name         = "web"
  version      = "2.0.0"
  targets      = %s
  rolling      = { batch_size = 4, batch_delay = "0s" }
  %s
}
`, idList, targets, health)
	}
	// The ids are unknown, the number of targets is not.
	indexed := func(f *testFleet, n int) string {
		return fmt.Sprintf(`[for i in range(%d) : { id = terraform_data.ids.output[i], address = "%s/t/${terraform_data.ids.output[i]}" }]`, n, f.URL)
	}

	t.Run("ids", func(t *testing.T) {
		f := newTestFleet(t, 4, "1.0.0")
		mark := 0
		accTest(t, []resource.TestStep{
			{
				Config: idsConfig(`["t1", "t2", "t3"]`, indexed(f, 3)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					changedTargetsUnknown{},
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("changed_targets", idList("t1", "t2", "t3")),
					stateIs("target_versions", allAt(3, "2.0.0")),
				},
				Check: fleetCheck(func() error { mark = len(f.Deploys()); return f.expectAll(3, "2.0.0") }),
			},
			{
				// The ids change: unknown again at plan, one more target.
				Config: idsConfig(`["t1", "t2", "t3", "t4"]`, indexed(f, 4)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					changedTargetsUnknown{},
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("changed_targets", idList("t4")),
					stateIs("target_versions", allAt(4, "2.0.0")),
				},
				Check: fleetCheck(func() error {
					if got := deploysSince(f, mark); !slices.Equal(got, []string{"t4=2.0.0"}) {
						return fmt.Errorf("deploys %v, want only t4=2.0.0", got)
					}
					return nil
				}),
			},
		})
	})

	t.Run("ids_for_each", func(t *testing.T) {
		// The brief's shape: a for expression over the unknown output.
		f := newTestFleet(t, 3, "1.0.0")
		forEach := fmt.Sprintf(`[for id in terraform_data.ids.output : { id = id, address = "%s/t/${id}" }]`, f.URL)
		accTest(t, []resource.TestStep{{
			Config: idsConfig(`["t1", "t2", "t3"]`, forEach),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				changedTargetsUnknown{},
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("changed_targets", idList("t1", "t2", "t3")),
			},
			Check: fleetCheck(func() error { return f.expectAll(3, "2.0.0") }),
		}})
	})

	t.Run("slots", func(t *testing.T) {
		f := newTestFleet(t, 4, "1.0.0")
		cfg := func(version, trigger string) string {
			return fmt.Sprintf(`
provider "codomyrmex" {}

resource "terraform_data" "slots" {
  input            = ["blue", "blue", "green", "green"]
  triggers_replace = [%q]
}

resource "codomyrmex_deployment" "test" {
  name         = "web"
  version      = %q
  targets      = [for i in range(4) : { id = "t${i + 1}", address = "%s/t/t${i + 1}", slot = terraform_data.slots.output[i] }]
  blue_green   = { router_url = "%s/router" }
  %s
}
`, trigger, version, f.URL, f.URL, health)
		}
		step := func(version, trigger, slot string, changed []string, want map[string]string) resource.TestStep {
			return resource.TestStep{
				Config:           cfg(version, trigger),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{changedTargetsUnknown{}}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("changed_targets", idList(changed...)),
					stateIs("active_slot", knownvalue.StringExact(slot)),
				},
				Check: fleetCheck(func() error { return f.expectVersions(want) }),
			}
		}
		accTest(t, []resource.TestStep{
			step("2.0.0", "a", "green", []string{"t3", "t4"}, map[string]string{"t1": "1.0.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0"}),
			// The slots are replaced (unknown at plan) along with a new version.
			step("3.0.0", "b", "blue", []string{"t1", "t2"}, map[string]string{"t1": "3.0.0", "t2": "3.0.0", "t3": "2.0.0", "t4": "2.0.0"}),
		})
	})
}

// ---------------------------------------------------------------------------
// Finding 7: a change that does not change what runs (a setting written at
// its default, name = "" on a target, a duration written differently)
// deploys nothing, calls no router, and leaves every computed value as it
// was.

func TestAccPaths_equivalentChangeDeploysNothing(t *testing.T) {
	type valueTracker interface {
		AddStateValue(string, tfjsonpath.Path) statecheck.StateCheck
	}
	unchanged := func() []valueTracker {
		return []valueTracker{
			statecheck.CompareValue(compare.ValuesSame()),
			statecheck.CompareValue(compare.ValuesSame()),
			statecheck.CompareValue(compare.ValuesSame()),
		}
	}
	sameOutcome := func(cv []valueTracker) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			cv[0].AddStateValue(deploymentAddr, tfjsonpath.New("targets_updated")),
			cv[1].AddStateValue(deploymentAddr, tfjsonpath.New("deployed_at")),
			cv[2].AddStateValue(deploymentAddr, tfjsonpath.New("duration_ms")),
		}
	}

	// Rolling: each case goes from the first configuration to an equivalent
	// second one. No strategy block is rolling with its defaults (one 5s
	// batch_delay between the two targets).
	rolling := map[string][2][2]string{
		"batch_delay_default": {{"", ""}, {`rolling = { batch_delay = "5s" }`, ""}},
		"target_name_empty":   {{`rolling = { batch_delay = "0s" }`, ""}, {`rolling = { batch_delay = "0s" }`, `, name = ""`}},
	}
	for name, tc := range rolling {
		t.Run(name, func(t *testing.T) {
			f := newTestFleet(t, 2, "1.0.0")
			cfg := func(c [2]string) string {
				return hcl{fleet: f, body: fmt.Sprintf(`
  version = "2.0.0"
  targets = [for i in range(1, 3) : { id = "t${i}", address = "%s/t/t${i}"%s }]
  %s
`, f.URL, c[1], c[0])}.String()
			}
			cv := unchanged()
			deploys := 0
			accTest(t, []resource.TestStep{
				{
					Config:            cfg(tc[0]),
					ConfigStateChecks: sameOutcome(cv),
					Check:             fleetCheck(func() error { deploys = len(f.Deploys()); return f.expectAll(2, "2.0.0") }),
				},
				{
					Config: cfg(tc[1]),
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
					}},
					ConfigStateChecks: sameOutcome(cv),
					Check: fleetCheck(func() error {
						if n := len(f.Deploys()); n != deploys {
							return fmt.Errorf("an equivalent change made %d deploy calls", n-deploys)
						}
						return nil
					}),
				},
			})
		})
	}

	t.Run("canary", func(t *testing.T) {
		f := newTestFleet(t, 4, "1.0.0")
		cfg := func(interval string) string {
			return hcl{fleet: f, version: "2.0.0", targets: f.targets(4, ""), body: fmt.Sprintf(`
  canary  = { stages = [100], stage_interval = %q, router_url = "%s/router" }
`, interval, f.URL)}.String()
		}
		cv := unchanged()
		deploys, weights := 0, 0
		accTest(t, []resource.TestStep{
			{
				Config:            cfg("60s"),
				ConfigStateChecks: sameOutcome(cv),
				Check: fleetCheck(func() error {
					deploys, weights = len(f.Deploys()), f.Calls()[simulator.CallWeights]
					return f.expectAll(4, "2.0.0")
				}),
			},
			{
				Config: cfg("1m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: sameOutcome(cv),
				Check: fleetCheck(func() error {
					if n := f.Calls()[simulator.CallWeights]; n != weights {
						return fmt.Errorf("an equivalent change made %d weights calls", n-weights)
					}
					if n := len(f.Deploys()); n != deploys {
						return fmt.Errorf("an equivalent change made %d deploy calls", n-deploys)
					}
					return nil
				}),
			},
		})
	})
}

// ---------------------------------------------------------------------------
// Finding 8: a strategy setting unknown at plan that turns out equal to the
// saved one: the apply succeeds and deploys nothing.

func TestAccPaths_unknownSettingEqualToState(t *testing.T) {
	// "0s" differs from the default: the provider reads an unknown duration
	// as its default, and plans as if the setting changed. With "5s" (the
	// default) the final plan is a no-op that both CLIs skip; it passes today
	// and is kept as a guard.
	for _, delay := range []string{"0s", "5s"} {
		t.Run(delay, func(t *testing.T) {
			f := newTestFleet(t, 2, "1.0.0")
			cfg := func(trigger string) string {
				return fmt.Sprintf(`
provider "codomyrmex" {}

resource "terraform_data" "x" {
  input            = %q
  triggers_replace = [%q]
}

resource "codomyrmex_deployment" "test" {
  name         = "web"
  version      = "2.0.0"
  targets      = %s
  rolling      = { batch_size = 2, batch_delay = terraform_data.x.output }
  health_check = { interval = "10ms", timeout = "2s" }
}
`, delay, trigger, f.targets(2, ""))
			}
			deploys := 0
			accTest(t, []resource.TestStep{
				{Config: cfg("a"), Check: fleetCheck(func() error { deploys = len(f.Deploys()); return f.expectAll(2, "2.0.0") })},
				{
					// terraform_data.x is replaced: batch_delay is unknown at plan and
					// at apply equal to the saved value.
					Config: cfg("b"),
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("terraform_data.x", plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectUnknownValue(deploymentAddr, tfjsonpath.New("rolling").AtMapKey("batch_delay")),
					}},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(deploymentAddr, tfjsonpath.New("rolling").AtMapKey("batch_delay"), knownvalue.StringExact(delay)),
						stateIs("target_versions", allAt(2, "2.0.0")),
					},
					Check: fleetCheck(func() error {
						if n := len(f.Deploys()); n != deploys {
							return fmt.Errorf("a setting equal to the saved one made %d deploy calls", n-deploys)
						}
						return nil
					}),
				},
			})
		})
	}
}

// ---------------------------------------------------------------------------
// Finding 10: repairing one drifted canary target redeploys it alone and
// never walks the router weights back through the stages.

func TestAccPaths_canaryRepairKeepsWeights(t *testing.T) {
	f, traffic := newTrafficFleet(t, 4, "1.0.0")
	cfg := hcl{fleet: f, version: "2.0.0", targets: f.targets(4, ""), body: fmt.Sprintf(`
  canary  = { stages = [25, 50, 100], stage_interval = "0s", router_url = "%s/router" }
`, f.URL)}.String()
	mark, deploys := 0, 0
	accTest(t, []resource.TestStep{
		{Config: cfg, Check: fleetCheck(func() error { return f.expectAll(4, "2.0.0") })},
		{
			PreConfig: func() {
				f.SetVersion("t4", "1.0.0")
				mark, deploys = traffic.mark(), len(f.Deploys())
			},
			Config:           cfg,
			ConfigPlanChecks: changesPlanned(idList("t4")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
			},
			Check: fleetCheck(func() error {
				if got := deploysSince(f, deploys); !slices.Equal(got, []string{"t4=2.0.0"}) {
					return fmt.Errorf("the repair made deploys %v, want only t4=2.0.0", got)
				}
				if low := traffic.lowered(mark, "weights", "2.0.0", 100); len(low) > 0 {
					return fmt.Errorf("the repair walked the weights of 2.0.0 back through the stages: %+v", low)
				}
				if w := f.Router().Weights["2.0.0"]; w != 100 {
					return fmt.Errorf("router weight of 2.0.0 = %v, want 100", w)
				}
				return f.expectAll(4, "2.0.0")
			}),
		},
	})
}

// ---------------------------------------------------------------------------
// Finding 12: with expect_version = false a reported version is information,
// not drift: no permanent redeploy, and state keeps the deployed version
//.

func TestAccPaths_reportedVersionIsNotDrift(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	// Once it runs 2.0.0, t2's health reports 9.9.9.
	f.SetFault("t2", simulator.Fault{ReportVersion: "9.9.9", FailVersion: "2.0.0"})
	cfg := hcl{fleet: f, version: "2.0.0", targets: f.targets(3, ""), body: `
  rolling      = { batch_size = 3, batch_delay = "0s" }
  health_check = { expect_version = false, interval = "10ms", timeout = "1s" }
`}.String()
	accTest(t, []resource.TestStep{
		{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("target_versions", allAt(3, "2.0.0")),
				stateIs("previous_version", knownvalue.StringExact("1.0.0")),
			},
			Check: fleetCheck(func() error { return f.expectAll(3, "2.0.0") }),
		},
		{
			Config:   cfg,
			PlanOnly: true,
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
				priorValues{deploymentAddr, map[string]any{"version": "2.0.0", "target_versions": versionsMap("2.0.0", ids(3)...)}},
				plancheck.ExpectEmptyPlan(),
			}},
		},
	})
}

// ---------------------------------------------------------------------------
// Finding 13: traffic_percentage is the share of traffic on the saved
// version: 100 after a rolled-back canary of a newer one.

func TestAccPaths_rolledBackCanaryTraffic(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	cfg := func(version string) string {
		return faultHCL(hcl{fleet: f, version: version, targets: f.targets(4, ""), body: fmt.Sprintf(`
  canary  = { stages = [50, 100], stage_interval = "0s", router_url = "%s/router" }
`, f.URL)})
	}
	accTest(t, []resource.TestStep{
		{Config: cfg("3.0.0")},
		{
			PreConfig:   func() { f.SetFault("t1", simulator.Fault{DeployStatus: 500, FailVersion: "3.1.0"}) },
			Config:      cfg("3.1.0"),
			ExpectError: errorPattern(`t1.*Rolled back`),
		},
		afterFailureStep(cfg("3.1.0"), func() {
			r := f.Router()
			if r.Weights["3.0.0"] != 100 || r.Weights["3.1.0"] != 0 {
				t.Errorf("router weights %v after the rolled-back canary, want 3.0.0 at 100 and 3.1.0 at 0", r.Weights)
			}
			expectFleet(t, f.expectAll(4, "3.0.0"))
			f.ClearFaults()
		}, plancheck.ResourceActionUpdate, ids(4),
			savedState{f: f, version: "3.0.0", targets: ids(4)},
			priorValues{deploymentAddr, map[string]any{"traffic_percentage": 100}},
		),
	})
}

// A blue/green target of the idle slot given another address is not
// deployed (no version change), but state must say what the new address
// runs.
func TestAccPaths_blueGreenIdleTargetReaddressed(t *testing.T) {
	t.Run("active slot", func(t *testing.T) { blueGreenReaddressedActive(t) })
	t.Run("idle slot", func(t *testing.T) { blueGreenReaddressedIdle(t) })
}

func versionsAre(want map[string]string) knownvalue.Check {
	checks := map[string]knownvalue.Check{}
	for id, v := range want {
		checks[id] = knownvalue.StringExact(v)
	}
	return knownvalue.MapExact(checks)
}

// t3 of the active (green) slot moves to t5's address: it is deployed.
func blueGreenReaddressedActive(t *testing.T) {
	f := newTestFleet(t, 5, "1.0.0")
	accTest(t, []resource.TestStep{
		{Config: hcl{fleet: f, body: readdressedArgs(f, "t3", "t3")}.String()}, // green active at 2.0.0, blue idle at 1.0.0
		{
			PreConfig: func() { f.SetVersion("t5", "0.9.0") },
			Config:    hcl{fleet: f, body: readdressedArgs(f, "t3", "t5")}.String(),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("target_versions",
					versionsAre(map[string]string{"t1": "1.0.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0"})),
			},
		},
	})
}

// t1 of the idle (blue) slot moves to t5's address, which runs 0.9.0:
// nothing is deployed, and state says what t5 runs.
func blueGreenReaddressedIdle(t *testing.T) {
	g := newTestFleet(t, 5, "1.0.0")
	accTest(t, []resource.TestStep{
		{Config: hcl{fleet: g, body: readdressedArgs(g, "t1", "t1")}.String()},
		{
			PreConfig:        func() { g.SetVersion("t5", "0.9.0") },
			Config:           hcl{fleet: g, body: readdressedArgs(g, "t1", "t5")}.String(),
			ConfigPlanChecks: changesPlanned(knownvalue.ListSizeExact(0)),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("target_versions",
					versionsAre(map[string]string{"t1": "0.9.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0"})),
			},
			Check: fleetCheck(func() error { return g.expectVersions(map[string]string{"t5": "0.9.0", "t1": "1.0.0"}) }),
		},
	})
}

// The flag of a feature_flag deployment follows initial_rollout, also when
// no target changes; a failed update to a new version puts back the
// percentage the flag had.
func TestAccPaths_featureFlagFollowsInitialRollout(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	cfg := func(version string, pct int) string {
		return hcl{fleet: f, version: version, targets: f.targets(2, ""), body: fmt.Sprintf(`
  feature_flag = { flag_name = "checkout", initial_rollout = %d }
`, pct)}.String()
	}
	accTest(t, []resource.TestStep{
		{Config: cfg("2.0.0", 10), Check: fleetCheck(func() error { return f.flagPublishedAndAll("checkout", 10, 2, "2.0.0") })},
		{
			Config: cfg("2.0.0", 50),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("traffic_percentage", knownvalue.Float64Exact(50)),
			},
			Check: fleetCheck(func() error { return f.flagPublishedAndAll("checkout", 50, 2, "2.0.0") }),
		},
		{
			PreConfig:   func() { f.SetFault("t2", simulator.Fault{DeployStatus: 500, FailVersion: "3.0.0"}) },
			Config:      cfg("3.0.0", 50),
			ExpectError: errorPattern(`t2 failed; flag "checkout" stays at 50%`),
		},
		{
			PreConfig: func() { expectFleet(t, f.flagPublishedAndAll("checkout", 50, 2, "2.0.0")); f.ClearFaults() },
			Config:    cfg("3.0.0", 50),
			Check:     fleetCheck(func() error { return f.flagPublishedAndAll("checkout", 50, 2, "3.0.0") }),
		},
	})
}
