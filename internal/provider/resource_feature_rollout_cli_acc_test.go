package provider

// codomyrmex_feature_rollout through the real CLI with the provider served
// from the test (reattach) and a fake clock: saved plans applied late,
// -refresh=false, create_before_destroy, and the endpoint kept in state
// (docs/resources/feature_rollout.md).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// tf runs the CLI with -input=false -no-color after the subcommand and
// fails the test unless it exits with want.
func (w *reattachWorkdir) tf(want int, args ...string) string {
	w.t.Helper()
	args = append([]string{args[0], "-input=false", "-no-color"}, args[1:]...)
	out := w.mustRun(want, args...)
	if bad := badOutput(out); bad != "" {
		w.t.Fatalf("%s says %q:\n%s", strings.Join(args, " "), bad, tail(out, 6000))
	}
	return out
}

// rolloutAttrs is codomyrmex_feature_rollout.name (the current object, not
// a deposed one) as saved in the local state file; nil when absent.
func (w *reattachWorkdir) rolloutAttrs(name string) map[string]any {
	w.t.Helper()
	raw, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return rolloutAttributes(w.t, raw, name)
}

func rolloutAttributes(t *testing.T, raw []byte, name string) map[string]any {
	t.Helper()
	for _, in := range stateInstances(t, raw, "codomyrmex_feature_rollout", name) {
		if in.Deposed == "" {
			var attrs map[string]any
			if err := json.Unmarshal(in.Attributes, &attrs); err != nil {
				t.Fatalf("reading the rollout's attributes: %v", err)
			}
			return attrs
		}
	}
	return nil
}

// expectSaved checks attributes of the saved rollout "r"; values compare
// by their fmt.Sprint form (JSON numbers are float64).
func (w *reattachWorkdir) expectSaved(want map[string]any) {
	w.t.Helper()
	got := w.rolloutAttrs("r")
	if got == nil {
		w.t.Fatal("state holds no codomyrmex_feature_rollout.r")
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			w.t.Errorf("saved %s = %v, want %v", k, got[k], v)
		}
	}
}

// expectFlagDoc checks what the fleet's flag service holds for the flag
// "checkout".
func expectFlagDoc(t *testing.T, f *testFleet, state string, stage int, pct float64) {
	t.Helper()
	const name = "checkout"
	fl, ok := f.Flag(name)
	if !ok {
		t.Fatalf("flag %q is not published", name)
	}
	if fl.State != state || fl.Stage != stage || fl.Percentage != pct {
		t.Fatalf("flag %q = %s stage %d %g%%, want %s stage %d %g%%", name, fl.State, fl.Stage, fl.Percentage, state, stage, pct)
	}
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// A plan made with -refresh=false and saved, for a change that is not an
// advance, applied after stage_delay has passed: apply does what the plan
// showed (no advance), and the next plan shows the advance.
func TestAccRolloutCLI_savedRefreshFalsePlanAppliedLate(t *testing.T) {
	t.Parallel()
	f, clk, w := newRolloutCLI(t)
	ep := f.URL + "/flags"

	w.writeConfig(hcl{name: "r", provider: endpointProvider(ep), rollout: true}.String())
	w.tf(0, "apply", "-auto-approve")
	w.writeConfig(hcl{name: "r", provider: endpointProvider(ep), rollout: true, body: `  on_destroy = "retain"`}.String())
	w.tf(0, "plan", "-refresh=false", "-out=late.tfplan")
	clk.Advance(2 * time.Hour)
	w.tf(0, "apply", "late.tfplan")
	w.expectSaved(map[string]any{"current_stage": 0, "percentage": 5, "state": "active", "on_destroy": "retain",
		"updated_at": rfc(testEpoch), "next_advance_at": rfc(testEpoch.Add(time.Hour))})
	expectFlagDoc(t, f, "active", 0, 5)

	// The advance that became due waits for the next plan, which shows it.
	out := w.tf(2, "plan", "-refresh=false", "-detailed-exitcode")
	if !strings.Contains(flatten(out), "current_stage = 0 -> 1") {
		t.Fatalf("the next plan does not show the advance:\n%s", out)
	}
}

// apply -refresh=false decides by the clock of its own plan, not by the
// time of the last refresh.
func TestAccRolloutCLI_applyRefreshFalseAdvances(t *testing.T) {
	t.Parallel()
	f, clk, w := newRolloutCLI(t)
	w.writeConfig(hcl{name: "r", provider: endpointProvider(f.URL + "/flags"), rollout: true}.String())
	w.tf(0, "apply", "-auto-approve")
	clk.Advance(30 * time.Minute)
	w.tf(0, "apply", "-auto-approve") // refreshes, changes nothing, saves the refresh
	clk.Advance(time.Hour)
	w.tf(0, "apply", "-auto-approve", "-refresh=false")
	w.expectSaved(map[string]any{"current_stage": 1, "percentage": 25, "state": "active",
		"updated_at": rfc(testEpoch.Add(90 * time.Minute))})
	expectFlagDoc(t, f, "active", 1, 25)
	clk.Advance(59 * time.Minute)
	w.tf(0, "plan", "-refresh=false", "-detailed-exitcode")
	clk.Advance(time.Minute)
	w.tf(0, "apply", "-auto-approve", "-refresh=false")
	w.expectSaved(map[string]any{"current_stage": 2, "percentage": 50})
}

// A saved plan that advances, applied 8 minutes after it was made: the
// publish is the apply's, so updated_at is the apply's time and the next
// advance is due a whole stage_delay after it.
func TestAccRolloutCLI_lateApplyStampsItsOwnTime(t *testing.T) {
	t.Parallel()
	f, clk, w := newRolloutCLI(t)
	w.writeConfig(hcl{name: "r", provider: endpointProvider(f.URL + "/flags"), rollout: true}.String())
	w.tf(0, "apply", "-auto-approve")
	clk.Advance(time.Hour)
	w.tf(0, "plan", "-out=advance.tfplan")
	clk.Advance(8 * time.Minute)
	w.tf(0, "apply", "advance.tfplan")
	published := testEpoch.Add(68 * time.Minute)
	w.expectSaved(map[string]any{"current_stage": 1, "percentage": 25,
		"updated_at": rfc(published), "next_advance_at": rfc(published.Add(time.Hour))})
	if fl, _ := f.Flag("checkout"); fl.UpdatedAt != rfc(published) {
		t.Errorf("published updated_at = %s, want %s", fl.UpdatedAt, rfc(published))
	}
	clk.Advance(52 * time.Minute) // an hour after the plan, 52 minutes after the publish
	w.tf(0, "plan", "-detailed-exitcode")
	clk.Advance(8 * time.Minute)
	w.tf(2, "plan", "-detailed-exitcode")
}

// Turning aborted back off replaces the rollout; with create_before_destroy
// the new rollout publishes first, and the old one's destroy must not
// delete what the new one published.
func TestAccRolloutCLI_replacementKeepsTheNewFlag(t *testing.T) {
	t.Parallel()
	for _, cbd := range []bool{true, false} {
		t.Run(fmt.Sprintf("create_before_destroy=%v", cbd), func(t *testing.T) {
			t.Parallel()
			f, clk, w := newRolloutCLI(t)
			ep := f.URL + "/flags"
			lifecycle := ""
			if cbd {
				lifecycle = "  lifecycle {\n    create_before_destroy = true\n  }\n"
			}
			w.writeConfig(hcl{name: "r", provider: endpointProvider(ep), rollout: true, body: lifecycle}.String())
			w.tf(0, "apply", "-auto-approve")
			clk.Advance(time.Hour)
			w.tf(0, "apply", "-auto-approve")
			w.writeConfig(hcl{name: "r", provider: endpointProvider(ep), rollout: true, body: lifecycle + "  aborted = true"}.String())
			w.tf(0, "apply", "-auto-approve")
			expectFlagDoc(t, f, "aborted", 1, 0)
			w.writeConfig(hcl{name: "r", provider: endpointProvider(ep), rollout: true, body: lifecycle + "  aborted = false"}.String())
			out := w.tf(0, "apply", "-auto-approve")
			if !strings.Contains(out, "1 added, 0 changed, 1 destroyed") {
				t.Fatalf("not a replacement:\n%s", out)
			}
			w.expectSaved(map[string]any{"current_stage": 0, "percentage": 5, "state": "active"})
			expectFlagDoc(t, f, "active", 0, 5)
			w.tf(0, "plan", "-detailed-exitcode")
			w.tf(0, "destroy", "-auto-approve")
			if _, ok := f.Flag("checkout"); ok {
				t.Fatal("destroy left the flag behind")
			}
		})
	}
}

// The endpoint a rollout was published to stays its endpoint: without one
// in the configuration or the environment, apply and destroy use the saved
// one with a warning; a new endpoint replaces the rollout.
func TestAccRolloutCLI_endpointKeptInState(t *testing.T) {
	t.Parallel()
	t.Run("from_the_environment", func(t *testing.T) {
		t.Parallel()
		f, clk, w := newRolloutCLI(t)
		ep := f.URL + "/flags"
		w.setEnv(EnvFlagEndpoint, ep)
		w.writeConfig(hcl{name: "r", provider: "retries = 0", rollout: true}.String())
		w.tf(0, "apply", "-auto-approve")
		w.expectSaved(map[string]any{"endpoint": ep})
		expectFlagDoc(t, f, "active", 0, 5)

		w.setEnv(EnvFlagEndpoint, "")
		w.writeConfig(hcl{name: "r", provider: "retries = 0", rollout: true, body: "  aborted = true"}.String())
		out := w.tf(0, "apply", "-auto-approve")
		if !strings.Contains(flatten(out), "saved endpoint") {
			t.Errorf("no warning about the saved endpoint:\n%s", out)
		}
		w.expectSaved(map[string]any{"state": "aborted", "percentage": 0, "endpoint": ep})
		expectFlagDoc(t, f, "aborted", 0, 0)

		// Turning aborted off replaces the rollout; Terraform plans the new
		// one without the old one's state, so the plan asks for an endpoint
		// instead of creating a rollout that publishes nowhere.
		clk.Advance(time.Minute)
		w.writeConfig(hcl{name: "r", provider: "retries = 0", rollout: true, body: "  aborted = false"}.String())
		out = w.tf(1, "apply", "-auto-approve")
		if !errorPattern(`No endpoint for the replacement.*published to ` + ep).MatchString(flatten(out)) {
			t.Errorf("the plan does not ask for an endpoint:\n%s", out)
		}
		expectFlagDoc(t, f, "aborted", 0, 0)
		w.writeConfig(hcl{name: "r", provider: "retries = 0", rollout: true, body: "  aborted = true"}.String())

		out = w.tf(0, "destroy", "-auto-approve")
		if !strings.Contains(flatten(out), "saved endpoint") {
			t.Errorf("no warning about the saved endpoint at destroy:\n%s", out)
		}
		if _, ok := f.Flag("checkout"); ok {
			t.Fatal("destroy without an endpoint in the environment left the flag behind")
		}
	})

	t.Run("changed_replaces", func(t *testing.T) {
		t.Parallel()
		f1, f2 := newTestFleet(t, 1, "1.0.0"), newTestFleet(t, 1, "1.0.0")
		clk := clocktest.NewFake(testEpoch)
		w := newReattachWorkdir(t, clk)
		w.writeConfig(hcl{name: "r", provider: "retries = 0", rollout: true, body: fmt.Sprintf("  endpoint = %q\n", f1.URL+"/flags")}.String())
		w.tf(0, "apply", "-auto-approve")
		clk.Advance(time.Hour)
		w.tf(0, "apply", "-auto-approve")
		expectFlagDoc(t, f1, "active", 1, 25)

		// The same endpoint through the provider instead: nothing changes.
		w.writeConfig(hcl{name: "r", provider: endpointProvider(f1.URL + "/flags"), rollout: true}.String())
		w.tf(0, "plan", "-detailed-exitcode")

		w.writeConfig(hcl{name: "r", provider: endpointProvider(f2.URL + "/flags"), rollout: true}.String())
		out := w.tf(0, "apply", "-auto-approve")
		if !strings.Contains(out, "1 added, 0 changed, 1 destroyed") {
			t.Fatalf("a new endpoint is not a replacement:\n%s", out)
		}
		if _, ok := f1.Flag("checkout"); ok {
			t.Error("the old endpoint still serves the flag")
		}
		expectFlagDoc(t, f2, "active", 0, 5)
		w.expectSaved(map[string]any{"endpoint": f2.URL + "/flags", "current_stage": 0})
	})
}

// Destroy removes only what the rollout published: a document published
// since by someone else (a later updated_at) is left, with a warning; one
// changed by hand without a later updated_at is the rollout's drift and is
// deleted.
func TestAccRolloutCLI_destroyLeavesAFlagPublishedSince(t *testing.T) {
	t.Parallel()
	for name, later := range map[string]bool{"published_since": true, "drift": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, _, w := newRolloutCLI(t)
			w.writeConfig(hcl{name: "r", provider: endpointProvider(f.URL + "/flags"), rollout: true}.String())
			w.tf(0, "apply", "-auto-approve")
			updated := testEpoch
			if later {
				updated = testEpoch.Add(time.Minute)
			}
			publishFlagDirect(t, f, fmt.Sprintf(`{"flag":"checkout","state":"active","stage":3,"percentage":100,"stages":[5,25,50,100],"updated_at":%q}`, rfc(updated)))
			out := w.tf(0, "destroy", "-auto-approve")
			_, kept := f.Flag("checkout")
			if kept != later {
				t.Fatalf("flag kept = %v, want %v:\n%s", kept, later, out)
			}
			if warned := strings.Contains(flatten(out), "Flag left in place"); warned != later {
				t.Errorf("warning = %v, want %v:\n%s", warned, later, out)
			}
		})
	}
}

// newRolloutCLI is a one-target fleet and a workdir whose provider runs on
// a fake clock at testEpoch, for the rollout CLI tests.
func newRolloutCLI(t *testing.T) (*testFleet, *clocktest.Fake, *reattachWorkdir) {
	t.Helper()
	f, clk := newRolloutFleet(t)
	return f, clk, newReattachWorkdir(t, clk)
}
