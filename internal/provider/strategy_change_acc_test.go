package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// A canary with gates that takes over a version feature_flag completed at
// 0 % (the strategy changes, the version does not) counts the version as
// out: the targets that drifted meanwhile are repaired in that apply, not
// held at the first gate, and the router, which feature_flag never set,
// gets the version's weight to 100.
func TestAccStrategyChange_canaryTakesOverACompletedVersion(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	flagCfg := hcl{fleet: f, body: fmt.Sprintf(`
  version      = "2.0.0"
  targets      = %s
  feature_flag = { flag_name = "f", initial_rollout = 0 }`, f.targets(4, ""))}.String()
	canaryCfg := hcl{fleet: f, body: fmt.Sprintf(`
  version = "2.0.0"
  targets = %s
  canary  = {
    stages         = [10, 25, 50, 100]
    stage_interval = "0s"
    router_url     = "%s/router"
    gates          = [{ at = 25 }, { at = 50, wait = "24h" }]
  }`, f.targets(4, ""), f.URL)}.String()
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
