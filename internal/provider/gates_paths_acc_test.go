package provider

// Acceptance tests of gates across applies (docs/resources/deployment.md, "Analysis, bake and gates") along the paths
// gates_acc_test.go leaves out: the CLI's exit codes while paused, saved
// plans around a time gate, drift, destroy, a blue/green revert, a failed
// resume, against the simulated fleet (SIGINT: gates_interrupt_acc_test.go).

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// ---------------------------------------------------------------------------
// 1. The CLI's exit codes while paused

// TestAccGates_cliPausedPlanIsEmpty: paused at a manual gate, `plan
// -detailed-exitcode` exits 0 again and again, also after `refresh` and
// `apply -refresh-only`; an approval makes it exit 2 with the targets up
// to the next gate named in the plan.
func TestAccGates_cliPausedPlanIsEmpty(t *testing.T) {
	t.Parallel()
	w := newCLIWorkdir(t)
	f := newTestFleet(t, 4, "1.0.0")
	canary := threeStageCanary(f, "0s", "[{ at = 25 }, { at = 50 }]")
	w.writeConfig(hcl{name: "web", provider: cliProvider, body: canaryArgs(f, "2.0.0", canary)}.String())
	out := w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if want := `Deployment "web" is paused at 25%: to continue, set approve = { version = "2.0.0", through = 25 }`; !strings.Contains(flat(out), "Warning: Rollout paused") || !strings.Contains(flat(out), want) {
		t.Errorf("the paused apply does not warn %q:\n%s", want, tail(out, 3000))
	}
	w.expectPaused(25)
	if err := f.expectVersions(map[string]string{"t1": "2.0.0", "t2": "1.0.0", "t3": "1.0.0", "t4": "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	deploys := len(f.Deploys())

	plan := func(want int, what string) string {
		t.Helper()
		out, code := w.run(nil, "plan", "-detailed-exitcode", "-input=false", "-no-color")
		if code != want {
			t.Fatalf("plan -detailed-exitcode %s exited %d, want %d:\n%s", what, code, want, tail(out, 4000))
		}
		return out
	}
	for i := 1; i <= 3; i++ {
		if out := plan(0, fmt.Sprintf("#%d while paused", i)); !strings.Contains(out, "No changes.") {
			t.Errorf("plan #%d while paused does not say No changes:\n%s", i, tail(out, 3000))
		}
	}
	w.mustRun(0, nil, "refresh", "-input=false", "-no-color")
	plan(0, "after refresh")
	w.mustRun(0, nil, "apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
	plan(0, "after apply -refresh-only")
	plan(0, "again")
	w.expectPaused(25)
	if n := len(f.Deploys()) - deploys; n != 0 {
		t.Fatalf("plans and refreshes while paused made %d deploys", n)
	}

	// The approval through 25: exactly the target of stage 50, up to the
	// next gate, named in the plan.
	w.writeConfig(hcl{name: "web", provider: cliProvider, body: canaryArgs(f, "2.0.0", canary), after: `  approve = { version = "2.0.0", through = 25 }`}.String())
	out = plan(2, "with the approval")
	if want := `Deployment "web": this apply deploys "2.0.0" to 1 of 4 targets: t2; it stops at the manual gate at 50%`; !strings.Contains(flat(out), "Warning: Rollout planned") || !strings.Contains(flat(out), want) {
		t.Errorf("the approved plan does not say %q:\n%s", want, tail(out, 3000))
	}
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	w.expectPaused(50)
	if got := deploysSince(f, deploys); !slices.Equal(got, []string{"t2=2.0.0"}) {
		t.Errorf("the approved apply deployed %v, want [t2=2.0.0]", got)
	}
	if err := weightOf(f, "2.0.0", 50); err != nil {
		t.Error(err)
	}
	plan(0, "paused at the second gate")
}

// ---------------------------------------------------------------------------
// 2. Saved plans around a time gate

// TestAccGates_cliSavedPlanTimeGate: a plan saved before a time gate opens
// is empty, and applying it after the gate opened still does nothing; a
// plan saved after it shows the rest of the rollout, and applying it a
// little later does exactly what it showed.
func TestAccGates_cliSavedPlanTimeGate(t *testing.T) {
	t.Parallel()
	w := newCLIWorkdir(t)
	f := newTestFleet(t, 4, "1.0.0")
	w.writeConfig(hcl{name: "web", provider: cliProvider, body: canaryArgs(f, "2.0.0", threeStageCanary(f, "0s", `[{ at = 25, wait = "4s" }]`))}.String())
	out := w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	s := w.expectPaused(25)
	if s.ResumeAt == nil {
		t.Fatalf("paused at a time gate with no resume_at: %s", s)
	}
	if want := "until the time gate opens at " + *s.ResumeAt; !strings.Contains(flat(out), want) {
		t.Errorf("the paused apply does not say %q:\n%s", want, tail(out, 3000))
	}
	resume, err := time.Parse(time.RFC3339, *s.ResumeAt)
	if err != nil {
		t.Fatal(err)
	}

	w.mustRun(0, nil, "plan", "-detailed-exitcode", "-out=early.tfplan", "-input=false", "-no-color")
	if !time.Now().Before(resume) {
		t.Fatalf("the early plan ended after resume_at %s: the test needs it before", resume)
	}
	time.Sleep(time.Until(resume) + 500*time.Millisecond)
	deploys := len(f.Deploys())
	w.mustRun(0, nil, "apply", "-input=false", "-no-color", "early.tfplan")
	if n := len(f.Deploys()) - deploys; n != 0 {
		t.Fatalf("applying the plan saved before the gate opened made %d deploys", n)
	}
	w.expectPaused(25)

	w.mustRun(2, nil, "plan", "-detailed-exitcode", "-out=late.tfplan", "-input=false", "-no-color")
	changed := plannedDeployment(t, w, "late.tfplan").ChangedTargets
	if !slices.Equal(changed, []string{"t2", "t3", "t4"}) {
		t.Errorf("the late plan's changed_targets = %v, want [t2 t3 t4]", changed)
	}

	time.Sleep(time.Second)
	w.mustRun(0, nil, "apply", "-input=false", "-no-color", "late.tfplan")
	var want []string
	for _, id := range changed {
		want = append(want, id+"=2.0.0")
	}
	// One stage deploys its targets concurrently.
	if got := slices.Sorted(slices.Values(deploysSince(f, deploys))); !slices.Equal(got, want) {
		t.Errorf("applying the late plan deployed %v; it showed %v", got, want)
	}
	if s := w.gateState(); s.Status != "completed" || s.PausedAt != nil || s.ResumeAt != nil || s.TrafficPercentage != 100 {
		t.Errorf("after the late plan: %s, want completed at 100 with paused_at and resume_at null", s)
	}
	if err := f.expectAll(4, "2.0.0"); err != nil {
		t.Error(err)
	}
	w.mustRun(0, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color")
}

// ---------------------------------------------------------------------------
// 3. Drift at the gate

// TestAccGates_driftAtGate: a target of the paused stage put back by hand
// is repaired, and the rollout stays at its gate: no weight above it, no
// target of a later stage.
func TestAccGates_driftAtGate(t *testing.T) {
	f, events := newEventFleet(t, 20)
	mark := 0
	deploys := 0
	accTest(t, []resource.TestStep{
		{
			Config:            hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0")}.String(),
			ConfigStateChecks: []statecheck.StateCheck{stateIs("paused_at", knownvalue.Float64Exact(25))},
			Check:             fleetCheck(func() error { return weightOf(f, "2.0.0", 25) }),
		},
		{
			PreConfig: func() {
				f.SetVersion("t2", "1.0.0")
				mark, deploys = events.mark(), len(f.Deploys())
			},
			Config: hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0")}.String(),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
				plannedIs("changed_targets", idList("t2")),
			}},
			ConfigStateChecks: append(pausedAtManualGate("2.0.0", 25),
				stateIs("target_versions", knownvalue.MapExact(func() map[string]knownvalue.Check {
					m := map[string]knownvalue.Check{}
					for i, id := range ids(20) {
						v := "1.0.0"
						if i < 5 {
							v = "2.0.0"
						}
						m[id] = knownvalue.StringExact(v)
					}
					return m
				}())),
			),
			Check: fleetCheck(func() error {
				if got := deploysSince(f, deploys); !slices.Equal(got, []string{"t2=2.0.0"}) {
					return fmt.Errorf("the repair deployed %v, want [t2=2.0.0] only", got)
				}
				if above := weightsAbove(events.since(mark), "2.0.0", 25); len(above) > 0 {
					return fmt.Errorf("the repair moved weights past the gate: %v", above)
				}
				if err := weightOf(f, "2.0.0", 25); err != nil {
					return err
				}
				return f.expectVersions(versionsMap("2.0.0", ids(5)...))
			}),
		},
		{
			// Still at the gate: nothing to do.
			Config:   hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0")}.String(),
			PlanOnly: true,
		},
	})
}

// ---------------------------------------------------------------------------
// 4. Destroy while paused

// TestAccGates_destroyWhilePausedRollsBack: on_destroy = "rollback" takes
// the version's weight to 0 first, then puts the previous version back on
// exactly the targets that run the paused one.
func TestAccGates_destroyWhilePausedRollsBack(t *testing.T) {
	f, events := newEventFleet(t, 20)
	mark := 0
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy: fleetCheck(func() error {
			if err := expectRollbackOrder(events.since(mark), "2.0.0", "1.0.0", ids(5)); err != nil {
				return fmt.Errorf("destroy while paused: %w", err)
			}
			if err := weightOf(f, "2.0.0", 0); err != nil {
				return err
			}
			return f.expectAll(20, "1.0.0")
		}),
		Steps: []resource.TestStep{
			{
				Config: hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0") + "\n" + `  on_destroy = "rollback"`}.String(),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("status", knownvalue.StringExact("paused")),
					stateIs("previous_version", knownvalue.StringExact("1.0.0")),
				},
				Check: fleetCheck(func() error {
					mark = events.mark()
					return weightOf(f, "2.0.0", 25)
				}),
			},
		},
	})
}

// TestAccGates_destroyWhilePausedNone: on_destroy = "none" forgets the
// paused deployment with a warning and calls nothing.
func TestAccGates_destroyWhilePausedNone(t *testing.T) {
	f, events := newEventFleet(t, 20)
	diags := &diagLog{}
	mark, diagMark := 0, 0
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: diags.providers(),
		CheckDestroy: fleetCheck(func() error {
			if ev := events.since(mark); len(ev) > 0 {
				return fmt.Errorf("destroy with on_destroy = \"none\" called the fleet: %v", ev)
			}
			if want := `Destroy did not roll back: Deployment "web" has on_destroy = "none"`; !strings.Contains(diags.since(diagMark), want) {
				return fmt.Errorf("destroy did not warn %q; it said:\n%s", want, diags.since(diagMark))
			}
			if err := weightOf(f, "2.0.0", 25); err != nil {
				return err
			}
			return f.expectVersions(versionsMap("2.0.0", ids(5)...))
		}),
		Steps: []resource.TestStep{
			{
				Config:            hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0") + "\n" + `  on_destroy = "none"`}.String(),
				ConfigStateChecks: []statecheck.StateCheck{stateIs("status", knownvalue.StringExact("paused"))},
				Check: fleetCheck(func() error {
					mark, diagMark = events.mark(), diags.mark()
					return nil
				}),
			},
		},
	})
}

// ---------------------------------------------------------------------------
// 5. Blue/green: back to previous_version while paused before the switch

// TestAccGates_blueGreenPausedRevert: paused before its switch, version set
// back to previous_version restores the idle slot and switches nothing.
func TestAccGates_blueGreenPausedRevert(t *testing.T) {
	f, events := newEventFleet(t, 4)
	config := func(version string) string {
		return hcl{fleet: f, version: version, targets: f.targets(4, `i <= 2 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router", pause_before_switch = true }
  approve    = { version = "2.0.0" }
`, f.URL)}.String()
	}
	mark := 0
	accTest(t, []resource.TestStep{
		{
			Config:            config("2.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{stateIs("active_slot", knownvalue.StringExact("green"))},
		},
		{
			Config: config("2.1.0"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("paused")),
				stateIs("previous_version", knownvalue.StringExact("2.0.0")),
			},
			Check: fleetCheck(func() error {
				mark = events.mark()
				return f.expectVersions(map[string]string{"t1": "2.1.0", "t2": "2.1.0", "t3": "2.0.0", "t4": "2.0.0"})
			}),
		},
		{
			Config:           config("2.0.0"),
			ConfigPlanChecks: changesPlanned(idList("t1", "t2")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("version", knownvalue.StringExact("2.0.0")),
				stateIs("active_slot", knownvalue.StringExact("green")),
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
				stateIs("paused_at", knownvalue.Null()),
				stateIs("target_versions", allAt(4, "2.0.0")),
			},
			Check: fleetCheck(func() error {
				// The revert must not switch.
				if err := routerAtAfter(f, "green", "2.0.0", 1); err != nil {
					return err
				}
				got := slices.Sorted(slices.Values(events.since(mark)))
				if want := []string{"deploy t1=2.0.0", "deploy t2=2.0.0"}; !slices.Equal(got, want) {
					return fmt.Errorf("the revert called the fleet %v, want exactly %v", got, want)
				}
				return f.expectAll(4, "2.0.0")
			}),
		},
		{
			Config:   config("2.0.0"),
			PlanOnly: true,
		},
	})
}

// ---------------------------------------------------------------------------
// 6. A failed measurement on resume

// TestAccGates_resumeAnalysisFails: the paused stage is measured again on
// resume; a failure abandons the version: its weight goes to 0 first, then
// every target that ran it, deployed by the earlier apply, gets the
// previous version back, and no target of the next stage is started.
func TestAccGates_resumeAnalysisFails(t *testing.T) {
	f, events := newEventFleet(t, 20)
	wc := newWebCheck(t, always(true))
	analysis := analysisBlock("1s", "0s", wc.metric(0))
	approved := analysis + "\n" + `  approve = { version = "2.0.0", through = 25 }`
	mark := 0
	accTest(t, []resource.TestStep{
		{
			Config: hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0") + "\n" + analysis}.String(),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("paused")),
				stateIs("paused_at", knownvalue.Float64Exact(25)),
			},
			Check: fleetCheck(func() error {
				// One measurement in each stage's window: 5 and 25.
				if err := wc.expectRequests(2, "2.0.0"); err != nil {
					return err
				}
				return f.expectVersions(versionsMap("2.0.0", ids(5)...))
			}),
		},
		{
			PreConfig: func() {
				wc.reset(always(false))
				mark = events.mark()
			},
			Config:           hcl{fleet: f, body: gatedCanaryArgs(f, "2.0.0") + "\n" + approved}.String(),
			ConfigPlanChecks: changesPlanned(idList("t6", "t7", "t8", "t9", "t10")),
			ExpectError:      errorPattern(`stage 2 \(25%\): analysis failed: metric "smoke"`),
		},
		{
			Config:   hcl{fleet: f, body: gatedCanaryArgs(f, "1.0.0") + "\n" + approved}.String(),
			PlanOnly: true,
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
				savedState{f: f, version: "1.0.0", targets: ids(20)},
				priorValues{deploymentAddr, map[string]any{"status": "rolled_back"}},
				fleetPlanCheck(func() error {
					if err := wc.expectRequests(1, "2.0.0"); err != nil {
						return fmt.Errorf("on resume: %w", err)
					}
					if err := expectRollbackOrder(events.since(mark), "2.0.0", "1.0.0", ids(5)); err != nil {
						return fmt.Errorf("the failed resume: %w", err)
					}
					if err := weightOf(f, "2.0.0", 0); err != nil {
						return err
					}
					return f.expectAll(20, "1.0.0")
				}),
			}},
		},
	})
}

// ---------------------------------------------------------------------------
// 7. A failed switch once approved (SIGINT at a gate: gates_interrupt_acc_test.go)

// TestAccGates_blueGreenFailedSwitchStaysPaused: approved, the switch
// fails and traffic stays on the active slot: the rollout is paused before
// its switch again. Planned without refresh it deploys nothing (the active
// slot, which serves traffic, is not "topped up" with the version), and the
// next approved apply only switches.
func TestAccGates_blueGreenFailedSwitchStaysPaused(t *testing.T) {
	f, events := newEventFleet(t, 4)
	config := func(version, approve string) string {
		return hcl{fleet: f, version: version, targets: f.targets(4, `i <= 2 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router", pause_before_switch = true }
  approve    = { version = %q }
`, f.URL, approve)}.String()
	}
	mark := 0
	pausedAgain := []plancheck.PlanCheck{
		priorValues{deploymentAddr, map[string]any{"status": "paused", "paused_at": 0, "active_slot": "green", "version": "2.1.0"}},
		plannedIs("changed_targets", knownvalue.ListSizeExact(0)),
	}
	accTest(t, []resource.TestStep{
		{Config: config("2.0.0", "2.0.0")},
		{
			Config:            config("2.1.0", "2.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{stateIs("status", knownvalue.StringExact("paused"))},
		},
		{
			PreConfig: func() {
				mark = events.mark()
				events.rejectWith(func(e string) bool { return e == "switch blue=2.1.0" })
			},
			Config:      config("2.1.0", "2.1.0"),
			ExpectError: errorPattern(`switch`),
		},
		{
			// Without refresh and with it: the pause, nothing to deploy.
			PreConfig:          func() { events.rejectWith(nil) },
			Config:             config("2.1.0", "2.1.0"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPreRefresh: append(pausedAgain, fleetPlanCheck(func() error {
					return f.expectVersions(map[string]string{"t1": "2.1.0", "t2": "2.1.0", "t3": "2.0.0", "t4": "2.0.0"})
				})),
				PostApplyPostRefresh: pausedAgain,
			},
		},
		{
			// The approval withdrawn: the pause holds.
			Config:           config("2.1.0", "2.0.0"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: pausedAgain},
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("paused")),
				stateIs("active_slot", knownvalue.StringExact("green")),
			},
		},
		{
			Config:           config("2.1.0", "2.1.0"),
			ConfigPlanChecks: changesPlanned(knownvalue.ListSizeExact(0)),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("active_slot", knownvalue.StringExact("blue")),
			},
			Check: fleetCheck(func() error {
				// The failed switch (retried, then back to green), then
				// the one that worked: no deploy.
				got := events.since(mark)
				for _, e := range got {
					if strings.HasPrefix(e, "deploy ") {
						return fmt.Errorf("fleet calls since the pause %v: a deploy", got)
					}
				}
				if len(got) < 2 || got[0] != "switch blue=2.1.0" || got[len(got)-1] != "switch blue=2.1.0" {
					return fmt.Errorf("fleet calls since the pause %v, want the failed switch to blue first and the last", got)
				}
				return f.expectVersions(map[string]string{"t1": "2.1.0", "t2": "2.1.0", "t3": "2.0.0", "t4": "2.0.0"})
			}),
		},
	})
}

// ---------------------------------------------------------------------------
// Values unknown at plan

// laterGateConfig is a gated canary of 2.0.0 over f's four targets with
// gates and extra arguments, next to a terraform_data "later" of input,
// replaced when key changes: its output is known only in the apply.
func laterGateConfig(f *testFleet, gates, extra, input, key string) string {
	return hcl{fleet: f, version: "2.0.0", targets: f.targets(4, ""), body: fmt.Sprintf(`
  canary  = %s
  health_check = { interval = "10ms", timeout = "2s" }
%s
}

resource "terraform_data" "later" {
  input            = %s
  triggers_replace = [%q]
`, threeStageCanary(f, "0s", gates), extra, input, key)}.String()
}

// TestAccGates_unknownAtPlan: a gate, an approval or a wait that another
// resource computes in the same apply leaves changed_targets, status and
// traffic_percentage unknown at plan, and the apply decides them, on
// create and while paused, with no inconsistent plan.
func TestAccGates_unknownAtPlan(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	// value is an HCL expression; with unknown set it goes through a
	// terraform_data created in the same apply (replaced when key moves).
	config := func(key, gates, approve string) string {
		return laterGateConfig(f, gates, approve, `{ at = 25, version = "2.0.0", wait = "2s" }`, key)
	}
	unknown := []plancheck.PlanCheck{
		changedTargetsUnknown{},
		plancheck.ExpectUnknownValue(deploymentAddr, tfjsonpath.New("status")),
		plancheck.ExpectUnknownValue(deploymentAddr, tfjsonpath.New("traffic_percentage")),
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				// A gate at a stage computed in the same apply, on create.
				Config:           config("a", `[{ at = terraform_data.later.output.at }]`, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: unknown},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("status", knownvalue.StringExact("paused")),
					stateIs("paused_at", knownvalue.Float64Exact(25)),
					stateIs("changed_targets", idList("t1")),
				},
				Check: fleetCheck(func() error { return f.expectVersions(map[string]string{"t1": "2.0.0", "t2": "1.0.0"}) }),
			},
			{
				// An approval of a version computed in the same apply,
				// while paused.
				Config:           config("b", `[{ at = terraform_data.later.output.at }]`, `  approve = { version = terraform_data.later.output.version }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: unknown},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("status", knownvalue.StringExact("completed")),
				},
				Check: fleetCheck(func() error { return f.expectAll(4, "2.0.0") }),
			},
		},
	})
}

// TestAccGates_unknownWaitWhilePaused: paused at a manual gate, the gate
// becomes a time gate whose wait another resource computes in the same
// apply: the plan leaves what the apply does unknown, and the apply saves
// resume_at from the gate's wait.
func TestAccGates_unknownWaitWhilePaused(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	config := func(key, gate string) string {
		return laterGateConfig(f, "["+gate+"]", "", `"1h"`, key)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:            config("a", `{ at = 25 }`),
				ConfigStateChecks: []statecheck.StateCheck{stateIs("resume_at", knownvalue.Null())},
			},
			{
				Config: config("b", `{ at = 25, wait = terraform_data.later.output }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(deploymentAddr, tfjsonpath.New("status")),
					plancheck.ExpectUnknownValue(deploymentAddr, tfjsonpath.New("resume_at")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("status", knownvalue.StringExact("paused")),
					stateIs("resume_at", knownvalue.NotNull()),
				},
				Check: fleetCheck(func() error { return f.expectVersions(map[string]string{"t1": "2.0.0", "t2": "1.0.0"}) }),
			},
		},
	})
}

// TestAccGates_cliPlanDecidesTheTimeGate: the plan decides a time gate,
// never the apply's clock. Paused at a time gate, a plan saved before
// resume_at with another change (on_destroy) applied after resume_at, and
// an interactive apply answered "yes" after resume_at, both apply as
// paused, with no inconsistent plan; the next plan opens the gate. The
// wait edited in between moves resume_at.
func TestAccGates_cliPlanDecidesTheTimeGate(t *testing.T) {
	t.Parallel()
	w := newCLIWorkdir(t)
	f := newTestFleet(t, 4, "1.0.0")
	config := func(wait, onDestroy string) {
		w.writeConfig(hcl{name: "web", provider: cliProvider, body: canaryArgs(f, "2.0.0", threeStageCanary(f, "0s", fmt.Sprintf("[{ at = 25, wait = %q }]", wait))), after: fmt.Sprintf("  on_destroy = %q", onDestroy)}.String())
	}
	config("5s", "rollback")
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	s := w.expectPaused(25)
	resume := parseResumeAt(t, s)
	deploys := len(f.Deploys())

	// A saved plan with another change, applied after resume_at.
	config("5s", "none")
	w.mustRun(2, nil, "plan", "-detailed-exitcode", "-out=early.tfplan", "-input=false", "-no-color")
	if !time.Now().Before(resume) {
		t.Fatalf("the early plan ended after resume_at %s: the test needs it before", resume)
	}
	if after := plannedDeployment(t, w, "early.tfplan"); after.Status != "paused" || len(after.ChangedTargets) != 0 {
		t.Errorf("the early plan: status %q, changed_targets %v; want paused, none", after.Status, after.ChangedTargets)
	}
	time.Sleep(time.Until(resume) + 500*time.Millisecond)
	out := w.mustRun(0, nil, "apply", "-input=false", "-no-color", "early.tfplan")
	if n := len(f.Deploys()) - deploys; n != 0 {
		t.Errorf("applying the plan saved before resume_at made %d deploys:\n%s", n, tail(out, 3000))
	}
	if s := w.expectPaused(25); strp(s.ResumeAt) != strconv.Quote(resume.UTC().Format(time.RFC3339)) {
		t.Errorf("resume_at moved: %s", s)
	}

	// The wait lengthened from 5 s to 16 s: resume_at moves by 11 s, and an
	// interactive apply (another change) answered after it stays paused.
	config("16s", "rollback")
	longer := resume.Add(11 * time.Second)
	out = w.mustRun(2, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	if !strings.Contains(flat(out), longer.UTC().Format(time.RFC3339)) {
		t.Errorf("the plan does not move resume_at to %s:\n%s", longer.UTC().Format(time.RFC3339), tail(out, 3000))
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	buf := &syncBuffer{}
	cmd := w.command(ctx, nil, "apply", "-no-color")
	cmd.Stdout, cmd.Stderr = buf, buf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for !strings.Contains(buf.String(), "Enter a value:") {
		select {
		case err := <-done:
			t.Fatalf("apply ended (%v) before asking:\n%s", err, tail(buf.String(), 3000))
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !time.Now().Before(longer) {
		t.Fatalf("the interactive apply asked after resume_at %s: the test needs it before", longer)
	}
	time.Sleep(time.Until(longer) + 500*time.Millisecond)
	if _, err := io.WriteString(stdin, "yes\n"); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, done, "the interactive apply"); err != nil {
		t.Fatalf("the interactive apply answered late: %v\n%s", err, tail(buf.String(), 3000))
	}
	if n := len(f.Deploys()) - deploys; n != 0 {
		t.Errorf("the apply answered after resume_at made %d deploys", n)
	}
	if s := w.expectPaused(25); strp(s.ResumeAt) != strconv.Quote(longer.UTC().Format(time.RFC3339)) {
		t.Errorf("saved %s, want resume_at %s", s, longer.UTC().Format(time.RFC3339))
	}

	// The next plan, with nothing new, opens the gate.
	w.mustRun(2, nil, "plan", "-detailed-exitcode", "-out=late.tfplan", "-input=false", "-no-color")
	if changed := plannedDeployment(t, w, "late.tfplan").ChangedTargets; !slices.Equal(changed, []string{"t2", "t3", "t4"}) {
		t.Errorf("the plan after resume_at: changed_targets %v, want [t2 t3 t4]", changed)
	}
	w.mustRun(0, nil, "apply", "-input=false", "-no-color", "late.tfplan")
	if err := f.expectAll(4, "2.0.0"); err != nil {
		t.Error(err)
	}
}

func parseResumeAt(t *testing.T, s cliGateState) time.Time {
	t.Helper()
	if s.ResumeAt == nil {
		t.Fatalf("paused at a time gate with no resume_at: %s", s)
	}
	at, err := time.Parse(time.RFC3339, *s.ResumeAt)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestAccGates_revertToAPausedRelease: 2.0.0 paused at its manual gate at
// 25 % (never approved), 3.0.0 rolled out on top (paused at 50 % with an
// approval through 25), then version set back to 2.0.0: 2.0.0 comes back as
// it was, on t1 alone with its 25 % and paused at 25 with previous_version
// 1.0.0; t2, which only 3.0.0 had reached, gets 1.0.0 back. The next plan
// is empty: no release passes a gate not approved for it. Approved, 2.0.0
// goes on.
func TestAccGates_revertToAPausedRelease(t *testing.T) {
	f, events := newEventFleet(t, 4)
	config := func(version, approve string) string {
		return hcl{fleet: f, version: version, targets: f.targets(4, ""), body: fmt.Sprintf(`
  canary  = %s
%s
`, threeStageCanary(f, "0s", "[{ at = 25 }, { at = 50 }]"), approve)}.String()
	}
	mark := 0
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config:            config("2.0.0", ""),
				ConfigStateChecks: []statecheck.StateCheck{stateIs("paused_at", knownvalue.Float64Exact(25))},
			},
			{
				Config: config("3.0.0", `  approve = { version = "3.0.0", through = 25 }`),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("paused_at", knownvalue.Float64Exact(50)),
					stateIs("previous_version", knownvalue.StringExact("2.0.0")),
				},
				Check: fleetCheck(func() error {
					mark = events.mark()
					return f.expectVersions(map[string]string{"t1": "3.0.0", "t2": "3.0.0", "t3": "1.0.0", "t4": "1.0.0"})
				}),
			},
			{
				Config: config("2.0.0", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plannedIs("changed_targets", idList("t1")),
					plannedIs("previous_version", knownvalue.StringExact("1.0.0")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("status", knownvalue.StringExact("paused")),
					stateIs("paused_at", knownvalue.Float64Exact(25)),
					stateIs("traffic_percentage", knownvalue.Float64Exact(25)),
					stateIs("version", knownvalue.StringExact("2.0.0")),
					stateIs("previous_version", knownvalue.StringExact("1.0.0")),
				},
				Check: fleetCheck(func() error {
					got := events.since(mark)
					if len(got) < 4 || got[0] != "weights 3.0.0=0" || got[len(got)-1] != "weights 2.0.0=25" {
						return fmt.Errorf("revert called %v: want 3.0.0's weight to 0 first, 2.0.0's back to 25 last", got)
					}
					if deploys := slices.Sorted(slices.Values(got[1 : len(got)-1])); !slices.Equal(deploys, []string{"deploy t1=2.0.0", "deploy t2=1.0.0"}) {
						return fmt.Errorf("revert deployed %v, want t1=2.0.0 and t2=1.0.0", deploys)
					}
					return f.expectVersions(map[string]string{"t1": "2.0.0", "t2": "1.0.0", "t3": "1.0.0", "t4": "1.0.0"})
				}),
			},
			{
				// Paused at its gate, not approved: nothing to do.
				Config:   config("2.0.0", ""),
				PlanOnly: true,
			},
			{
				Config:            config("2.0.0", `  approve = { version = "2.0.0" }`),
				ConfigStateChecks: []statecheck.StateCheck{stateIs("status", knownvalue.StringExact("completed"))},
				Check:             fleetCheck(func() error { return f.expectAll(4, "2.0.0") }),
			},
		},
	})
}
