package provider

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// statusConfig is a canary of web over four targets that stops at its
// 25 % gate until var.approve names the version, beside a feature rollout
// of "checkout" on the fleet's flag service.
func statusConfig(f *testFleet) string {
	return hcl{fleet: f, provider: cliProvider, vars: []string{"app_version", "approve"}, name: "web", body: fmt.Sprintf(`
  version = var.app_version
  targets = %s
  canary = {
    stages         = [25, 50, 100]
    stage_interval = "0s"
    router_url     = "%s/router"
    gates          = [{ at = 25 }]
  }
  approve = var.approve == "" ? null : { version = var.approve }`, f.targets(4, ""), f.URL)}.String() + `
resource "codomyrmex_feature_rollout" "checkout" {
  flag_name   = "checkout"
  stage_delay = "1h"
}
`
}

// buildAgent builds codomyrmex-agent for the test.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "codomyrmex-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/codomyrmex-agent").CombinedOutput(); err != nil {
		t.Fatalf("building codomyrmex-agent: %v\n%s", err, out)
	}
	return bin
}

// showJSON is the standard output of `show -json`.
func (w *cliWorkdir) showJSON() []byte {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := w.command(ctx, nil, "show", "-json", "-no-color")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if _, code := exited(w.t, ctx, cmd.Run(), stderr.String(), "show -json"); code != 0 {
		w.t.Fatalf("show -json exited %d:\n%s", code, stderr.String())
	}
	return stdout.Bytes()
}

// status feeds the state to `codomyrmex-agent status` on stdin and returns
// its output and exit code.
func status(t *testing.T, agent string, state []byte, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, agent, append([]string{"status", "--retries", "0", "--timeout", "2s"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(state), &out, &out
	return exited(t, ctx, cmd.Run(), out.String(), "codomyrmex-agent status")
}

// The JSON of real CLI runs, fed to codomyrmex-agent status: paused at a
// gate and converged (exit 0), drifted (3), the router down (1, naming the
// call), approved and converged again.
func TestAccStatus_showJSONOfARealApply(t *testing.T) {
	w := newCLIWorkdir(t)
	agent := buildAgent(t)
	f := newTestFleet(t, 4, "1.0.0")
	w.writeConfig(statusConfig(f))
	apply := func(approve string) {
		w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0", "-var", "approve="+approve)
	}
	// expect runs status on the state and checks its exit code and output,
	// whatever the width of its columns.
	expect := func(what string, wantCode int, want ...string) {
		t.Helper()
		out, code := status(t, agent, w.showJSON())
		if code != wantCode {
			t.Fatalf("%s: status exited %d, want %d:\n%s", what, code, wantCode, out)
		}
		words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
		for _, s := range want {
			if !strings.Contains(words(out), words(s)) {
				t.Errorf("%s: status output lacks %q:\n%s", what, s, out)
			}
		}
	}

	apply("")
	expect("paused at the gate", 0,
		"codomyrmex_deployment.web: strategy canary, version 2.0.0, status paused, paused_at 25%, traffic 25%",
		"  traffic  25% on 2.0.0  25% on 2.0.0",
		"  t4       1.0.0         1.0.0 (healthy)",
		"codomyrmex_feature_rollout.checkout: flag checkout, state active, next_advance_at ",
		"  percentage  5%      5%",
		"The fleet matches state.")

	f.SetVersion("t4", "1.0.1-hotfix")
	expect("drifted", 3, "! t4       1.0.0         1.0.1-hotfix (healthy)", "The fleet differs from state: 1 difference (marked !).")
	f.SetVersion("t4", "1.0.0")

	f.SetRouterDown(true)
	expect("router down", 1, "Could not ask the fleet: 1 call failed.\n  router: GET "+f.URL+"/router/v1/state: HTTP 503")
	f.SetRouterDown(false)

	apply("2.0.0")
	expect("approved", 0, "status completed", "  traffic  100% on 2.0.0  100% on 2.0.0", "  t4       2.0.0         2.0.0 (healthy)")
}
