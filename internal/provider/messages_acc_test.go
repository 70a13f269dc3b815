package provider

// What the CLI shows a person around gates and failures, checked in the
// real CLI's output: the plan names the gate an apply stops at, a paused
// rollout says what continues it (also in an empty plan), and a failure
// says what was rolled back to which version and what to do next.

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// expectSays fails the test unless out (its words joined by single
// spaces, as the CLIs wrap diagnostics at the terminal's width) contains
// every one of want.
func expectSays(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(flat(out), w) {
			t.Errorf("%s does not say %q:\n%s", what, w, tail(out, 4000))
		}
	}
}

// TestAccMessages_gatedCanary: a canary of 20 targets with a manual gate
// at 25 and a time gate at 50. The first plan says it stops at the manual gate; the
// paused apply says what approves it and that the next gate is a time gate
// approve does not open; a plan while paused is empty but says since when
// and what continues it; at the time gate, that a plan and an apply after
// resume_at continue it, and how to abandon it.
func TestAccMessages_gatedCanary(t *testing.T) {
	t.Parallel()
	w := newCLIWorkdir(t)
	f := newTestFleet(t, 20, "1.0.0")
	// 1.0.0 first, so that previous_version is known; then stages [5, 25,
	// 50, 100], a manual gate at 25 and a time gate of 24h at 50.
	config := func(version, approve string) {
		body := gatedCanaryArgs(f, version)
		if version == "1.0.0" {
			body = rollingArgs(f, 20, 10, hclString(version))
		}
		w.writeConfig(hcl{name: "web", provider: cliProvider, body: body, after: approve}.String())
	}
	apply := []string{"apply", "-auto-approve", "-input=false", "-no-color"}
	plan := []string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}
	config("1.0.0", "")
	w.mustRun(0, nil, apply...)

	config("2.0.0", "")
	out := w.mustRun(2, nil, plan...)
	expectSays(t, "the first plan", out,
		`Warning: Rollout planned`,
		`Deployment "web": this apply deploys "2.0.0" to 5 of 20 targets: t1, t2, t3, t4, t5; it stops at the manual gate at 25% (approve with through = 25 or higher opens it), with status = "paused"`)
	out = w.mustRun(0, nil, apply...)
	w.expectPaused(25)
	expectSays(t, "the apply that paused", out,
		`Warning: Rollout paused`,
		`Deployment "web" is paused at 25%: to continue, set approve = { version = "2.0.0", through = 25 }. `+
			`The next gate is the time gate at 50% (it opens 24h after the rollout reaches it; approve does not open it). `+
			`To abandon it, set version back to "1.0.0".`,
		// The CLI plans again while applying: the repeated note says so.
		`Terraform plans again while it applies, so this note shows again after the apply.`)

	out = w.mustRun(0, nil, plan...)
	expectSays(t, "a plan while paused at the manual gate", out, "No changes.", `Warning: Rollout paused`)
	since := regexp.MustCompile(`Deployment "web" is paused at 25% since (\S+): to continue, set approve = \{ version = "2.0.0", through = 25 \}\. The next gate is the time gate at 50%.* This plan continues nothing\.`).FindStringSubmatch(flat(out))
	if since == nil {
		t.Fatalf("a plan while paused does not say since when and what continues it:\n%s", tail(out, 4000))
	}
	if at, err := time.Parse(time.RFC3339, since[1]); err != nil || time.Since(at) > 10*time.Minute || time.Until(at) > time.Minute {
		t.Errorf("paused since %q: not the time of the apply (%v)", since[1], err)
	}

	config("2.0.0", `approve = { version = "2.0.0", through = 25 }`)
	out = w.mustRun(2, nil, plan...)
	expectSays(t, "the approved plan", out,
		`this apply deploys "2.0.0" to 5 of 20 targets: t6, t7, t8, t9, t10; it stops at the time gate at 50% (it opens 24h after the rollout reaches it; approve does not open it), with status = "paused"`)
	out = w.mustRun(0, nil, apply...)
	s := w.expectPaused(50)
	if s.ResumeAt == nil {
		t.Fatalf("paused at a time gate with no resume_at: %s", s)
	}
	expectSays(t, "the apply that paused at the time gate", out,
		`Deployment "web" is paused at 50% until the time gate opens at `+*s.ResumeAt+`: plan and apply again after that (from a scheduled job, for instance) to continue the rollout; nothing moves until an apply. `+
			`No gate follows: from there the rollout goes on to 100%. To abandon it, set version back to "1.0.0".`)
	out = w.mustRun(0, nil, plan...)
	expectSays(t, "a plan while paused at the time gate", out, "No changes.",
		`until the time gate opens at `+*s.ResumeAt+`: plan and apply again after that`, `This plan continues nothing.`)
}

// TestAccMessages_failedRollout: a failed update names the version the
// targets were rolled back to, and says what to do next: fix it and apply
// again, or set version back to the version the fleet runs.
func TestAccMessages_failedRollout(t *testing.T) {
	t.Parallel()
	w := newCLIWorkdir(t)
	f := newTestFleet(t, 4, "1.0.0")
	config := func(version string) {
		w.writeConfig(hcl{name: "web", provider: cliProvider, body: rollingArgs(f, 4, 1, hclString(version))}.String())
	}
	config("2.0.0")
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	f.SetFault("t2", simulator.Fault{DeployStatus: 500, FailVersion: "2.1.0"})
	config("2.1.0")
	out := w.mustRun(1, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	expectSays(t, "the failed apply", out,
		`Error: Deployment failed`,
		`Rolling out "2.1.0" to deployment "web" (rolling) failed at batch 2/4.`,
		`Failed targets: t2`,
		`Rolled back to previous_version "2.0.0": t1, t2`,
		`State records only what the targets report, so the next plan proposes the rollout again: fix what failed and apply again, or set version back to "2.0.0" to stay on it.`)
	if err := f.expectAll(4, "2.0.0"); err != nil {
		t.Error(err)
	}
}
