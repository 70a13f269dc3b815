package provider

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// adoptedHosts are n real agents (agent.Host over HTTP) on hosts that run
// 1.0.0 installed without the agent: each keeps its version in a file its
// deploy command writes and its --version-exec reads. The deploy of
// failVersion fails on the last host.
type adoptedHosts struct {
	dir   string
	urls  []string
	files []string
}

func newAdoptedHosts(t *testing.T, n int, failVersion string) *adoptedHosts {
	t.Helper()
	h := &adoptedHosts{dir: t.TempDir()}
	for i := 1; i <= n; i++ {
		file := filepath.Join(h.dir, fmt.Sprintf("h%d.version", i))
		if err := os.WriteFile(file, []byte("1.0.0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		deploy := fmt.Sprintf(`echo "$CODOMYRMEX_VERSION" > '%s'`, file)
		if i == n {
			deploy = fmt.Sprintf(`test "$CODOMYRMEX_VERSION" != '%s' || exit 3; %s`, failVersion, deploy)
		}
		host, err := agent.NewHost(agent.HostConfig{Exec: deploy, VersionExec: fmt.Sprintf(`cat '%s'`, file), StateFile: file + ".state"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(protocol.NewTargetHandler(host, ""))
		t.Cleanup(srv.Close)
		h.urls = append(h.urls, srv.URL)
		h.files = append(h.files, file)
	}
	return h
}

func (h *adoptedHosts) config(version string) string {
	var targets []string
	for i, u := range h.urls {
		targets = append(targets, fmt.Sprintf(`{ id = "h%d", address = %q }`, i+1, u))
	}
	return fmt.Sprintf(`
resource "codomyrmex_deployment" "test" {
  name         = "web"
  version      = %q
  targets      = [%s]
  rolling      = { batch_size = 1, batch_delay = "0s" }
  health_check = { interval = "10ms", timeout = "2s" }
}
`, version, strings.Join(targets, ", "))
}

// expect checks what every host runs.
func (h *adoptedHosts) expect(version string) error {
	for _, f := range h.files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if got := strings.TrimSpace(string(b)); got != version {
			return fmt.Errorf("%s runs %s, want %s", filepath.Base(f), got, version)
		}
	}
	return nil
}

// TestAccAdopt_hostsAlreadyRunning: the first apply onto hosts that run
// 1.0.0 without ever having had a deploy from the agent knows 1.0.0 as
// previous_version, and a failure puts it back.
func TestAccAdopt_hostsAlreadyRunning(t *testing.T) {
	h := newAdoptedHosts(t, 3, "2.1.0-bad")
	accTest(t, []resource.TestStep{
		{
			Config:      h.config("2.1.0-bad"),
			ExpectError: regexp.MustCompile(`(?s)h3.*Rolled back to previous_version "[^"]+": h1, h2`),
		},
		{
			// plugin-testing runs no Check after an expected error.
			PreConfig: func() {
				if err := h.expect("1.0.0"); err != nil {
					t.Errorf("after the failed create: %v", err)
				}
			},
			Config: h.config("2.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("previous_version", knownvalue.StringExact("1.0.0")),
				stateIs("target_versions", knownvalue.MapExact(map[string]knownvalue.Check{
					"h1": knownvalue.StringExact("2.0.0"), "h2": knownvalue.StringExact("2.0.0"), "h3": knownvalue.StringExact("2.0.0"),
				})),
			},
			Check: fleetCheck(func() error { return h.expect("2.0.0") }),
		},
	})
}
