package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// TestAccGates_canary walks a release through a manual gate and a time
// gate, with an approval of another version on the way and the next
// release stopping at the gate again.
func TestAccGates_canary(t *testing.T) {
	f := newTestFleet(t, 20, "1.0.0")
	clk := clocktest.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	approve := func(v string, through int) string {
		return fmt.Sprintf(`  approve = { version = %q, through = %d }`, v, through)
	}
	clockTest(t, clk, []resource.TestStep{
		{
			// Stops at the manual gate: exit 0, status paused, and the
			// plan after it is empty (plugin-testing checks that).
			Config:            hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0")}.String(),
			ConfigPlanChecks:  changesPlanned(idList(ids(5)...)),
			ConfigStateChecks: pausedAtManualGate("2.0.0", 25),
			Check: fleetCheck(func() error {
				if err := weightOf(f, "2.0.0", 25); err != nil {
					return err
				}
				return f.expectVersions(versionsMap("2.0.0", ids(5)...))
			}),
		},
		{
			// Still nothing to do after a refresh.
			Config:             hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0")}.String(),
			PlanOnly:           true,
			RefreshState:       false,
			ExpectNonEmptyPlan: false,
		},
		{
			// An approval of another version opens nothing.
			Config: hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0") + "\n" + approve("1.9.0", 100)}.String(),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				// A change of settings alone: no target changes.
				plannedIs("status", knownvalue.StringExact("paused")),
				plannedIs("changed_targets", knownvalue.ListSizeExact(0)),
			}},
			Check: fleetCheck(func() error { return weightOf(f, "2.0.0", 25) }),
		},
		{
			// Approved through 25: exactly the targets of stage 50, up
			// to the time gate.
			Config:           hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0") + "\n" + approve("2.0.0", 25)}.String(),
			ConfigPlanChecks: changesPlanned(idList("t6", "t7", "t8", "t9", "t10")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("paused")),
				stateIs("paused_at", knownvalue.Float64Exact(50)),
				stateIs("resume_at", knownvalue.StringExact("2026-12-02T09:00:00Z")),
			},
			Check: fleetCheck(func() error { return weightOf(f, "2.0.0", 50) }),
		},
		{
			// Before the wait is over: empty.
			PreConfig: func() { clk.Advance(23 * time.Hour) },
			Config:    hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0") + "\n" + approve("2.0.0", 25)}.String(),
			PlanOnly:  true,
		},
		{
			// The first plan after it continues to the end.
			PreConfig:        func() { clk.Advance(time.Hour) },
			Config:           hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0") + "\n" + approve("2.0.0", 25)}.String(),
			ConfigPlanChecks: changesPlanned(idList(idRangeList(11, 20)...)),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("paused_at", knownvalue.Null()),
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
			},
			Check: fleetCheck(func() error { return f.expectAll(20, "2.0.0") }),
		},
		{
			// The next release, the old approval still there, stops at
			// the gate again.
			Config: hcl{fleet: f, body: gatedCanaryArgs(f, "3.0.0") + "\n" + approve("2.0.0", 25)}.String(),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("paused")),
				stateIs("paused_at", knownvalue.Float64Exact(25)),
				stateIs("previous_version", knownvalue.StringExact("2.0.0")),
			},
			Check: fleetCheck(func() error { return weightOf(f, "3.0.0", 25) }),
		},
		{
			// version back to previous_version while paused: the
			// abandoned version's traffic goes, its targets come back.
			Config:           hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0")}.String(),
			ConfigPlanChecks: changesPlanned(idList(ids(5)...)),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("version", knownvalue.StringExact("2.0.0")),
				// What came before 2.0.0 is not known: destroy must not
				// deploy the abandoned 3.0.0 again.
				stateIs("previous_version", knownvalue.Null()),
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
			},
			Check: fleetCheck(func() error {
				if err := weightOf(f, "3.0.0", 0); err != nil {
					return err
				}
				return f.expectAll(20, "2.0.0")
			}),
		},
	})
}

func idRangeList(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("t%d", i))
	}
	return out
}

func TestAccGates_blueGreenPauseBeforeSwitch(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	config := func(version, extra string) string {
		return hcl{fleet: f, version: version, targets: f.targets(4, `i <= 2 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router", pause_before_switch = true }
%s
`, f.URL, extra)}.String()
	}
	accTest(t, []resource.TestStep{
		{
			// The first release switches once approved in the same apply.
			Config: config("2.0.0", `  approve = { version = "2.0.0" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("active_slot", knownvalue.StringExact("green")),
			},
		},
		{
			// The next one pauses before its switch.
			Config: config("2.1.0", `  approve = { version = "2.0.0" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("paused")),
				stateIs("paused_at", knownvalue.Float64Exact(0)),
				stateIs("active_slot", knownvalue.StringExact("green")),
				stateIs("traffic_percentage", knownvalue.Float64Exact(0)),
			},
			Check: fleetCheck(func() error {
				if r := f.Router(); r.ActiveSlot != "green" || r.Switches != 1 {
					return fmt.Errorf("router %+v: traffic must stay on green", r)
				}
				return f.expectVersions(map[string]string{"t1": "2.1.0", "t2": "2.1.0", "t3": "2.0.0", "t4": "2.0.0"})
			}),
		},
		{
			Config:   config("2.1.0", `  approve = { version = "2.0.0" }`),
			PlanOnly: true,
		},
		{
			Config:           config("2.1.0", `  approve = { version = "2.1.0" }`),
			ConfigPlanChecks: changesPlanned(knownvalue.ListSizeExact(0)),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("active_slot", knownvalue.StringExact("blue")),
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
			},
			Check: fleetCheck(func() error { return routerAt(f, "blue", "2.1.0") }),
		},
	})
}

// A canary with gates that takes over a version feature_flag completed at
// 0 % (the strategy changes, the version does not) counts the version as
// out: the targets that drifted meanwhile are repaired in that apply, not
// held at the first gate, and the router, which feature_flag never set,
// gets the version's weight to 100.
func TestAccStrategyChange_canaryTakesOverACompletedVersion(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	flagCfg := hcl{fleet: f, version: "2.0.0", targets: f.targets(4, ""), body: `
  feature_flag = { flag_name = "f", initial_rollout = 0 }`}.String()
	canaryCfg := hcl{fleet: f, body: canaryArgs(f, "2.0.0", gatedCanary(f, 10))}.String()
	accTest(t, []resource.TestStep{
		{
			Config: flagCfg,
			Check:  fleetCheck(func() error { return f.flagPublishedAndAll("f", 0, 4, "2.0.0") }),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("traffic_percentage", knownvalue.Float64Exact(0)),
			},
		},
		{
			PreConfig: func() {
				f.SetVersion("t1", "0.9.0")
				f.SetVersion("t3", "0.9.0")
			},
			Config: canaryCfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
				plannedIs("changed_targets", idList("t1", "t3")),
			}},
			Check: fleetCheck(func() error {
				if err := f.expectAll(4, "2.0.0"); err != nil {
					return err
				}
				if w := f.Router().Weights["2.0.0"]; w != 100 {
					return fmt.Errorf("router weight of 2.0.0 is %v, want 100", w)
				}
				return nil
			}),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
				stateIs("target_versions", allAt(4, "2.0.0")),
			},
		},
	})
}

func TestAccGates_validation(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	config := func(gates string) string {
		return hcl{fleet: f, version: "2.0.0", targets: f.targets(2, ""), body: fmt.Sprintf(`
  canary  = { stages = [10, 50, 100], gates = %s }
`, gates)}.String()
	}
	var steps []resource.TestStep
	for _, tc := range []struct{ gates, want string }{
		{`[{ at = 25 }]`, `canary\.gates\[0\]\.at = 25 must be one of canary\.stages`},
		{`[{ at = 100 }]`, `canary\.gates\[0\]\.at = 100: a gate must stand below 100`},
		{`[{ at = 10 }, { at = 10 }]`, `canary\.gates\[1\]\.at = 10: another gate`},
		{`[{ at = 10, wait = "soon" }]`, `(?s)wait.*Go duration`},
	} {
		steps = append(steps, resource.TestStep{Config: config(tc.gates), PlanOnly: true, ExpectError: regexp.MustCompile(tc.want)})
	}
	accTest(t, steps)
	if n := len(f.Deploys()); n != 0 {
		t.Errorf("validation made %d deploys", n)
	}
}
