package provider

// Helpers of the feature rollout tests: the resource's address, the stage
// planned and saved, and the flag as the fleet's flag service holds it.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

const rolloutAddr = "codomyrmex_feature_rollout.test"

// newRolloutFleet is the setting of the feature rollout tests: a
// one-target fleet at 1.0.0 and a fake clock at testEpoch.
func newRolloutFleet(t *testing.T) (*testFleet, *clocktest.Fake) {
	t.Helper()
	return newTestFleet(t, 1, "1.0.0"), clocktest.NewFake(testEpoch)
}

// rolloutHCL is the rollout of flag "checkout" on f's flag service with no
// retry, and more arguments body.
func rolloutHCL(f *testFleet, body string) string {
	return hcl{fleet: f, provider: "retries = 0", rollout: true, body: body}.String()
}

// rolloutStateIs checks the rollout's attr in state.
func rolloutStateIs(attr string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(rolloutAddr, tfjsonpath.New(attr), v)
}

// rolloutPlannedIs checks the rollout's attr in the plan.
func rolloutPlannedIs(attr string, v knownvalue.Check) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(rolloutAddr, tfjsonpath.New(attr), v)
}

// expectStage checks the plan shows the rollout at stage with pct.
func expectStagePlanned(stage int64, pct float64, state string) []plancheck.PlanCheck {
	return []plancheck.PlanCheck{
		plancheck.ExpectResourceAction(rolloutAddr, plancheck.ResourceActionUpdate),
		rolloutPlannedIs("current_stage", knownvalue.Int64Exact(stage)),
		rolloutPlannedIs("percentage", knownvalue.Float64Exact(pct)),
		rolloutPlannedIs("state", knownvalue.StringExact(state)),
	}
}

func expectStageSaved(stage int64, pct float64, state string) []statecheck.StateCheck {
	return []statecheck.StateCheck{
		rolloutStateIs("current_stage", knownvalue.Int64Exact(stage)),
		rolloutStateIs("percentage", knownvalue.Float64Exact(pct)),
		rolloutStateIs("state", knownvalue.StringExact(state)),
	}
}

// expectFlag checks what the simulated flag service holds.
func (f *testFleet) expectFlag(name, state string, stage int, pct float64) resource.TestCheckFunc {
	return fleetCheck(func() error {
		fl, ok := f.Flag(name)
		if !ok {
			return fmt.Errorf("flag %q is not published", name)
		}
		if fl.State != state || fl.Stage != stage || fl.Percentage != pct {
			return fmt.Errorf("flag %q = %s stage %d %g%%, want %s stage %d %g%%", name, fl.State, fl.Stage, fl.Percentage, state, stage, pct)
		}
		return nil
	})
}

func publishFlagDirect(t *testing.T, f *testFleet, doc string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, f.URL+"/flags/v1/flags/checkout", strings.NewReader(doc))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT flag: %s", resp.Status)
	}
}

func deleteFlagDirect(t *testing.T, f *testFleet, name string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodDelete, f.URL+"/flags/v1/flags/"+name, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestAccFeatureRollout_stateOnly(t *testing.T) {
	clk := clocktest.NewFake(testEpoch)
	clockTest(t, clk, []resource.TestStep{
		{
			// No endpoint anywhere: the rollout lives in state and feeds outputs.
			Config: `
resource "codomyrmex_feature_rollout" "test" {
  flag_name = "state-only"
  stages    = [10, 100]
}
output "pct" { value = codomyrmex_feature_rollout.test.percentage }
`,
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownOutputValue("pct", knownvalue.Float64Exact(10))},
		},
	})
}

func TestAccFeatureRollout_validation(t *testing.T) {
	accTest(t, []resource.TestStep{
		{Config: `resource "codomyrmex_feature_rollout" "test" {
  flag_name = "state-only"
  stages    = [50, 10]
}`, PlanOnly: true, ExpectError: errorPattern(`stages.*strictly ascending`)},
		{Config: `resource "codomyrmex_feature_rollout" "test" {
  flag_name = "state-only"
  stages    = [10, 100]
  max_stage = 2
}`, PlanOnly: true, ExpectError: errorPattern(`max_stage.*0 to 1`)},
		{Config: `resource "codomyrmex_feature_rollout" "test" {
  flag_name = "state-only"
  start_at  = "tomorrow"
}`, PlanOnly: true, ExpectError: errorPattern(`start_at.*RFC 3339|RFC3339`)},
		{Config: `resource "codomyrmex_feature_rollout" "test" {
  flag_name   = "state-only"
  stage_delay = "0s"
}`, PlanOnly: true, ExpectError: errorPattern(`stage_delay.*greater than zero`)},
		{Config: `resource "codomyrmex_feature_rollout" "test" {
  flag_name  = "state-only"
  on_destroy = "explode"
}`, PlanOnly: true, ExpectError: errorPattern(`on_destroy.*disable.*retain`)},
	})
}
