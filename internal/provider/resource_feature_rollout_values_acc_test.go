package provider

// codomyrmex_feature_rollout and the functions with the values users write:
// stages changed while paused or aborted, values unknown at plan (a stage,
// a provider header, token or flag endpoint), numbers that are not whole or
// not exact in binary (100/3), and the provider block checked at validate.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// Stages changed while aborted keep current_stage an index of the new
// stages (the percentage stays 0), so the plan after the apply is empty.
func TestAccFeatureRollout_stagesChangedWhileAborted(t *testing.T) {
	f, clk := newRolloutFleet(t)
	clockTest(t, clk, []resource.TestStep{
		{Config: rolloutHCL(f, "")},
		{PreConfig: func() { clk.Advance(time.Hour) }, Config: rolloutHCL(f, ""), ConfigStateChecks: expectStageSaved(1, 25, "active")},
		{Config: rolloutHCL(f, "aborted = true"), ConfigStateChecks: expectStageSaved(1, 0, "aborted")},
		{
			Config:            rolloutHCL(f, "aborted = true\n  stages = [50]"),
			ConfigStateChecks: expectStageSaved(0, 0, "aborted"),
			Check:             f.expectFlag("checkout", "aborted", 0, 0),
		},
		{
			// More stages again: the index follows the percentage of the
			// stage it had (50 % → 30 %), as for an active rollout.
			Config:            rolloutHCL(f, "aborted = true\n  stages = [10, 30, 100]"),
			ConfigStateChecks: expectStageSaved(1, 0, "aborted"),
			Check:             f.expectFlag("checkout", "aborted", 1, 0),
		},
	})
}

// A stages change that leaves no new stage at or below the current
// percentage is refused at plan, naming both, whether the rollout is
// paused or active; nothing is published.
func TestAccFeatureRollout_stagesChangeThatRaisesExposureIsRefused(t *testing.T) {
	for _, paused := range []bool{true, false} {
		t.Run(fmt.Sprintf("paused=%v", paused), func(t *testing.T) {
			f, clk := newRolloutFleet(t)
			extra := fmt.Sprintf("paused = %v", paused)
			state := "active"
			if paused {
				state = "paused"
			}
			clockTest(t, clk, []resource.TestStep{
				{Config: rolloutHCL(f, extra), ConfigStateChecks: expectStageSaved(0, 5, state)},
				{
					Config:      rolloutHCL(f, extra+"\n  stages = [10, 50, 100]"),
					ExpectError: errorPattern(`stages.*exposes 5 %.*first new stage is 10 %`),
				},
				{
					// Nothing was published; a list with a stage at or
					// below 5 % is accepted.
					Config:            rolloutHCL(f, extra+"\n  stages = [2, 50, 100]"),
					Check:             f.expectFlag("checkout", state, 0, 2),
					ConfigStateChecks: expectStageSaved(0, 2, state),
				},
			})
		})
	}
}

// A stage unknown until apply is resolved at apply, on create and on
// update, never a value conversion error.
func TestAccFeatureRollout_unknownStage(t *testing.T) {
	f, clk := newRolloutFleet(t)
	cfg := func(mid int) string {
		return rolloutHCL(f, "stages = [5, terraform_data.mid.output, 100]") + fmt.Sprintf(`
resource "terraform_data" "mid" {
  input = %d
}
`, mid)
	}
	clockTest(t, clk, []resource.TestStep{
		{
			Config: cfg(25),
			ConfigStateChecks: append(expectStageSaved(0, 5, "active"),
				rolloutStateIs("stages", knownvalue.ListExact([]knownvalue.Check{
					knownvalue.Float64Exact(5), knownvalue.Float64Exact(25), knownvalue.Float64Exact(100)})),
			),
		},
		{PreConfig: func() { clk.Advance(time.Hour) }, Config: cfg(25), ConfigStateChecks: expectStageSaved(1, 25, "active")},
		{
			// 25 → 30 is unknown at plan; at 25 % the highest new stage at
			// or below is 5 %.
			Config:            cfg(30),
			ConfigStateChecks: expectStageSaved(0, 5, "active"),
			Check:             f.expectFlag("checkout", "active", 0, 5),
		},
	})
}

// headerFleet is a fleet whose HTTP server records every request it
// receives.
type headerFleet struct {
	*testFleet
	reqs requestLog
}

func newHeaderFleet(t *testing.T) *headerFleet {
	t.Helper()
	hf := &headerFleet{}
	hf.testFleet = serveFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: 1, InitialVersion: "1.0.0"}), func(h http.Handler) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			hf.reqs.add(r)
			h.ServeHTTP(w, r)
		}
	})
	return hf
}

// seenTeams lists the distinct values of the X-Team header, in order.
func (h *headerFleet) seenTeams() []string { return h.reqs.headerValues("X-Team") }

// Provider settings unknown at plan (a header, the token, the flag
// endpoint) are resolved at apply: the plan succeeds and the apply sends
// what they became.
func TestAccFeatureRollout_unknownProviderSettings(t *testing.T) {
	f := newHeaderFleet(t)
	clk := clocktest.NewFake(testEpoch)
	cfgFor := func(team string) string {
		return fmt.Sprintf(`
resource "terraform_data" "settings" {
  input = { team = %q, token = "s3cret-token", endpoint = "%s/flags" }
}

provider "codomyrmex" {
  flag_endpoint = terraform_data.settings.output.endpoint
  token         = terraform_data.settings.output.token
  headers       = { "X-Team" = terraform_data.settings.output.team }
  retries       = 0
}

resource "codomyrmex_feature_rollout" "test" {
  flag_name   = "checkout"
  stage_delay = "1h"
}
`, team, f.URL)
	}
	clockTest(t, clk, []resource.TestStep{
		{
			Config:            cfgFor("payments"),
			ConfigStateChecks: append(expectStageSaved(0, 5, "active"), rolloutStateIs("endpoint", knownvalue.StringExact(f.URL+"/flags"))),
			Check: resource.ComposeTestCheckFunc(
				f.expectFlag("checkout", "active", 0, 5),
				fleetCheck(func() error {
					if got := f.seenTeams(); !slices.Equal(got, []string{"payments"}) {
						return fmt.Errorf("X-Team headers seen: %q, want [payments]", got)
					}
					if got := f.SeenAuthorization(); !slices.Equal(got, []string{"Bearer s3cret-token"}) {
						return fmt.Errorf("Authorization headers seen: %d distinct, want the token's only", len(got))
					}
					return nil
				}),
			),
		},
		{
			// A new team makes the whole object, the flag endpoint too,
			// unknown at plan: an endpoint unknown until apply counts as
			// a new one, so the rollout is replaced and starts again.
			PreConfig: func() { clk.Advance(time.Hour) },
			Config:    cfgFor("platform"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(rolloutAddr, plancheck.ResourceActionDestroyBeforeCreate),
			}},
			ConfigStateChecks: expectStageSaved(0, 5, "active"),
			Check: resource.ComposeTestCheckFunc(
				f.expectFlag("checkout", "active", 0, 5),
				fleetCheck(func() error {
					if got := f.seenTeams(); !slices.Contains(got, "platform") {
						return fmt.Errorf("X-Team headers seen: %q, want platform among them", got)
					}
					return nil
				}),
			),
		},
	})
}

// Numbers a user can write: 100/3 in stages and in in_rollout, a
// max_steps that is not whole (refused, naming the argument), and
// linear_stages rounded to the precision of its arguments.
func TestAccFunctions_numbersUsersWrite(t *testing.T) {
	f := newTestFleet(t, 1, "1.0.0")
	third := 100.0 / 3
	clockTest(t, clocktest.NewFake(testEpoch), []resource.TestStep{
		{
			Config:      `output "bad" { value = provider::codomyrmex::linear_stages(10, 10, 2.5) }`,
			ExpectError: errorPattern(`max_steps must be a whole number.*got 2.5`),
		},
		{
			Config:      `output "bad" { value = provider::codomyrmex::in_rollout("f", "k", 100 + 1/3) }`,
			ExpectError: errorPattern(`percentage must be between 0 and 100, got 100.33`),
		},
		{
			Config: rolloutHCL(f, "stages = [100/3, 100]") + `
output "acme_in" { value = provider::codomyrmex::in_rollout("new-checkout", "acme", 100/3) }
output "tenths" { value = provider::codomyrmex::linear_stages(0.1, 0.2, 5) }
output "float_steps" { value = provider::codomyrmex::linear_stages(10, 10, 2.0) }
`,
			ConfigStateChecks: []statecheck.StateCheck{
				rolloutStateIs("percentage", knownvalue.Float64Exact(third)),
				statecheck.ExpectKnownOutputValue("acme_in", knownvalue.Bool(rollout.InRollout("new-checkout", "acme", third))),
				statecheck.ExpectKnownOutputValue("tenths", knownvalue.ListExact([]knownvalue.Check{
					knownvalue.Float64Exact(0.1), knownvalue.Float64Exact(0.3), knownvalue.Float64Exact(0.5),
					knownvalue.Float64Exact(0.7), knownvalue.Float64Exact(0.9), knownvalue.Float64Exact(100),
				})),
				statecheck.ExpectKnownOutputValue("float_steps", knownvalue.ListExact([]knownvalue.Check{
					knownvalue.Float64Exact(10), knownvalue.Float64Exact(20), knownvalue.Float64Exact(100),
				})),
			},
			Check: f.expectFlag("checkout", "active", 0, third),
		},
	})
}

// Bad TLS material, headers and token in the provider block fail
// `validate`, pointing at the attribute (the CLI quotes its line).
func TestAccProviderCLI_validateChecksPEMAndHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, block, want string
	}{
		{"ca_cert_pem", `ca_cert_pem = "not a certificate"`, `ca_cert_pem = "not a certificate"`},
		{"client_cert_pem", "client_cert_pem = \"nope\"\n  client_key_pem = \"key\"", `client_cert_pem = "nope"`},
		{"client_key_pem", "client_cert_pem = \"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"\n  client_key_pem = \"key\"", `client_key_pem = "key"`},
		{"header_name", `headers = { "Bad Header" = "x" }`, `headers = { "Bad Header" = "x" }`},
		{"header_value", `headers = { "X-Team" = "a\nb" }`, `headers = { "X-Team" = "a\nb" }`},
		{"token", `token = "two\nlines"`, `token = "two\nlines"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newReattachWorkdir(t, clocktest.NewFake(testEpoch))
			w.writeConfig(fmt.Sprintf("provider \"codomyrmex\" {\n  %s\n}\n\nresource \"codomyrmex_feature_rollout\" \"r\" {\n  flag_name = \"f\"\n}\n", tc.block))
			out := w.mustRun(1, "validate", "-no-color")
			if !strings.Contains(flatten(out), `in provider "codomyrmex"`) || !strings.Contains(out, tc.want) {
				t.Errorf("validate does not point at the attribute (%s):\n%s", tc.want, out)
			}
		})
	}
}

// max_stage is a stage index: a number that is not whole is refused at
// plan, naming the attribute, never a value conversion error.
func TestAccFeatureRollout_maxStageNotWhole(t *testing.T) {
	accTest(t, []resource.TestStep{
		{Config: `resource "codomyrmex_feature_rollout" "test" {
  flag_name = "state-only"
  max_stage = 1.5
}`, PlanOnly: true, ExpectError: errorPattern(`max_stage must be a whole stage index from 0 to 19, got 1.5`)},
		{Config: `resource "codomyrmex_feature_rollout" "test" {
  flag_name = "state-only"
  max_stage = 4 / 2
}`, PlanOnly: true, ExpectNonEmptyPlan: true},
	})
}
