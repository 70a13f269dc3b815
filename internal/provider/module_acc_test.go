package provider

import (
	"fmt"
	"os"
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
	expectTestsPassed(t, out, 12)

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
