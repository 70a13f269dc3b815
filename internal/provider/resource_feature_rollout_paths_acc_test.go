package provider

// The rollout's less common paths: a flag state set outside Terraform, and
// plans applied after an advance became due.

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// ---------------------------------------------------------------------------
// Finding 5: a flag whose state was set outside Terraform (completed,
// aborted) is drift: the next plan publishes the rollout's own values
// again, and the rollout goes on.

func TestAccPaths_rolloutForeignStateNotAdopted(t *testing.T) {
	cases := map[string]string{
		"completed": `{"flag":"checkout","state":"completed","stage":0,"percentage":5,"stages":[5,25,50,100],"updated_at":"2026-11-23T09:00:00Z"}`,
		"aborted":   `{"flag":"checkout","state":"aborted","stage":0,"percentage":0,"stages":[5,25,50,100],"updated_at":"2026-11-23T09:00:00Z"}`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			f, clk := newRolloutFleet(t)
			cfg := rolloutHCL(f, "")
			clockTest(t, clk, []resource.TestStep{
				{Config: cfg, ConfigStateChecks: expectStageSaved(0, 5, "active"), Check: f.expectFlag("checkout", "active", 0, 5)},
				{
					PreConfig:         func() { publishFlagDirect(t, f, doc) },
					Config:            cfg,
					ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(0, 5, "active")},
					ConfigStateChecks: expectStageSaved(0, 5, "active"),
					Check:             f.expectFlag("checkout", "active", 0, 5),
				},
				{
					// The rollout still advances once stage_delay has passed.
					PreConfig:         func() { clk.Advance(time.Hour) },
					Config:            cfg,
					ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(1, 25, "active")},
					ConfigStateChecks: expectStageSaved(1, 25, "active"),
					Check:             f.expectFlag("checkout", "active", 1, 25),
				},
			})
		})
	}
}

// ---------------------------------------------------------------------------
// Finding 9: feature_rollout applies exactly what the plan showed, also when
// the saved plan is applied after an advance or start_at became due.
// The PreApply check moves the fake clock between plan and apply.

func TestAccPaths_rolloutSavedPlanAppliedLate(t *testing.T) {
	t.Run("drift_republished", func(t *testing.T) {
		f, clk := newRolloutFleet(t)
		cfg := rolloutHCL(f, "")
		clockTest(t, clk, []resource.TestStep{
			{Config: cfg, ConfigStateChecks: expectStageSaved(0, 5, "active")},
			{
				// At T0+59m someone set the flag to 80 %: the plan republishes stage 0.
				// The plan is applied at T0+61m, when the advance has become due.
				PreConfig: func() {
					clk.Advance(59 * time.Minute)
					publishFlagDirect(t, f, `{"flag":"checkout","state":"active","stage":0,"percentage":80,"stages":[5,25,50,100],"updated_at":"2026-11-23T09:00:00Z"}`)
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: append(expectStagePlanned(0, 5, "active"), advanceClock{clk, 2 * time.Minute}),
				},
				ConfigStateChecks: expectStageSaved(0, 5, "active"),
				Check:             f.expectFlag("checkout", "active", 0, 5),
				// The advance is due now: the next plan shows it.
				ExpectNonEmptyPlan: true,
			},
			{
				Config:            cfg,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(1, 25, "active")},
				ConfigStateChecks: expectStageSaved(1, 25, "active"),
				Check:             f.expectFlag("checkout", "active", 1, 25),
			},
		})
	})

	t.Run("start_at_passes", func(t *testing.T) {
		f := newTestFleet(t, 1, "1.0.0")
		clk := clocktest.NewFake(testEpoch.Add(59 * time.Minute))
		cfg := rolloutHCL(f, fmt.Sprintf("start_at = %q", testEpoch.Add(time.Hour).Format(time.RFC3339)))
		clockTest(t, clk, []resource.TestStep{
			{
				// Planned at T0+59m, before start_at, applied at T0+61m
				// after it. Nothing carries the plan's time to the
				// apply of a create, so a create that starts pending
				// leaves state and percentage to the apply.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(rolloutAddr, plancheck.ResourceActionCreate),
					plancheck.ExpectUnknownValue(rolloutAddr, tfjsonpath.New("state")),
					plancheck.ExpectUnknownValue(rolloutAddr, tfjsonpath.New("percentage")),
					advanceClock{clk, 2 * time.Minute},
				}},
				ConfigStateChecks: expectStageSaved(0, 5, "active"),
				Check:             f.expectFlag("checkout", "active", 0, 5),
			},
		})
	})
}
