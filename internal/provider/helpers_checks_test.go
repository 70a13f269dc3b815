package provider

// Plan and state checks shared by the acceptance tests: the deployment's
// address and values, checks against the fleet, and the steps after a
// failed apply.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

const deploymentAddr = "codomyrmex_deployment.test"

func idList(ids ...string) knownvalue.Check {
	checks := make([]knownvalue.Check, len(ids))
	for i, id := range ids {
		checks[i] = knownvalue.StringExact(id)
	}
	return knownvalue.ListExact(checks)
}

func allAt(n int, version string) knownvalue.Check {
	m := map[string]knownvalue.Check{}
	for _, id := range ids(n) {
		m[id] = knownvalue.StringExact(version)
	}
	return knownvalue.MapExact(m)
}

func fleetCheck(fn func() error) resource.TestCheckFunc {
	return func(*terraform.State) error { return fn() }
}

// fleetPlanCheck checks the fleet in a PlanOnly step, where plugin-testing
// runs plan checks but never Check.
type fleetPlanCheck func() error

func (fn fleetPlanCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = fn()
}

// planOnlyFleetChecks runs fn after the plan of a PlanOnly step.
func planOnlyFleetChecks(fn func() error) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{fleetPlanCheck(fn)}}
}

// savedState checks the prior state of a plan against the fleet. In the
// non-refresh plan that follows a failed apply, the prior state is what
// that apply saved; in the refresh plan, what refresh read back. Both must
// equal what the targets run.
type savedState struct {
	f *testFleet
	// absent: the deployment must not be in state (a failed create that
	// rolled everything back saves nothing).
	absent bool
	// version is the saved version; targets are the ids in
	// target_versions, each of which must match the fleet.
	version string
	targets []string
	tainted bool
}

func (c savedState) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	res := priorResource(req.Plan, deploymentAddr)
	if c.absent {
		if res != nil {
			resp.Error = fmt.Errorf("state holds %s (version %v), want nothing saved", deploymentAddr, res.AttributeValues["version"])
		}
		return
	}
	if res == nil {
		resp.Error = fmt.Errorf("state holds no %s", deploymentAddr)
		return
	}
	var problems []string
	if v := res.AttributeValues["version"]; v != c.version {
		problems = append(problems, fmt.Sprintf("version = %v, want %q", v, c.version))
	}
	if res.Tainted != c.tainted {
		problems = append(problems, fmt.Sprintf("tainted = %v, want %v", res.Tainted, c.tainted))
	}
	tv, _ := res.AttributeValues["target_versions"].(map[string]any)
	var got []string
	fleet := c.f.Versions()
	for id, v := range tv {
		got = append(got, id)
		if v != fleet[id] {
			problems = append(problems, fmt.Sprintf("target_versions[%s] = %v but the target runs %q", id, v, fleet[id]))
		}
	}
	sort.Strings(got)
	want := slices.Sorted(slices.Values(c.targets))
	if !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("target_versions has %v, want %v", got, want))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		resp.Error = fmt.Errorf("saved state does not match the fleet: %s", strings.Join(problems, "; "))
	}
}

func priorResource(p *tfjson.Plan, addr string) *tfjson.StateResource {
	if p == nil || p.PriorState == nil || p.PriorState.Values == nil || p.PriorState.Values.RootModule == nil {
		return nil
	}
	for _, r := range p.PriorState.Values.RootModule.Resources {
		if r.Address == addr {
			return r
		}
	}
	return nil
}

// afterFailure is the step that follows a failed apply: a plan without
// refresh checks the state the failure saved, a refresh plan checks that
// refresh agrees, and both must propose action on changed.
func afterFailure(cfg string, preConfig func(), saved savedState, action plancheck.ResourceActionType, changed ...string) resource.TestStep {
	return afterFailureStep(cfg, preConfig, action, changed, saved)
}

// afterFailureStep is afterFailure with any plan checks.
func afterFailureStep(cfg string, preConfig func(), action plancheck.ResourceActionType, changed []string, checks ...plancheck.PlanCheck) resource.TestStep {
	checks = append(checks,
		plancheck.ExpectResourceAction(deploymentAddr, action),
		plannedIs("changed_targets", idList(changed...)),
	)
	return resource.TestStep{
		PreConfig:          preConfig,
		Config:             cfg,
		PlanOnly:           true,
		ExpectNonEmptyPlan: true,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PostApplyPreRefresh:  checks,
			PostApplyPostRefresh: checks,
		},
	}
}

// expectFleet reports a fleet that is not as wanted from a PreConfig.
func expectFleet(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Error(err)
	}
}

// stateIs checks the deployment's attr in state.
func stateIs(attr string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(deploymentAddr, tfjsonpath.New(attr), v)
}

// analysisResultIs checks key of the deployment's analysis result i in
// state.
func analysisResultIs(i int, key string, v knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(deploymentAddr, tfjsonpath.New("analysis_results").AtSliceIndex(i).AtMapKey(key), v)
}

// plannedIs checks the deployment's attr in the plan.
func plannedIs(attr string, v knownvalue.Check) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(deploymentAddr, tfjsonpath.New(attr), v)
}

// weightOf checks the router's weight of version.
func weightOf(f *testFleet, version string, want float64) error {
	if w := f.Router().Weights[version]; w != want {
		return fmt.Errorf("router weight of %s = %v, want %v", version, w, want)
	}
	return nil
}

// pausedAtManualGate checks state holds version paused at a manual gate
// at, with at percent of the traffic and no time to resume at.
func pausedAtManualGate(version string, at float64) []statecheck.StateCheck {
	return []statecheck.StateCheck{
		stateIs("status", knownvalue.StringExact("paused")),
		stateIs("paused_at", knownvalue.Float64Exact(at)),
		stateIs("resume_at", knownvalue.Null()),
		stateIs("version", knownvalue.StringExact(version)),
		stateIs("traffic_percentage", knownvalue.Float64Exact(at)),
	}
}

// changesPlanned checks the plan's changed_targets before the apply.
func changesPlanned(v knownvalue.Check) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plannedIs("changed_targets", v)}}
}

// routerAt checks the router sends traffic to slot at version.
func routerAt(f *testFleet, slot, version string) error {
	if r := f.Router(); r.ActiveSlot != slot || r.Version != version {
		return fmt.Errorf("router = %+v, want %s at %s", r, slot, version)
	}
	return nil
}

// routerAtAfter is routerAt after switches switches of the slot.
func routerAtAfter(f *testFleet, slot, version string, switches int) error {
	if r := f.Router(); r.ActiveSlot != slot || r.Version != version || r.Switches != switches {
		return fmt.Errorf("router = %+v, want %s at %s after %d switches", r, slot, version, switches)
	}
	return nil
}
