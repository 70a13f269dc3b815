package provider

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/caddytest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// caddyRecipe is the router command of the routing guide.
const caddyRecipe = "../../examples/guides/routing/caddy-router.sh"

// routedFleet is n real hosts behind a real Caddy, driven by a real
// router. Each host is one HTTP server: the agent (agent.Host, whose deploy
// command writes the version into the host's file) under /v1/, and the
// application, which answers GET / with the version in that file. Caddy
// balances over the hosts with weighted_round_robin; the router
// (agent.Router over HTTP) runs caddy-router.sh against Caddy's admin API.
// Every host runs 1.0.0 at the start, installed without the agent.
type routedFleet struct {
	files     []string
	addresses []string // the agents' protocol addresses
	slots     []string
	caddy     *caddytest.Server
	router    *agent.Router
	routerURL string
}

// newRoutedFleet starts n hosts whose slot is slot(i) (i from 1); the
// deploy of failVersion fails on host failHost.
func newRoutedFleet(t *testing.T, n int, slot func(i int) string, failHost int, failVersion string) *routedFleet {
	t.Helper()
	recipe, err := filepath.Abs(caddyRecipe)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &routedFleet{}
	var upstreams []string
	var targets strings.Builder
	for i := 1; i <= n; i++ {
		file := filepath.Join(dir, fmt.Sprintf("h%d.version", i))
		if err := os.WriteFile(file, []byte("1.0.0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		deploy := fmt.Sprintf(`echo "$CODOMYRMEX_VERSION" > '%s'`, file)
		if i == failHost {
			deploy = fmt.Sprintf(`test "$CODOMYRMEX_VERSION" != '%s' || { echo "cannot install $CODOMYRMEX_VERSION"; exit 3; }; %s`, failVersion, deploy)
		}
		host, err := agent.NewHost(agent.HostConfig{Exec: deploy, VersionExec: fmt.Sprintf(`cat '%s'`, file), StateFile: file + ".state"})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/v1/", protocol.NewTargetHandler(host, ""))
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
			b, err := os.ReadFile(file)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			_, _ = w.Write(b)
		})
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		addr := strings.TrimPrefix(srv.URL, "http://")
		f.files = append(f.files, file)
		f.addresses = append(f.addresses, srv.URL)
		f.slots = append(f.slots, slot(i))
		upstreams = append(upstreams, addr)
		fmt.Fprintf(&targets, "web %s %s %s\n", addr, slot(i), srv.URL)
	}
	targetsFile := filepath.Join(dir, "targets.conf")
	if err := os.WriteFile(targetsFile, []byte(targets.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f.caddy = caddytest.Start(t, caddytest.Config{Upstreams: upstreams, ID: "web"})
	f.router, err = agent.NewRouter(agent.RouterConfig{
		Exec:        fmt.Sprintf(`CADDY_ADMIN='%s' ROUTER_TARGETS='%s' exec bash '%s'`, f.caddy.AdminURL, targetsFile, recipe),
		StateFile:   filepath.Join(dir, "router.json"),
		ExecTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(protocol.NewRouterHandler(f.router, ""))
	t.Cleanup(srv.Close)
	f.routerURL = srv.URL
	return f
}

func (f *routedFleet) targets() string {
	var out []string
	for i, a := range f.addresses {
		t := fmt.Sprintf(`{ id = "h%d", address = %q`, i+1, a)
		if f.slots[i] != "-" {
			t += fmt.Sprintf(`, slot = %q`, f.slots[i])
		}
		out = append(out, t+" }")
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// versions is what each host runs, h1 first.
func (f *routedFleet) versions() []string {
	out := make([]string, len(f.files))
	for i, file := range f.files {
		b, err := os.ReadFile(file)
		if err != nil {
			out[i] = err.Error()
			continue
		}
		out[i] = strings.TrimSpace(string(b))
	}
	return out
}

// routedRequests is how many requests a share is measured on: weighted round
// robin splits any run as long as the sum of the weights exactly, and
// these sums stay small (at most 12 here), so the tolerance can be tight.
const (
	routedRequests = 400
	shareTolerance = 2.0 // percentage points
)

// share sends requests through Caddy and checks that version answered
// pct percent of them, and that every other answer is one of others.
func (f *routedFleet) share(version string, pct float64, others ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	counts, err := f.caddy.Tally(ctx, routedRequests)
	if err != nil {
		return fmt.Errorf("requests through Caddy: %w", err)
	}
	got := 100 * float64(counts[version]) / routedRequests
	if math.Abs(got-pct) > shareTolerance {
		return fmt.Errorf("%s answered %.1f%% of %d requests through Caddy, want %v%% (±%v); answers %v, hosts run %v",
			version, got, routedRequests, pct, shareTolerance, counts, f.versions())
	}
	for v := range counts {
		if v != version && !slices.Contains(others, v) {
			return fmt.Errorf("through Caddy %s answered %d requests, want only %s and %v: %v", v, counts[v], version, others, counts)
		}
	}
	return nil
}

// routerState checks what the router recorded for deployment web.
func (f *routedFleet) routerState(want string) error {
	r := f.router.State().Deployments["web"]
	var got string
	if r.Slot != "" {
		got = fmt.Sprintf("switch %s %s", r.Slot, r.Version)
	} else {
		var ws []string
		for v, p := range r.Weights {
			ws = append(ws, fmt.Sprintf("%s=%v", v, p))
		}
		sort.Strings(ws)
		got = "weights " + strings.Join(ws, ",")
	}
	if got != want {
		return fmt.Errorf("router state of web: %s, want %s", got, want)
	}
	return nil
}

// TestAccRouter_canaryThroughCaddy: a canary [25, 50, 100] with gates at
// 25 and 50 over five real hosts behind Caddy, the router running the
// guide's recipe. At each gate the share of requests Caddy sends to the new
// version is the stage's percentage (not the share of hosts running it:
// 2 of 5 at 25 %, 3 of 5 at 50 %). A later canary that moved traffic and
// then failed leaves every request on the old version.
func TestAccRouter_canaryThroughCaddy(t *testing.T) {
	f := newRoutedFleet(t, 5, func(int) string { return "-" }, 3, "3.0.0-bad")
	config := func(version, approve string) string {
		return fmt.Sprintf(`
resource "codomyrmex_deployment" "test" {
  name    = "web"
  version = %q
  targets = %s
  canary = {
    stages         = [25, 50, 100]
    stage_interval = "0s"
    router_url     = %q
    gates          = [{ at = 25 }, { at = 50 }]
  }
  %s
  health_check = { interval = "10ms", timeout = "5s" }
}
`, version, f.targets(), f.routerURL, approve)
	}
	approve := func(v string, through int) string {
		return fmt.Sprintf(`approve = { version = %q, through = %d }`, v, through)
	}
	paused := func(at float64) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			stateIs("status", knownvalue.StringExact("paused")),
			stateIs("paused_at", knownvalue.Float64Exact(at)),
			stateIs("traffic_percentage", knownvalue.Float64Exact(at)),
		}
	}
	accTest(t, []resource.TestStep{
		{
			Config:            config("2.0.0", ""),
			ConfigStateChecks: append(paused(25), stateIs("previous_version", knownvalue.StringExact("1.0.0"))),
			Check: fleetCheck(func() error {
				if err := f.routerState("weights 2.0.0=25"); err != nil {
					return err
				}
				return f.share("2.0.0", 25, "1.0.0")
			}),
		},
		{
			Config:            config("2.0.0", approve("2.0.0", 25)),
			ConfigStateChecks: paused(50),
			Check:             fleetCheck(func() error { return f.share("2.0.0", 50, "1.0.0") }),
		},
		{
			Config: config("2.0.0", approve("2.0.0", 50)),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
			},
			Check: fleetCheck(func() error { return f.share("2.0.0", 100) }),
		},
		{
			// The next release, approved through both gates up front,
			// sends 25 % to 3.0.0-bad on h1 and h2, then fails on h3 at
			// the second stage: the router takes the traffic back, and
			// the hosts go back to 2.0.0.
			Config:      config("3.0.0-bad", approve("3.0.0-bad", 50)),
			ExpectError: regexp.MustCompile(`(?s)h3.*cannot install 3\.0\.0-bad`),
		},
		{
			// plugin-testing runs no Check after an expected error.
			PreConfig: func() {
				if got := fmt.Sprint(f.versions()); got != "[2.0.0 2.0.0 2.0.0 2.0.0 2.0.0]" {
					t.Errorf("after the failed canary the hosts run %s", got)
				}
				if err := f.routerState("weights 3.0.0-bad=0"); err != nil {
					t.Error(err)
				}
				if err := f.share("2.0.0", 100); err != nil {
					t.Errorf("after the failed canary: %v", err)
				}
				// h1 and h2 run 2.0.0 again but kept the weight 0 of
				// 3.0.0-bad; applying the last route again (what
				// router --reapply-interval does) gives them traffic.
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				if w, err := f.caddy.Weights(ctx); err != nil || fmt.Sprint(w) != "[0 0 1 1 1]" {
					t.Errorf("Caddy's weights after the failed canary: %v, %v; want h1 and h2 at 0", w, err)
				}
				if err := f.router.Reapply(ctx); err != nil {
					t.Error(err)
				}
				if w, err := f.caddy.Weights(ctx); err != nil || fmt.Sprint(w) != "[1 1 1 1 1]" {
					t.Errorf("Caddy's weights after Reapply: %v, %v; want every host at 1", w, err)
				}
			},
			// The live version is 2.0.0; going back to it applies.
			Config: config("2.0.0", ""),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("version", knownvalue.StringExact("2.0.0")),
			},
			Check: fleetCheck(func() error { return f.share("2.0.0", 100) }),
		},
	})
}

// TestAccRouter_blueGreenThroughCaddy: each switch sends every request
// through Caddy to the new slot's version, and a release whose slot fails
// to deploy switches nothing.
func TestAccRouter_blueGreenThroughCaddy(t *testing.T) {
	slot := func(i int) string {
		if i <= 2 {
			return "blue"
		}
		return "green"
	}
	f := newRoutedFleet(t, 4, slot, 3, "2.2.0-bad")
	config := func(version string) string {
		return fmt.Sprintf(`
resource "codomyrmex_deployment" "test" {
  name         = "web"
  version      = %q
  targets      = %s
  blue_green   = { router_url = %q }
  health_check = { interval = "10ms", timeout = "5s" }
}
`, version, f.targets(), f.routerURL)
	}
	accTest(t, []resource.TestStep{
		{
			Config:            config("2.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{stateIs("active_slot", knownvalue.StringExact("green"))},
			Check: fleetCheck(func() error {
				if err := f.routerState("switch green 2.0.0"); err != nil {
					return err
				}
				return f.share("2.0.0", 100)
			}),
		},
		{
			Config:            config("2.1.0"),
			ConfigStateChecks: []statecheck.StateCheck{stateIs("active_slot", knownvalue.StringExact("blue"))},
			Check: fleetCheck(func() error {
				if got := fmt.Sprint(f.versions()); got != "[2.1.0 2.1.0 2.0.0 2.0.0]" {
					return fmt.Errorf("hosts run %s", got)
				}
				return f.share("2.1.0", 100)
			}),
		},
		{
			Config:      config("2.2.0-bad"),
			ExpectError: regexp.MustCompile(`(?s)h3.*cannot install 2\.2\.0-bad`),
		},
		{
			PreConfig: func() {
				if err := f.routerState("switch blue 2.1.0"); err != nil {
					t.Error(err)
				}
				if err := f.share("2.1.0", 100); err != nil {
					t.Errorf("after the failed release: %v", err)
				}
			},
			Config:             config("2.2.0-bad"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		},
	})
}
