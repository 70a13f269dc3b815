package provider

import (
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// testAccProviders runs the provider in process, so tests can share Go
// state (the simulated fleet, a fake clock) with it.
var testAccProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"codomyrmex": providerserver.NewProtocol6WithError(New("test")()),
}

// providersWithClock is testAccProviders with an injected clock.
func providersWithClock(c clock.Clock) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"codomyrmex": providerserver.NewProtocol6WithError(newWithClock("test", c)()),
	}
}

func TestMain(m *testing.M) {
	SilenceUnreadFrameworkLogs() // as main does
	// A CLI config file that does not exist makes tofu print a warning that
	// breaks plugin-testing's version check; give it an empty one.
	if os.Getenv("TF_ACC") != "" {
		if p := os.Getenv("TF_CLI_CONFIG_FILE"); p == "" || !fileExists(p) {
			f, err := os.CreateTemp("", "codomyrmex-cli-*.tfrc")
			if err == nil {
				_ = f.Close()
				os.Setenv("TF_CLI_CONFIG_FILE", f.Name())
				defer os.Remove(f.Name())
			}
		}
	}
	os.Exit(m.Run())
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// testFleet is a simulated fleet served on 127.0.0.1 for one test.
type testFleet struct {
	*simulator.Fleet
	URL string
}

func newTestFleet(t *testing.T, n int, initialVersion string) *testFleet { //nolint:unparam // tests read better with the version spelled out
	t.Helper()
	f := simulator.NewFleet(simulator.FleetConfig{Targets: n, InitialVersion: initialVersion})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	return &testFleet{Fleet: f, URL: srv.URL}
}

// targets renders the HCL list of the fleet's first n targets; slot, when
// set, is an HCL expression of i (1-based).
func (f *testFleet) targets(n int, slot string) string {
	if slot == "" {
		return fmt.Sprintf(`[for i in range(1, %d) : { id = "t${i}", address = "%s/t/t${i}" }]`, n+1, f.URL)
	}
	return fmt.Sprintf(`[for i in range(1, %d) : { id = "t${i}", address = "%s/t/t${i}", slot = %s }]`, n+1, f.URL, slot)
}

// flagPublishedAndAll checks that the flag is published at pct and that
// the fleet's first n targets run version.
func (f *testFleet) flagPublishedAndAll(flag string, pct float64, n int, version string) error { //nolint:unparam // tests read better with the version spelled out
	if fl, ok := f.Flag(flag); !ok || fl.Percentage != pct {
		return fmt.Errorf("flag %s = %+v (present %v), want published at %v%%", flag, fl, ok, pct)
	}
	return f.expectAll(n, version)
}

// deploysOf counts the deploy calls the fleet accepted for version.
func (f *testFleet) deploysOf(version string) int {
	n := 0
	for _, d := range f.Deploys() {
		if d.Version == version {
			n++
		}
	}
	return n
}

// deployOrder lists the targets that received version, in call order.
func (f *testFleet) deployOrder(version string) []string {
	var ids []string
	for _, d := range f.Deploys() {
		if d.Version == version {
			ids = append(ids, d.Target)
		}
	}
	return ids
}

func (f *testFleet) expectVersions(want map[string]string) error {
	got := f.Versions()
	var diffs []string
	for id, v := range want {
		if got[id] != v {
			diffs = append(diffs, fmt.Sprintf("%s runs %q, want %q", id, got[id], v))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("fleet: %s", strings.Join(diffs, "; "))
	}
	return nil
}

func (f *testFleet) expectAll(n int, version string) error {
	want := map[string]string{}
	for i := 1; i <= n; i++ {
		want[fmt.Sprintf("t%d", i)] = version
	}
	return f.expectVersions(want)
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("t%d", i+1)
	}
	return out
}

// errorPattern matches an error text whatever the CLI's line wrapping: a
// space in p matches any run of whitespace.
func errorPattern(p string) *regexp.Regexp {
	return regexp.MustCompile("(?s)" + strings.ReplaceAll(p, " ", `\s+`))
}

var testEpoch = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
