package provider

// Acceptance tests of paths_acc_test.go that run the CLI directly: state
// surgery and the plan's text.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// ---------------------------------------------------------------------------
// Finding 11: after `state rm` the re-create finds every target at the
// version; changed_targets lists exactly the targets that apply deployed.

func TestAccPaths_stateRmChangedTargets(t *testing.T) {
	t.Parallel()
	const n = 4
	w := newCLIWorkdir(t)
	f := newTestFleet(t, n, "1.0.0")
	w.writeConfig(hcl{name: "web", provider: cliProvider, body: rollingArgs(f, n, n, `"2.0.0"`)}.String())
	apply := []string{"apply", "-auto-approve", "-input=false", "-no-color"}
	w.mustRun(0, nil, apply...)
	if err := f.expectAll(n, "2.0.0"); err != nil {
		t.Fatal(err)
	}
	w.mustRun(0, nil, "state", "rm", "codomyrmex_deployment.web")
	mark := len(f.Deploys())
	out := w.mustRun(0, nil, apply...)

	deployed := map[string]bool{}
	for _, d := range f.Deploys()[mark:] {
		deployed[d.Target] = true
	}
	d, ok := w.localState("web")
	if !ok {
		t.Fatalf("no deployment in state after the re-create:\n%s", tail(out, 3000))
	}
	listed := map[string]bool{}
	for _, id := range d.ChangedTargets {
		listed[id] = true
	}
	if fmt.Sprint(listed) != fmt.Sprint(deployed) {
		t.Errorf("after state rm and apply, changed_targets = %v but the apply deployed to %v", d.ChangedTargets, slices.Sorted(func(yield func(string) bool) {
			for id := range deployed {
				if !yield(id) {
					return
				}
			}
		}))
	}
	if err := f.expectAll(n, "2.0.0"); err != nil {
		t.Error(err)
	}
}

// ---------------------------------------------------------------------------
// The plan's text names the targets the apply deploys, also when
// changed_targets equals its prior value (a retry after a failure), which
// Terraform's diff would not show.

func TestAccPaths_planTextNamesTargets(t *testing.T) {
	t.Parallel()
	const n = 4
	w := newCLIWorkdir(t)
	f := newTestFleet(t, n, "1.0.0")
	config := func(version string) {
		w.writeConfig(hcl{name: "web", provider: cliProvider, health: faultHealth, body: rollingArgs(f, n, 2, hclString(version)), after: "auto_rollback = false"}.String())
	}
	plan := []string{"plan", "-input=false", "-no-color"}
	apply := []string{"apply", "-auto-approve", "-input=false", "-no-color"}
	config("1.0.0")
	out := w.mustRun(0, nil, plan...)
	for _, want := range []string{`this apply deploys "1.0.0" to 4 of 4 targets: t1, t2, t3, t4`} {
		if !errorPattern(want).MatchString(out) {
			t.Errorf("create plan lacks %q:\n%s", want, tail(out, 3000))
		}
	}
	w.mustRun(0, nil, apply...)

	// 2.0.0 fails on t3 and t4 and nothing is rolled back: t1 and t2 run it.
	config("2.0.0")
	f.SetFault("t3", simulator.Fault{DeployStatus: 500, FailVersion: "2.0.0"})
	f.SetFault("t4", simulator.Fault{DeployStatus: 500, FailVersion: "2.0.0"})
	w.mustRun(1, nil, apply...)
	f.ClearFaults()
	// The retry's changed_targets ([t3, t4]) may equal what state holds;
	// the text must still say which targets the apply deploys.
	for range 2 {
		out = w.mustRun(0, nil, plan...)
		if want := `this apply deploys "2.0.0" to 2 of 4 targets: t3, t4`; !errorPattern(want).MatchString(out) {
			t.Fatalf("plan after the failure lacks %q:\n%s", want, tail(out, 3000))
		}
	}
	w.mustRun(0, nil, apply...)
	// Converged: the plan is empty and says nothing about a rollout.
	out = w.mustRun(0, nil, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	if strings.Contains(out, "Rollout planned") {
		t.Errorf("a converged plan announces a rollout:\n%s", tail(out, 3000))
	}
}
