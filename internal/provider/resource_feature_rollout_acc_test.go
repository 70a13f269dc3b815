package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

func TestAccFeatureRollout_advancesOneStagePerApply(t *testing.T) {
	f, clk := newRolloutFleet(t)
	cfg := rolloutHCL(f, "")
	advance := func(d time.Duration) func() { return func() { clk.Advance(d) } }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: providersWithClock(clk),
		CheckDestroy: fleetCheck(func() error {
			if _, ok := f.Flag("checkout"); ok {
				return fmt.Errorf("on_destroy = disable should delete the flag")
			}
			return nil
		}),
		Steps: []resource.TestStep{
			{
				Config:            cfg,
				ConfigStateChecks: append(expectStageSaved(0, 5, "active"), rolloutStateIs("next_advance_at", knownvalue.StringExact(testEpoch.Add(time.Hour).Format(time.RFC3339)))),
				Check:             f.expectFlag("checkout", "active", 0, 5),
			},
			// Before the delay: an empty plan.
			{PreConfig: advance(59 * time.Minute), Config: cfg, PlanOnly: true},
			// Once due, the plan itself shows the advance, and apply publishes it.
			{
				PreConfig:         advance(time.Minute),
				Config:            cfg,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(1, 25, "active")},
				ConfigStateChecks: expectStageSaved(1, 25, "active"),
				Check:             f.expectFlag("checkout", "active", 1, 25),
			},
			// Several delays passed: still one stage per apply.
			{
				PreConfig:         advance(5 * time.Hour),
				Config:            cfg,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(2, 50, "active")},
				ConfigStateChecks: expectStageSaved(2, 50, "active"),
			},
			{
				PreConfig:         advance(time.Hour),
				Config:            cfg,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(3, 100, "active")},
				ConfigStateChecks: expectStageSaved(3, 100, "active"),
			},
			// Advancing past the last stage completes the rollout at 100 %.
			{
				PreConfig:         advance(time.Hour),
				Config:            cfg,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(3, 100, "completed")},
				ConfigStateChecks: append(expectStageSaved(3, 100, "completed"), rolloutStateIs("next_advance_at", knownvalue.Null())),
				Check:             f.expectFlag("checkout", "completed", 3, 100),
			},
			{PreConfig: advance(10 * time.Hour), Config: cfg, PlanOnly: true},
		},
	})
}

func TestAccFeatureRollout_pauseAbortReplace(t *testing.T) {
	f, clk := newRolloutFleet(t)
	clockTest(t, clk, []resource.TestStep{
		{Config: rolloutHCL(f, ""), ConfigStateChecks: expectStageSaved(0, 5, "active")},
		{
			Config:            rolloutHCL(f, "paused = true"),
			ConfigStateChecks: expectStageSaved(0, 5, "paused"),
			Check:             f.expectFlag("checkout", "paused", 0, 5),
		},
		// Paused: no advance however long we wait.
		{PreConfig: func() { clk.Advance(3 * time.Hour) }, Config: rolloutHCL(f, "paused = true"), PlanOnly: true},
		{
			Config:            rolloutHCL(f, "paused = false"),
			ConfigStateChecks: expectStageSaved(0, 5, "active"),
			Check:             f.expectFlag("checkout", "active", 0, 5),
		},
		{
			PreConfig:         func() { clk.Advance(time.Hour) },
			Config:            rolloutHCL(f, ""),
			ConfigStateChecks: expectStageSaved(1, 25, "active"),
		},
		{
			Config:            rolloutHCL(f, "aborted = true"),
			ConfigStateChecks: expectStageSaved(1, 0, "aborted"),
			Check:             f.expectFlag("checkout", "aborted", 1, 0),
		},
		// Aborted is final: nothing advances.
		{PreConfig: func() { clk.Advance(3 * time.Hour) }, Config: rolloutHCL(f, "aborted = true"), PlanOnly: true},
		// Turning it off replaces the rollout, which starts again at stage 0.
		{
			Config: rolloutHCL(f, "aborted = false"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(rolloutAddr, plancheck.ResourceActionDestroyBeforeCreate),
			}},
			ConfigStateChecks: expectStageSaved(0, 5, "active"),
			Check:             f.expectFlag("checkout", "active", 0, 5),
		},
	})
}

func TestAccFeatureRollout_maxStageAndStartAt(t *testing.T) {
	f, clk := newRolloutFleet(t)
	start := testEpoch.Add(2 * time.Hour).Format(time.RFC3339)
	cfg := rolloutHCL(f, fmt.Sprintf("start_at = %q\n  max_stage = 1", start))
	clockTest(t, clk, []resource.TestStep{
		{
			Config: cfg,
			ConfigStateChecks: append(expectStageSaved(0, 0, "pending"),
				rolloutStateIs("next_advance_at", knownvalue.StringExact(start)),
				rolloutStateIs("started_at", knownvalue.Null())),
			Check: f.expectFlag("checkout", "pending", 0, 0),
		},
		{PreConfig: func() { clk.Advance(time.Hour) }, Config: cfg, PlanOnly: true},
		{
			PreConfig:         func() { clk.Advance(time.Hour) },
			Config:            cfg,
			ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(0, 5, "active")},
			ConfigStateChecks: expectStageSaved(0, 5, "active"),
		},
		{
			PreConfig:         func() { clk.Advance(time.Hour) },
			Config:            cfg,
			ConfigStateChecks: append(expectStageSaved(1, 25, "active"), rolloutStateIs("next_advance_at", knownvalue.Null())),
		},
		// Held at max_stage = 1.
		{PreConfig: func() { clk.Advance(5 * time.Hour) }, Config: cfg, PlanOnly: true},
		// Raising it is a change of settings, applied without an advance; the
		// next scheduled apply goes on (it is already due: the plan right after
		// this apply shows the advance).
		{
			Config:             rolloutHCL(f, fmt.Sprintf("start_at = %q\n  max_stage = 2", start)),
			ConfigStateChecks:  expectStageSaved(1, 25, "active"),
			ExpectNonEmptyPlan: true,
		},
		{
			Config:            rolloutHCL(f, fmt.Sprintf("start_at = %q\n  max_stage = 2", start)),
			ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(2, 50, "active")},
			ConfigStateChecks: expectStageSaved(2, 50, "active"),
		},
	})
}

func TestAccFeatureRollout_stagesChangeNeverRaisesExposure(t *testing.T) {
	f, clk := newRolloutFleet(t)
	clockTest(t, clk, []resource.TestStep{
		{Config: rolloutHCL(f, "")},
		{PreConfig: func() { clk.Advance(time.Hour) }, Config: rolloutHCL(f, ""), ConfigStateChecks: expectStageSaved(1, 25, "active")},
		{
			Config:            rolloutHCL(f, "stages = [10, 20, 60, 100]"),
			ConfigStateChecks: expectStageSaved(1, 20, "active"),
			Check:             f.expectFlag("checkout", "active", 1, 20),
		},
	})
}

func TestAccFeatureRollout_endpointDownKeepsState(t *testing.T) {
	f, clk := newRolloutFleet(t)
	cfg := rolloutHCL(f, "")
	clockTest(t, clk, []resource.TestStep{
		{Config: cfg},
		{
			PreConfig:   func() { clk.Advance(time.Hour); f.SetFlagsDown(true) },
			Config:      cfg,
			ExpectError: errorPattern(`Publishing the flag failed.*stage 1`),
		},
		{
			// State kept the last published value (stage 0), so once the service is
			// back the plan shows the same advance again.
			PreConfig:         func() { f.SetFlagsDown(false) },
			Config:            cfg,
			ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: expectStagePlanned(1, 25, "active")},
			ConfigStateChecks: expectStageSaved(1, 25, "active"),
			Check:             f.expectFlag("checkout", "active", 1, 25),
		},
	})
}

func TestAccFeatureRollout_refreshAndImport(t *testing.T) {
	f, clk := newRolloutFleet(t)
	cfg := rolloutHCL(f, "")
	clockTest(t, clk, []resource.TestStep{
		{Config: cfg},
		{
			ResourceName:            rolloutAddr,
			ImportState:             true,
			ImportStateId:           "checkout",
			ImportStateVerify:       true,
			ImportStateVerifyIgnore: []string{"started_at"},
		},
		{
			// Someone changed the flag behind Terraform's back: publish again.
			PreConfig: func() {
				publishFlagDirect(t, f, `{"flag":"checkout","state":"active","stage":0,"percentage":80,"stages":[5,25,50,100],"updated_at":"2026-11-23T09:00:00Z"}`)
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(rolloutAddr, plancheck.ResourceActionUpdate),
				rolloutPlannedIs("percentage", knownvalue.Float64Exact(5)),
			}},
			Check: f.expectFlag("checkout", "active", 0, 5),
		},
		{
			// The flag was deleted out of band: refresh drops it, plan creates it.
			PreConfig:          func() { deleteFlagDirect(t, f, "checkout") },
			Config:             cfg,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		},
	})
}
