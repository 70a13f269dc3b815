package provider

// The fault matrix of RELIABILITY.md: every case injects one fault into the
// simulated fleet, asserts the apply's outcome and error text, what was
// rolled back, and that the saved state equals the fleet, both as saved by
// the failed apply (the prior state of a -refresh=false plan) and after a
// refresh, together with the plan that follows.

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// TestAccReliability_deployAnswers500: a target answers 500 to the deploy
// in the second batch of an update. The apply fails naming the batch and
// the target, every target touched goes back to the previous version, and
// state keeps the previous version so the next plan proposes the update to
// every target again.
func TestAccReliability_deployAnswers500(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	update := failedUpdate{f: f, n: 4, batch: 2, target: "t3", fault: simulator.Fault{DeployStatus: 500, FailVersion: "3.0.0"}}
	accTest(t, append(update.steps(t, `failed at batch 2/2.*Failed targets: t3.*HTTP 500.*simulated deploy failure.*Rolled back to previous_version "[^"]+": t1, t2, t3, t4`, nil),
		resource.TestStep{
			Config: update.config("3.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("target_versions", allAt(4, "3.0.0")),
				stateIs("previous_version", knownvalue.StringExact("2.0.0")),
			},
		},
	))
}

// failedUpdate is a rolling deployment of the fault matrix over the first
// n targets of f, batch at a time, whose update from 2.0.0 to 3.0.0 fails
// at target with fault.
type failedUpdate struct {
	f        *testFleet
	n, batch int
	target   string
	fault    simulator.Fault
}

func (u failedUpdate) config(version string) string {
	return faultHCL(hcl{fleet: u.f, body: rollingArgs(u.f, u.n, u.batch, hclString(version))})
}

// steps are the create at 2.0.0, the update that fails with an error
// matching errText, and the plans after it: every target is back at 2.0.0
// (and more checks the fleet if set) and state keeps 2.0.0 everywhere.
func (u failedUpdate) steps(t *testing.T, errText string, more func()) []resource.TestStep {
	return []resource.TestStep{
		{Config: u.config("2.0.0")},
		{
			PreConfig:   func() { u.f.SetFault(u.target, u.fault) },
			Config:      u.config("3.0.0"),
			ExpectError: errorPattern(errText),
		},
		afterFailure(u.config("3.0.0"), func() {
			expectFleet(t, u.f.expectAll(u.n, "2.0.0"))
			if more != nil {
				more()
			}
			u.f.ClearFaults()
		}, savedState{f: u.f, version: "2.0.0", targets: ids(u.n)}, plancheck.ResourceActionUpdate, ids(u.n)...),
	}
}

// TestAccReliability_callTimesOut: a deploy hangs past request_timeout. The
// call fails as a timeout (retried once), the batch fails, and t1 and t2 are
// rolled back; t3 is never started.
func TestAccReliability_callTimesOut(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	update := failedUpdate{f: f, n: 3, batch: 1, target: "t2", fault: simulator.Fault{Hang: 3 * time.Second, FailVersion: "3.0.0"}}
	accTest(t, update.steps(t, `failed at batch 2/3.*Failed targets: t2.*giving up after 2 attempts, last error: no answer within the request timeout \(1s\).*Rolled back to previous_version "[^"]+": t1, t2`, func() {
		if got := f.deployOrder("3.0.0"); !slices.Equal(got, []string{"t1"}) {
			t.Errorf("deploys of 3.0.0 accepted: %v, want only t1 (t2 timed out, t3 never started)", got)
		}
	}))
}

// closedAddress returns an http:// address on 127.0.0.1 where nothing
// listens, so that connections are refused: port 1 (tcpmux), which no test
// binds. A port picked free with :0 could be taken meanwhile by a server
// of a parallel test.
func closedAddress(t *testing.T) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", refusedAddr, time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("something listens on %s: the test needs a port that refuses connections", refusedAddr)
	}
	return "http://" + refusedAddr
}

const refusedAddr = "127.0.0.1:1"

// TestAccReliability_connectionRefused: the third target refuses
// connections. Create reads previous_version from the two others, the
// rollout fails at t3, t1 and t2 are rolled back but t3 cannot be: the
// apply saves the honest state (t3 unknown) and Terraform taints it.
func TestAccReliability_connectionRefused(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	dead := closedAddress(t)
	cfg := faultHCL(hcl{fleet: f, body: fmt.Sprintf(`
  version    = "2.0.0"
  targets    = concat(%s, [{ id = "t3", address = %q }])
  rolling    = { batch_size = 1, batch_delay = "0s" }
  on_destroy = "none"
`, f.targets(2, ""), dead)})
	accTest(t, []resource.TestStep{
		{
			Config: cfg,
			ExpectError: errorPattern(`failed at batch 3/3.*Failed targets: t3.*rollback to 1.0.0 incomplete: restored t1, t2; not restored: t3.*` +
				`deploy of 2.0.0.*connection refused.*Rolled back to previous_version "[^"]+": t1, t2.*rollback: target t3: rollback to 1.0.0.*connection refused`),
		},
		afterFailure(cfg, func() {
			expectFleet(t, f.expectAll(2, "1.0.0"))
		}, savedState{f: f, version: "1.0.0", targets: []string{"t1", "t2"}, tainted: true},
			plancheck.ResourceActionDestroyBeforeCreate, "t1", "t2", "t3"),
	})
}

// TestAccReliability_healthFlaps: t2's health alternates healthy and
// unhealthy on every call. The provider keeps polling until a healthy
// answer, so the rollout completes without a rollback or a second deploy,
// and a refresh that meets an unhealthy answer keeps the last known version
// (a warning, not drift).
func TestAccReliability_healthFlaps(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	cfg := func(version string) string {
		// The exact call count below must not depend on the machine's
		// load: 10s per call, so that no health call is ever retried.
		return strings.Replace(faultHCL(hcl{fleet: f, body: rollingArgs(f, 3, 1, hclString(version))}), `request_timeout = "1s"`, `request_timeout = "10s"`, 1)
	}
	flap := func() { f.SetFault("t2", simulator.Fault{FlapEvery: 1}) }
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             fleetCheck(func() error { return f.expectAll(3, "2.0.0") }),
		Steps: []resource.TestStep{
			{
				// Create reads t2 (healthy), deploys it, then polls: unhealthy, healthy.
				PreConfig: flap,
				Config:    cfg("2.0.0"),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("status", knownvalue.StringExact("completed")),
					stateIs("targets_failed", knownvalue.Int64Exact(0)),
					stateIs("target_versions", allAt(3, "2.0.0")),
				},
				Check: fleetCheck(func() error {
					// 3 reads, then one healthy poll each, plus t2's unhealthy one.
					if n := f.Calls()[simulator.CallHealth]; n != 7 {
						return fmt.Errorf("%d health calls, want 7: the flap was not polled through", n)
					}
					if got := f.deployOrder("2.0.0"); !slices.Equal(got, ids(3)) {
						return fmt.Errorf("deploys of 2.0.0: %v, want one per target in order", got)
					}
					if n := f.deploysOf("1.0.0"); n != 0 {
						return fmt.Errorf("%d rollback deploys of 1.0.0 for a flapping but recovering target", n)
					}
					return f.expectAll(3, "2.0.0")
				}),
			},
			{
				// The refresh meets t2's unhealthy half: a warning, not drift.
				PreConfig: func() {
					flap()
					consumeHealth(t, f, "t2")
				},
				Config:   cfg("2.0.0"),
				PlanOnly: true,
			},
			{
				// An update through the flapping target completes too.
				PreConfig:        flap,
				Config:           cfg("3.0.0"),
				ConfigPlanChecks: changesPlanned(idList(ids(3)...)),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("status", knownvalue.StringExact("completed")),
					stateIs("target_versions", allAt(3, "3.0.0")),
				},
				Check: fleetCheck(func() error { f.ClearFaults(); return f.expectAll(3, "3.0.0") }),
			},
		},
	})
}

// consumeHealth makes one health call to target id, moving its flap on.
func consumeHealth(t *testing.T, f *testFleet, id string) {
	t.Helper()
	resp, err := http.Get(f.URL + "/t/" + id + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestAccReliability_wrongVersion: t2 accepts the deploy but its health
// keeps reporting another version. With expect_version on, t2 never becomes
// healthy: the create fails at t2's batch, t1 and t2 are rolled back, t3 is
// never touched, and nothing is saved.
func TestAccReliability_wrongVersion(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	cfg := faultHCL(hcl{fleet: f, body: rollingArgs(f, 3, 1, `"2.0.0"`)})
	accTest(t, []resource.TestStep{
		{
			PreConfig: func() { f.SetFault("t2", simulator.Fault{ReportVersion: "9.9.9", FailVersion: "2.0.0"}) },
			Config:    cfg,
			ExpectError: errorPattern(`failed at batch 2/3.*Failed targets: t2.*not healthy within 1s.*` +
				`reports version "9.9.9", want "2.0.0".*Rolled back to previous_version "[^"]+": t1, t2`),
		},
		afterFailure(cfg, func() {
			expectFleet(t, f.expectAll(3, "1.0.0"))
			if n := f.deploysOf("2.0.0"); n != 2 {
				t.Errorf("%d deploys of 2.0.0, want 2 (t1, t2; t3 never started)", n)
			}
		}, savedState{f: f, absent: true}, plancheck.ResourceActionCreate, ids(3)...),
	})
}

// TestAccReliability_routerDownDuringSwitch: blue/green with the router
// down. The idle (blue) slot gets the new version, the switch fails, and
// since the router may or may not have switched, the provider does not
// downgrade the slot that may serve traffic: it tries to switch back, which
// fails too, so the blue targets keep the new version and the state says so
// (version 2.0.0, active_slot green, t1 and t2 at 3.0.0). Once the router
// is back the next apply completes the switch.
func TestAccReliability_routerDownDuringSwitch(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	cfg := func(version string) string {
		return faultHCL(hcl{fleet: f, version: version, targets: f.targets(4, `i <= 2 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router" }
`, f.URL)})
	}
	accTest(t, []resource.TestStep{
		{Config: cfg("2.0.0")},
		{
			PreConfig: func() { f.SetRouterDown(true) },
			Config:    cfg("3.0.0"),
			ExpectError: errorPattern(`failed at switch.*switching traffic to blue.*giving up after 2 attempts.*HTTP 503.*` +
				`rollback to 2.0.0 incomplete: restored none; not restored: t1, t2.*Nothing was rolled back.*` +
				`rollback: switching traffic back to green.*HTTP 503`),
		},
		afterFailure(cfg("3.0.0"), func() {
			expectFleet(t, f.expectVersions(map[string]string{"t1": "3.0.0", "t2": "3.0.0", "t3": "2.0.0", "t4": "2.0.0"}))
			expectFleet(t, routerAtAfter(f, "green", "2.0.0", 1))
			f.SetRouterDown(false)
		}, savedState{f: f, version: "2.0.0", targets: ids(4)}, plancheck.ResourceActionUpdate),
		{
			// Nothing left to deploy, but the switch is still owed.
			Config: cfg("3.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("active_slot", knownvalue.StringExact("blue")),
				stateIs("version", knownvalue.StringExact("3.0.0")),
				stateIs("previous_version", knownvalue.StringExact("2.0.0")),
			},
			Check: fleetCheck(func() error { return routerAt(f, "blue", "3.0.0") }),
		},
	})
}

// TestAccReliability_blueGreenTopUp: targets added to the active slot
// while the version stays. The apply deploys them and switches nothing, so
// it succeeds with the router down. A new target that fails is restored and
// traffic stays on the active slot; the router is never called. (The
// provider once switched to the already active slot here and, when that
// failed, sent traffic to the idle slot's old version; later it saved the
// old version after a failed top-up, so the next apply switched slots.)
func TestAccReliability_blueGreenTopUp(t *testing.T) {
	f := newTestFleet(t, 6, "1.0.0")
	cfg := func(n int) string {
		return faultHCL(hcl{fleet: f, version: "2.0.0", targets: f.targets(n, `i <= 2 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router" }
`, f.URL)})
	}
	// The create's one switch, and no other.
	routerUntouched := func() error { return routerAtAfter(f, "green", "2.0.0", 1) }
	accTest(t, []resource.TestStep{
		{Config: cfg(4)},
		{
			PreConfig:        func() { f.SetRouterDown(true) },
			Config:           cfg(5),
			ConfigPlanChecks: changesPlanned(idList("t5")),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("active_slot", knownvalue.StringExact("green")),
				stateIs("version", knownvalue.StringExact("2.0.0")),
				stateIs("previous_version", knownvalue.StringExact("1.0.0")),
				stateIs("traffic_percentage", knownvalue.Float64Exact(100)),
				stateIs("targets_updated", knownvalue.Int64Exact(1)),
			},
			Check: resource.ComposeTestCheckFunc(
				fleetCheck(routerUntouched),
				fleetCheck(func() error {
					return f.expectVersions(map[string]string{"t1": "1.0.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0", "t5": "2.0.0"})
				}),
			),
		},
		{
			PreConfig: func() { f.SetFault("t6", simulator.Fault{DeployStatus: 500, FailVersion: "2.0.0"}) },
			Config:    cfg(6),
			ExpectError: errorPattern(`failed at green slot.*Failed targets: t6.*green slot: t6 failed; traffic stays on green.*` +
				`Rolled back to previous_version "[^"]+": t6`),
		},
		afterFailure(cfg(6), func() {
			expectFleet(t, routerUntouched())
			expectFleet(t, f.expectVersions(map[string]string{"t1": "1.0.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0", "t5": "2.0.0", "t6": "1.0.0"}))
			f.ClearFaults()
			f.SetRouterDown(false)
		}, savedState{f: f, version: "2.0.0", targets: ids(6)}, plancheck.ResourceActionUpdate, "t6"),
		{
			// The failed top-up stays a top-up (it once saved 1.0.0 and
			// the next apply switched to the idle slot instead).
			Config: cfg(6),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("active_slot", knownvalue.StringExact("green")),
				stateIs("version", knownvalue.StringExact("2.0.0")),
				stateIs("previous_version", knownvalue.StringExact("1.0.0")),
			},
			Check: resource.ComposeTestCheckFunc(
				fleetCheck(routerUntouched),
				fleetCheck(func() error {
					return f.expectVersions(map[string]string{"t1": "1.0.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0", "t5": "2.0.0", "t6": "2.0.0"})
				}),
			),
		},
	})
}

// TestAccReliability_flagServiceDown: a feature_flag rollout whose flag
// service is down. Every target gets the version, publishing fails, and the
// rollback restores every target but cannot publish 0 %: the rollback is
// incomplete, so the create saves the honest state (every target back at
// 1.0.0) and is tainted. With the service back, the next apply replaces it.
func TestAccReliability_flagServiceDown(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	cfg := faultHCL(hcl{fleet: f, version: "2.0.0", targets: f.targets(3, ""), body: `
  feature_flag = { flag_name = "checkout", initial_rollout = 10 }
`})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy: fleetCheck(func() error {
			if fl, ok := f.Flag("checkout"); !ok || fl.Percentage != 0 {
				return fmt.Errorf("after destroy the flag is %+v (present %v), want 0%%", fl, ok)
			}
			return f.expectAll(3, "1.0.0")
		}),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { f.SetFlagsDown(true) },
				Config:    cfg,
				ExpectError: errorPattern(`failed at publish.*publishing flag "checkout" at 10%.*HTTP 503.*` +
					`not restored: traffic.*Rolled back to previous_version "[^"]+": t1, t2, t3.*rollback: publish flag "checkout" at 0%`),
			},
			afterFailure(cfg, func() {
				expectFleet(t, f.expectAll(3, "1.0.0"))
				if _, ok := f.Flag("checkout"); ok {
					t.Error("the flag was published while the flag service was down")
				}
				f.SetFlagsDown(false)
			}, savedState{f: f, version: "1.0.0", targets: ids(3), tainted: true},
				plancheck.ResourceActionDestroyBeforeCreate, ids(3)...),
			{
				Config: cfg,
				Check:  fleetCheck(func() error { return f.flagPublishedAndAll("checkout", 10, 3, "2.0.0") }),
			},
		},
	})
}

// TestAccReliability_flagServiceDownOnUpdate: an update without
// auto_rollback gets every target to the new version, then cannot publish
// the flag. The targets run the version, but the rollout is not done: with
// the service back, the next plan owes the publish and the apply makes it.
func TestAccReliability_flagServiceDownOnUpdate(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	cfg := func(version string) string {
		return faultHCL(hcl{fleet: f, version: version, targets: f.targets(3, ""), body: `
  auto_rollback = false
  feature_flag  = { flag_name = "checkout", initial_rollout = 10 }
`})
	}
	accTest(t, []resource.TestStep{
		{Config: cfg("1.5.0")},
		{
			PreConfig:   func() { f.SetFlagsDown(true) },
			Config:      cfg("2.0.0"),
			ExpectError: errorPattern(`failed at publish.*publishing flag "checkout" at 10%.*HTTP 503`),
		},
		{
			PreConfig: func() {
				expectFleet(t, f.expectAll(3, "2.0.0"))
				f.SetFlagsDown(false)
			},
			Config: cfg("2.0.0"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("previous_version", knownvalue.StringExact("1.5.0")),
			},
			Check: fleetCheck(func() error { return f.flagPublishedAndAll("checkout", 10, 3, "2.0.0") }),
		},
	})
}

// TestAccReliability_failAfterKDeploys: the fleet accepts three deploys of
// the new version, then answers 500. The rollout stops at the fourth
// target, the first four go back, the fifth is never touched, and the
// failed create saves nothing.
func TestAccReliability_failAfterKDeploys(t *testing.T) {
	f := newTestFleet(t, 5, "1.0.0")
	cfg := faultHCL(hcl{fleet: f, body: rollingArgs(f, 5, 1, `"2.0.0"`)})
	accTest(t, []resource.TestStep{
		{
			PreConfig: func() { f.SetFault("*", simulator.Fault{FailAfterDeploys: 3, FailVersion: "2.0.0"}) },
			Config:    cfg,
			ExpectError: errorPattern(`failed at batch 4/5.*Failed targets: t4.*HTTP 500.*accepted 3 deploys.*` +
				`Rolled back to previous_version "[^"]+": t1, t2, t3, t4`),
		},
		afterFailure(cfg, func() {
			expectFleet(t, f.expectAll(5, "1.0.0"))
			if got := f.deployOrder("2.0.0"); !slices.Equal(got, []string{"t1", "t2", "t3"}) {
				t.Errorf("deploys of 2.0.0 accepted: %v, want t1, t2, t3", got)
			}
			f.ClearFaults()
		}, savedState{f: f, absent: true}, plancheck.ResourceActionCreate, ids(5)...),
	})
}

// TestAccReliability_redirectToAnotherHost: t2 answers its deploy with a
// redirect to another host that also wants the token. The token is not
// sent across hosts, so that host answers 401, the apply fails naming t2,
// t1 and t2 are rolled back, and the other host never saw a credential.
func TestAccReliability_redirectToAnotherHost(t *testing.T) {
	const token = "tok-redirect-0c4f1b"
	f := newTokenFleet(t, 3, "1.0.0", token)
	other := newTokenFleet(t, 3, "1.0.0", token)
	// localhost rather than 127.0.0.1: another origin on the same machine.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	cfg := hcl{fleet: f, provider: faultProvider + "\n  " + fmt.Sprintf("token = %q", token), health: faultHealth, body: rollingArgs(f, 3, 1, `"2.0.0"`)}.String()
	accTest(t, []resource.TestStep{
		{
			PreConfig: func() {
				f.SetFault("t2", simulator.Fault{RedirectTo: otherURL + "/t/t2/v1/deploy", FailVersion: "2.0.0"})
			},
			Config:      cfg,
			ExpectError: errorPattern(`failed at batch 2/3.*Failed targets: t2.*HTTP 401.*Rolled back to previous_version "[^"]+": t1, t2`),
		},
		afterFailure(cfg, func() {
			expectFleet(t, f.expectAll(3, "1.0.0"))
			expectFleet(t, other.expectAll(3, "1.0.0"))
			if seen := other.SeenAuthorization(); len(seen) != 0 {
				t.Errorf("the other host received Authorization %q", seen)
			}
			if c := other.Calls()[simulator.CallDeploy]; c != 1 {
				t.Errorf("the other host received %d deploy calls, want the 1 redirected one (401 is final)", c)
			}
			if seen := f.SeenAuthorization(); !slices.Equal(seen, []string{"Bearer " + token}) {
				t.Errorf("the fleet saw Authorization %q, want the bearer token", seen)
			}
			f.ClearFaults()
		}, savedState{f: f, absent: true}, plancheck.ResourceActionCreate, ids(3)...),
	})
}

func newTokenFleet(t *testing.T, n int, version, token string) *testFleet {
	t.Helper()
	return serveFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: n, InitialVersion: version, Token: token}), nil)
}

// hostileHealth wraps a fleet so that the health call of target id answers
// body (with status 200) while the target runs version.
func hostileHealth(t *testing.T, n int, initial, id, version string, body func() []byte) *testFleet {
	t.Helper()
	fl := simulator.NewFleet(simulator.FleetConfig{Targets: n, InitialVersion: initial})
	return serveFleet(t, fl, func(inner http.Handler) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/t/"+id+"/v1/health" && fl.Versions()[id] == version {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body())
				return
			}
			inner.ServeHTTP(w, r)
		}
	})
}

// TestAccReliability_hostileHealthAnswers: a target whose health answers
// garbage, HTML, truncated JSON or more than 1 MiB once it runs the new
// version. Each is a clear error naming the target and the problem, never
// a panic; the create rolls back and saves nothing.
func TestAccReliability_hostileHealthAnswers(t *testing.T) {
	cases := map[string]struct {
		body func() []byte
		err  string
	}{
		"binary garbage": {func() []byte { return []byte("\x00\xff\xfe garbage \x1b[31m") }, `answer is not a health document: not a JSON object`},
		"html":           {func() []byte { return []byte("<html><body>502 Bad Gateway</body></html>") }, `answer is not a health document: not a JSON object`},
		"truncated json": {func() []byte { return []byte(`{"status": "ok", "version": "2.0`) }, `answer is not a health document: invalid JSON`},
		"json array":     {func() []byte { return []byte(`["ok", "2.0.0"]`) }, `answer is not a health document: not a JSON object`},
		"oversized": {func() []byte {
			return []byte(`{"status":"ok","version":"2.0.0","pad":"` + strings.Repeat("x", 2<<20) + `"}`)
		}, `response body exceeds 1 MiB`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := hostileHealth(t, 2, "1.0.0", "t2", "2.0.0", tc.body)
			cfg := faultHCL(hcl{fleet: f, version: "2.0.0", targets: f.targets(2, ""), body: `
  rolling      = { batch_size = 1, batch_delay = "0s" }
  health_check = { interval = "100ms", timeout = "300ms" }
`})
			accTest(t, []resource.TestStep{
				{
					Config:      cfg,
					ExpectError: errorPattern(`failed at batch 2/2.*Failed targets: t2.*not healthy within 300ms.*` + tc.err + `.*Rolled back to previous_version "[^"]+": t1, t2`),
				},
				afterFailure(cfg, func() {
					expectFleet(t, f.expectAll(2, "1.0.0"))
				}, savedState{f: f, absent: true}, plancheck.ResourceActionCreate, "t1", "t2"),
			})
		})
	}
}
