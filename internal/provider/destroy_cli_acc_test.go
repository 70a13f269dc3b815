package provider

// Destroy as the CLI shows it: the warnings a destroy plan prints, and the
// advice a failed destroy gives, followed literally.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// destroyCLI is a CLI workdir with the deployment "web" of 2.0.0 over a
// fleet of n targets at 1.0.0, two at a time, with on_destroy, not applied.
func destroyCLI(t *testing.T, n int, onDestroy string) (*cliWorkdir, *testFleet) {
	t.Helper()
	w := newCLIWorkdir(t)
	f := newTestFleet(t, n, "1.0.0")
	w.writeConfig(hcl{name: "web", provider: cliProvider, health: faultHealth, body: rollingArgs(f, n, 2, `"2.0.0"`), after: fmt.Sprintf("on_destroy = %q", onDestroy)}.String())
	return w, f
}

// on_destroy = "none" is said at plan time, on both CLIs.
func TestAccCLI_onDestroyNoneWarnsAtPlan(t *testing.T) {
	t.Parallel()
	w, f := destroyCLI(t, 2, "none")
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	out := w.mustRun(0, nil, "plan", "-destroy", "-input=false", "-no-color")
	if want := `Deployment "web" has on_destroy = "none", so destroying it only removes it from state; the targets keep running "2.0.0"`; !errorPattern(want).MatchString(out) {
		t.Fatalf("the destroy plan does not warn %q:\n%s", want, tail(out, 3000))
	}
	w.mustRun(0, nil, "destroy", "-auto-approve", "-input=false", "-no-color")
	if err := f.expectAll(2, "2.0.0"); err != nil {
		t.Fatal(err)
	}
}

// A failed destroy's advice, followed literally, leaves the fleet as it is:
// no target gets the version again.
func TestAccCLI_failedDestroyAdvice(t *testing.T) {
	t.Parallel()
	w, f := destroyCLI(t, 2, "rollback")
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	f.SetFault("t2", simulator.Fault{DeployStatus: 500, FailVersion: "1.0.0"})
	out := w.mustRun(1, nil, "destroy", "-auto-approve", "-input=false", "-no-color")
	if want := `remove the deployment from state \(terraform state rm <address>\)`; !errorPattern(want).MatchString(out) {
		t.Fatalf("the failed destroy does not advise %q:\n%s", want, tail(out, 3000))
	}
	if err := f.expectVersions(map[string]string{"t1": "1.0.0", "t2": "2.0.0"}); err != nil {
		t.Fatal(err)
	}
	deploys := len(f.Deploys())
	w.mustRun(0, nil, "state", "rm", "codomyrmex_deployment.web")
	if out := w.mustRun(0, nil, "state", "list"); strings.Contains(out, "codomyrmex_deployment.web") {
		t.Fatalf("the deployment is still in state:\n%s", out)
	}
	if n := len(f.Deploys()); n != deploys {
		t.Fatalf("following the advice made %d deploys", n-deploys)
	}
	if err := f.expectVersions(map[string]string{"t1": "1.0.0", "t2": "2.0.0"}); err != nil {
		t.Fatal(err)
	}
}

// A target that answered is not called unreachable: the warnings at create
// and at refresh say what it answered (unhealthy, unauthorized) or that it
// gave no answer.
func TestAccCLI_answersAreNotUnreachable(t *testing.T) {
	t.Parallel()
	w, f := destroyCLI(t, 3, "rollback")
	// t2 answers status "error" while it runs 1.0.0, as a host does before
	// its first deploy; t3 runs another version, so previous_version is
	// unknown and the create says what each target answered.
	f.SetFault("t2", simulator.Fault{Unhealthy: true, FailVersion: "1.0.0"})
	f.SetVersion("t3", "0.9.0")
	out := w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if want := `(1 answered unhealthy (status "error"), 1 at "0.9.0", 1 at "1.0.0")`; !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
		t.Fatalf("the create's warning does not say %q:\n%s", want, tail(out, 3000))
	}
	f.ClearFaults()
	f.SetFault("t1", simulator.Fault{HealthStatus: 401})
	f.SetFault("t2", simulator.Fault{CloseConnection: true})
	out = w.mustRun(0, nil, "plan", "-input=false", "-no-color")
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"Targets not read", "t1 answered unauthorized (HTTP 401: check the token)", "t2 gave no answer"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the refresh warning does not say %q:\n%s", want, tail(out, 3000))
		}
	}
	if strings.Contains(flat, "Unreachable targets") || strings.Contains(flat, " unreachable") {
		t.Errorf("a target is still called unreachable:\n%s", tail(out, 3000))
	}
	f.ClearFaults()
}
