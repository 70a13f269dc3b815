package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestAccModule_serviceRollout runs the `terraform test` files of the
// example module examples/modules/service-rollout with the CLI under test,
// as a module author would: its unit runs (mock_provider, no network), then
// its integration runs against a simulated fleet whose addresses go in as
// variables. The fleet then shows what the runs did to it.
func TestAccModule_serviceRollout(t *testing.T) {
	t.Parallel()
	w := newCLIWorkdir(t)
	if err := os.CopyFS(w.dir, os.DirFS("../../examples/modules/service-rollout")); err != nil {
		t.Fatal(err)
	}
	f := newTestFleet(t, 4, "1.0.0")

	out := w.mustRun(0, nil, "test", "-no-color")
	expectTestsPassed(t, out, 13)

	hosts := make([]string, 0, 4)
	for _, id := range ids(4) {
		hosts = append(hosts, fmt.Sprintf(`%s={address=%q}`, id, f.URL+"/t/"+id))
	}
	out = w.mustRun(0, []string{"CODOMYRMEX_FLAG_ENDPOINT=" + f.URL + "/flags"},
		"test", "-no-color", "-test-directory=tests/integration",
		"-var", "router_url="+f.URL+"/router", "-var", "hosts={"+strings.Join(hosts, ",")+"}")
	expectTestsPassed(t, out, 4)

	// The canary paused after t1 and t2; the approval deployed t3 and t4;
	// the next release went everywhere; the test's destroy deployed its
	// previous version back and deleted the flag.
	if got := f.deployOrder("2.0.0"); len(got) < 4 || !slices.Equal(sorted(got[:2]), []string{"t1", "t2"}) {
		t.Errorf("deploys of 2.0.0 = %v, want t1 and t2 first (the canary's first stage)", got)
	}
	if got := f.deploysOf("2.1.0"); got != 4 {
		t.Errorf("deploys of 2.1.0 = %d, want 4", got)
	}
	if err := f.expectAll(4, "2.0.0"); err != nil {
		t.Errorf("after the test's destroy: %v", err)
	}
	if fl, ok := f.Flag("new-checkout"); ok {
		t.Errorf("flag new-checkout still published after the destroy: %+v", fl)
	}
}

var testsPassed = regexp.MustCompile(`Success! (\d+) passed, 0 failed`)

// expectTestsPassed checks that a `test` command ran want runs, all passed.
func expectTestsPassed(t *testing.T, out string, want int) {
	t.Helper()
	m := testsPassed.FindStringSubmatch(out)
	if m == nil || m[1] != fmt.Sprint(want) {
		t.Fatalf("test: want \"Success! %d passed, 0 failed\":\n%s", want, tail(out, 6000))
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestAccModule_multiRegion applies examples/multi-region as written, with
// an override file that points its regions at a simulated fleet, drops
// the Prometheus gate (there is no Prometheus of its own here) and the
// stage interval: eu pauses at its approval and us keeps the version eu
// ran before; once eu is approved, us follows in the same apply.
func TestAccModule_multiRegion(t *testing.T) {
	t.Parallel()
	w := newCLIWorkdir(t)
	for _, dir := range []string{"modules/service-rollout", "multi-region"} {
		if err := os.CopyFS(filepath.Join(w.dir, "examples", dir), os.DirFS("../../examples/"+dir)); err != nil {
			t.Fatal(err)
		}
	}
	w.dir = filepath.Join(w.dir, "examples", "multi-region")
	f := newTestFleet(t, 6, "3.0.0")
	host := func(region string, i, target int) string {
		return fmt.Sprintf(`"web-%s-%d" = { address = "%s/t/t%d" }`, region, i, f.URL, target)
	}
	writeFile(t, filepath.Join(w.dir, "fleet_override.tf"), fmt.Sprintf(`variable "regions" {
  default = {
    eu = { %s, %s, %s, %s }
    us = { %s, %s }
  }
}

module "web_eu" {
  canary          = { stages = [25, 50, 100], stage_interval = "0s" }
  error_rate_gate = null
}
`, host("eu", 1, 1), host("eu", 2, 2), host("eu", 3, 3), host("eu", 4, 4), host("us", 1, 5), host("us", 2, 6)))
	w.mustRun(0, nil, "get", "-no-color")

	w.mustRun(0, nil, "apply", "-auto-approve", "-no-color", "-input=false")
	if err := f.expectVersions(map[string]string{"t1": "3.1.0", "t2": "3.1.0", "t3": "3.0.0", "t4": "3.0.0", "t5": "3.0.0", "t6": "3.0.0"}); err != nil {
		t.Fatalf("eu paused at 50 %%, us untouched: %v", err)
	}
	// Creating us deploys every one of its hosts, here the version they run.
	if got := sorted(f.deployOrder("3.0.0")); !slices.Equal(got, []string{"t5", "t6"}) {
		t.Errorf("deploys of 3.0.0 went to %v, want us's hosts t5 and t6 only (no rollback in eu)", got)
	}

	w.mustRun(0, nil, "apply", "-auto-approve", "-no-color", "-input=false", "-var", "approved_version=3.1.0")
	if err := f.expectAll(6, "3.1.0"); err != nil {
		t.Fatalf("after the approval both regions run 3.1.0: %v", err)
	}
	if order := f.deployOrder("3.1.0"); !slices.Equal(sorted(order[4:]), []string{"t5", "t6"}) {
		t.Errorf("deploys of 3.1.0 in order %v: us (t5, t6) must come after every eu host", order)
	}
	w.mustRun(0, nil, "plan", "-detailed-exitcode", "-no-color", "-input=false", "-var", "approved_version=3.1.0")
}
