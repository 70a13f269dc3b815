package provider

// Acceptance tests of analysis (docs/guides/prometheus-analysis.md) through the real CLIs: the
// windows of every strategy, no_data, several samples, dry_run,
// failure_limit and an unreachable Prometheus, against the simulated fleet
// under synthetic traffic and a real Prometheus (or a web check of the
// test's own).

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// webCheck is a web metric's endpoint: it answers {"ok": true|false} as
// pass says for the n-th request (1-based) since the last reset, and
// counts the requests and the versions they asked about.
type webCheck struct {
	URL  string
	mu   sync.Mutex
	pass func(n int) bool
	seen []string // the version query parameter of each request
}

func newWebCheck(t *testing.T, pass func(n int) bool) *webCheck {
	t.Helper()
	w := &webCheck{pass: pass}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.seen = append(w.seen, r.URL.Query().Get("version"))
		ok := w.pass(len(w.seen))
		w.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(rw, `{"ok": %t}`, ok)
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL + "/check"
	return w
}

// reset forgets the requests and answers with pass from now on.
func (w *webCheck) reset(pass func(n int) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen, w.pass = nil, pass
}

// expectRequests checks that the endpoint was asked n times since the last
// reset, each time about version.
func (w *webCheck) expectRequests(n int, version string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.seen) != n {
		return fmt.Errorf("web check asked %d times (%v), want %d", len(w.seen), w.seen, n)
	}
	for i, v := range w.seen {
		if v != version {
			return fmt.Errorf("web check request %d asked about version %q, want %q", i+1, v, version)
		}
	}
	return nil
}

// metric renders the web metric "smoke": {"ok": true} passes.
func (w *webCheck) metric(failureLimit int) string {
	return fmt.Sprintf(`{
        name          = "smoke"
        equals        = "true"
        failure_limit = %d
        web           = { url = "%s?version={{version}}", json_path = "ok" }
      }`, failureLimit, w.URL)
}

func always(ok bool) func(int) bool { return func(int) bool { return ok } }

// analysisBlock renders analysis with its timings and metrics.
func analysisBlock(interval, initialDelay string, metrics ...string) string { //nolint:unparam // the interval is spelled out where the window's measurements are counted
	return fmt.Sprintf(`
  analysis = {
    interval      = %q
    initial_delay = %q
    metrics       = [%s]
  }`, interval, initialDelay, joinHCL(metrics))
}

func joinHCL(items []string) string {
	out := ""
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// promMetric renders a Prometheus metric of the fleet's Prometheus; attrs
// holds its threshold and other arguments.
func (f *metricsFleet) promMetric(name, query, attrs string) string {
	return fmt.Sprintf(`{
        name       = %q
        %s
        prometheus = { address = %q, query = %q }
      }`, name, attrs, f.prom.URL, query)
}

// planChecks runs checks on the plan of a PlanOnly step.
func planChecks(checks ...plancheck.PlanCheck) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PostApplyPreRefresh: checks}
}

// TestAccAnalysis_rollingBatchDelayWindow: the error rate of a bad version
// is measured in the batch_delay window of the first batch and fails it;
// only t1 got the version and it runs the old one again.
func TestAccAnalysis_rollingBatchDelayWindow(t *testing.T) {
	f := newMetricsFleet(t, 3, "1.0.0", map[string]float64{"2.1.0-bad": 0.2})
	cfg := func(version string) string {
		return hcl{fleet: f.testFleet, version: version, targets: f.targets(3, ""), body: fmt.Sprintf(`
  rolling = { batch_size = 1, batch_delay = "3s" }
%s
`, analysisBlock("1s", "3s", f.errorRateMetric("0.05")))}.String()
	}
	accTest(t, []resource.TestStep{
		{
			Config: cfg("2.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				analysisResultIs(0, "stage", knownvalue.StringExact("bake")),
				analysisResultIs(0, "value", knownvalue.StringExact("0")),
			},
			Check: fleetCheck(func() error { return f.expectAll(3, "2.0.0") }),
		},
		{
			Config: cfg("2.1.0-bad"),
			ExpectError: errorPattern(`at batch 1/3\. .*batch 1/3: analysis failed: metric "error-rate" failed 1 measurement \(failure_limit 0\): ` +
				`0\.[12][0-9]* \(above max 0\.05\); targets running 2\.1\.0-bad: t1; rolled back to 2\.0\.0: t1`),
		},
		{
			Config:   cfg("2.0.0"),
			PlanOnly: true,
			ConfigPlanChecks: planChecks(
				priorValues{deploymentAddr, map[string]any{"version": "2.0.0", "target_versions": versionsMap("2.0.0", ids(3)...)}},
				fleetPlanCheck(func() error {
					if got := f.deployOrder("2.1.0-bad"); !slices.Equal(got, []string{"t1"}) {
						return fmt.Errorf("2.1.0-bad was deployed to %v, want only t1", got)
					}
					return f.expectAll(3, "2.0.0")
				}),
			),
		},
	})
}

// TestAccAnalysis_blueGreenBake: after the switch to the bad version's
// slot, the bake fails: traffic goes back to the old slot, active_slot
// with it, and the slot that got the bad version runs what it ran before.
func TestAccAnalysis_blueGreenBake(t *testing.T) {
	f := newMetricsFleet(t, 4, "1.0.0", map[string]float64{"2.1.0-bad": 0.2})
	cfg := func(version string) string {
		return hcl{fleet: f.testFleet, version: version, targets: f.targets(4, `i <= 2 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router" }
  bake       = "3s"
%s
`, f.URL, analysisBlock("1s", "3s", f.errorRateMetric("0.05")))}.String()
	}
	accTest(t, []resource.TestStep{
		{
			Config: cfg("2.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("active_slot", knownvalue.StringExact("green")),
				analysisResultIs(0, "passed", knownvalue.Bool(true)),
			},
			Check: fleetCheck(func() error {
				if err := routerAt(f.testFleet, "green", "2.0.0"); err != nil {
					return err
				}
				return f.expectVersions(map[string]string{"t1": "1.0.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0"})
			}),
		},
		{
			Config: cfg("2.1.0-bad"),
			ExpectError: errorPattern(`at bake\. .*bake: analysis failed: metric "error-rate" failed 1 measurement \(failure_limit 0\): ` +
				`0\.[12][0-9]* \(above max 0\.05\); targets running 2\.1\.0-bad: t1, t2`),
		},
		{
			Config:   cfg("2.0.0"),
			PlanOnly: true,
			ConfigPlanChecks: planChecks(
				priorValues{deploymentAddr, map[string]any{"version": "2.0.0", "active_slot": "green"}},
				fleetPlanCheck(func() error {
					// Switched to blue for the bad version, then back.
					if err := routerAtAfter(f.testFleet, "green", "2.0.0", 3); err != nil {
						return err
					}
					if got := f.deployOrder("2.1.0-bad"); len(got) != 2 {
						return fmt.Errorf("2.1.0-bad was deployed to %v, want t1 and t2", got)
					}
					return f.expectVersions(map[string]string{"t1": "1.0.0", "t2": "1.0.0", "t3": "2.0.0", "t4": "2.0.0"})
				}),
			),
		},
	})
}

// TestAccAnalysis_featureFlagBake: a web check fails the bake after the
// publish at 80 %: the flag goes back to the percentage it had before the
// apply (50: a flag gates a feature, whatever the version) and the targets
// to the version they ran.
func TestAccAnalysis_featureFlagBake(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	check := newWebCheck(t, always(true))
	var during atomic.Int64
	cfg := func(version string, rollout int) string {
		return hcl{fleet: f, version: version, targets: f.targets(2, ""), body: fmt.Sprintf(`
  feature_flag = { flag_name = "checkout", initial_rollout = %d }
  bake         = "1s"
%s
`, rollout, analysisBlock("1s", "0s", check.metric(0)))}.String()
	}
	accTest(t, []resource.TestStep{
		{
			Config: cfg("2.0.0", 50),
			Check: resource.ComposeTestCheckFunc(
				fleetCheck(func() error { return f.flagPublishedAndAll("checkout", 50, 2, "2.0.0") }),
				// Measured at 0 s and at the end of the 1 s bake.
				fleetCheck(func() error { return check.expectRequests(2, "2.0.0") }),
			),
		},
		{
			PreConfig: func() {
				// Fail, and record the flag the bake measures under.
				check.reset(func(int) bool {
					fl, _ := f.Flag("checkout")
					during.Store(int64(fl.Percentage))
					return false
				})
			},
			Config: cfg("2.1.0", 80),
			ExpectError: errorPattern(`at bake\. .*bake: analysis failed: metric "smoke" failed 1 measurement \(failure_limit 0\): ` +
				`false \(not equal to true\); required equals true; targets running 2\.1\.0: t1, t2`),
		},
		// State keeps 2.0.0 at 50 %: the next plan deploys nothing and
		// publishes the flag at the 80 % configured.
		afterFailureStep(cfg("2.0.0", 80), func() {
			expectFleet(t, check.expectRequests(1, "2.1.0"))
			if p := during.Load(); p != 80 {
				t.Errorf("the bake measured with the flag at %d%%, want 80%%", p)
			}
			if got := f.deploysOf("2.1.0"); got != 2 {
				t.Errorf("2.1.0 deployed %d times, want 2", got)
			}
			expectFleet(t, f.flagPublishedAndAll("checkout", 50, 2, "2.0.0"))
		}, plancheck.ResourceActionUpdate, nil,
			priorValues{deploymentAddr, map[string]any{"version": "2.0.0", "traffic_percentage": 50, "target_versions": versionsMap("2.0.0", ids(2)...)}}),
	})
}

// TestAccAnalysis_noDataAndSamples: an empty result and a NaN pass with
// no_data = "pass" and fail with "fail"; a vector of several samples
// fails whatever no_data says, naming the query.
func TestAccAnalysis_noDataAndSamples(t *testing.T) {
	f := newMetricsFleet(t, 1, "1.0.0", nil)
	const (
		empty   = `codomyrmex_sim_no_such_metric{deployment="{{deployment}}"}`
		nan     = `vector(0) / vector(0)`
		several = `codomyrmex_sim_request_duration_seconds_bucket`
	)
	cfg := func(version string, metrics ...string) string {
		return hcl{fleet: f.testFleet, version: version, targets: f.targets(1, ""), body: fmt.Sprintf(`
  rolling = { batch_size = 1 }
  bake    = "0s"
%s
`, analysisBlock("1s", "0s", metrics...))}.String()
	}
	passing := cfg("2.0.0",
		f.promMetric("empty", empty, `max = 1
        no_data = "pass"`),
		f.promMetric("nan", nan, `max = 1
        no_data = "pass"`))
	severalCfg := func(version string) string {
		return cfg(version, f.promMetric("several", several, `max = 1e9
        no_data = "pass"`))
	}
	noData := func(what string) knownvalue.Check {
		return knownvalue.ObjectExact(map[string]knownvalue.Check{
			"name":   knownvalue.StringExact(what),
			"value":  knownvalue.StringExact(""),
			"passed": knownvalue.Bool(true),
			"stage":  knownvalue.StringExact("bake"),
			"at":     knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
		})
	}
	stillOld := func() { expectFleet(t, f.expectAll(1, "2.0.0")) }
	accTest(t, []resource.TestStep{
		{
			Config: passing,
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("analysis_results", knownvalue.ListExact([]knownvalue.Check{noData("empty"), noData("nan")})),
			},
			Check: fleetCheck(func() error { return f.expectAll(1, "2.0.0") }),
		},
		{
			Config: cfg("3.0.0", f.promMetric("empty", empty, `max = 1`)),
			ExpectError: errorPattern(`bake: analysis failed: metric "empty" failed 1 measurement \(failure_limit 0\): ` +
				`no data: the query returned no samples \(no_data = fail\); targets running 3\.0\.0: t1`),
		},
		{
			PreConfig: stillOld,
			Config:    cfg("3.0.0", f.promMetric("nan", nan, `max = 1`)),
			ExpectError: errorPattern(`bake: analysis failed: metric "nan" failed 1 measurement \(failure_limit 0\): ` +
				`no data: NaN \(no_data = fail\); targets running 3\.0\.0: t1`),
		},
		{
			PreConfig: stillOld,
			Config:    severalCfg("3.0.0"),
			ExpectError: errorPattern(`bake: analysis failed: metric "several" failed 1 measurement \(failure_limit 0\): ` +
				`query "codomyrmex_sim_request_duration_seconds_bucket" returned [0-9]+ samples, want one`),
		},
		{
			Config:   severalCfg("2.0.0"),
			PlanOnly: true,
			ConfigPlanChecks: planChecks(
				priorValues{deploymentAddr, map[string]any{"version": "2.0.0", "target_versions": versionsMap("2.0.0", "t1")}},
				fleetPlanCheck(func() error {
					if got := f.deploysOf("3.0.0"); got != 3 {
						return fmt.Errorf("3.0.0 deployed %d times, want 3 (one per failed apply)", got)
					}
					return f.expectAll(1, "2.0.0")
				}),
			),
		},
	})
}

// TestAccAnalysis_dryRun: with dry_run a bad version's error rate is
// measured and reported, and the rollout completes anyway.
func TestAccAnalysis_dryRun(t *testing.T) {
	f := newMetricsFleet(t, 2, "1.0.0", map[string]float64{"2.1.0-bad": 0.2})
	accTest(t, []resource.TestStep{{
		Config: hcl{fleet: f.testFleet, version: "2.1.0-bad", targets: f.targets(2, ""), body: fmt.Sprintf(`
  rolling = { batch_size = 1, batch_delay = "0s" }
  analysis = {
    interval      = "1s"
    initial_delay = "3s"
    dry_run       = true
    metrics       = [%s]
  }
`, f.errorRateMetric("0.05"))}.String(),
		ConfigStateChecks: []statecheck.StateCheck{
			stateIs("status", knownvalue.StringExact("completed")),
			stateIs("target_versions", allAt(2, "2.1.0-bad")),
			stateIs("analysis_results", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.ObjectExact(map[string]knownvalue.Check{
					"name":   knownvalue.StringExact("error-rate"),
					"value":  knownvalue.StringRegexp(regexp.MustCompile(`^0\.[12][0-9]*$`)),
					"passed": knownvalue.Bool(false),
					"stage":  knownvalue.StringExact("bake"),
					"at":     knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
				}),
			})),
		},
		Check: fleetCheck(func() error { return f.expectAll(2, "2.1.0-bad") }),
	}})
}

// TestAccAnalysis_failureLimit: a check that fails twice, then passes, in
// a 2 s bake measured every second (at 0, 1 and 2 s): failure_limit 1
// stops the rollout at the second measurement, failure_limit 2 lets the
// third one pass it.
func TestAccAnalysis_failureLimit(t *testing.T) {
	f := newTestFleet(t, 1, "1.0.0")
	failTwice := func(n int) bool { return n > 2 }
	check := newWebCheck(t, failTwice)
	cfg := func(limit int) string {
		return hcl{fleet: f, version: "2.0.0", targets: f.targets(1, ""), body: fmt.Sprintf(`
  rolling = { batch_size = 1 }
  bake    = "2s"
%s
`, analysisBlock("1s", "0s", check.metric(limit)))}.String()
	}
	accTest(t, []resource.TestStep{
		{
			Config: cfg(1),
			ExpectError: errorPattern(`bake: analysis failed: metric "smoke" failed 2 measurements \(failure_limit 1\): ` +
				`false \(not equal to true\), false \(not equal to true\); required equals true; targets running 2\.0\.0: t1`),
		},
		{
			PreConfig: func() {
				expectFleet(t, check.expectRequests(2, "2.0.0"))
				expectFleet(t, f.expectAll(1, "1.0.0"))
				check.reset(failTwice)
			},
			Config: cfg(2),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				analysisResultIs(0, "value", knownvalue.StringExact("true")),
				analysisResultIs(0, "passed", knownvalue.Bool(true)),
			},
			Check: resource.ComposeTestCheckFunc(
				fleetCheck(func() error { return check.expectRequests(3, "2.0.0") }),
				fleetCheck(func() error { return f.expectAll(1, "2.0.0") }),
			),
		},
	})
}

// TestAccAnalysis_prometheusDown: Prometheus stops between two applies.
// The plan only warns that it could not check the query; the apply counts
// the unreachable Prometheus (after the provider's retries) as a failed
// measurement and rolls back.
func TestAccAnalysis_prometheusDown(t *testing.T) {
	f := newMetricsFleet(t, 2, "1.0.0", nil)
	cfg := func(version string) string {
		return hcl{fleet: f.testFleet, provider: `retries = 1`, health: `{ interval = "10ms", timeout = "2s" }`, version: version, targets: f.targets(2, ""), body: fmt.Sprintf(`
  rolling = { batch_size = 2 }
%s
`, analysisBlock("1s", "3s", f.errorRateMetric("0.05")))}.String()
	}
	accTest(t, []resource.TestStep{
		{
			Config: cfg("2.0.0"),
			ConfigStateChecks: []statecheck.StateCheck{
				analysisResultIs(0, "passed", knownvalue.Bool(true)),
			},
		},
		{
			PreConfig: f.prom.Stop,
			Config:    cfg("3.0.0"),
			ExpectError: errorPattern(`Deployment failed .*bake: analysis failed: metric "error-rate" failed 1 measurement \(failure_limit 0\): ` +
				regexp.QuoteMeta(`prometheus at `+f.prom.URL) + ` unreachable or failed: [^;]*; targets running 3\.0\.0: t1, t2`),
		},
		{
			Config:   cfg("2.0.0"),
			PlanOnly: true,
			ConfigPlanChecks: planChecks(
				priorValues{deploymentAddr, map[string]any{"version": "2.0.0", "target_versions": versionsMap("2.0.0", ids(2)...)}},
				fleetPlanCheck(func() error {
					if got := f.deploysOf("3.0.0"); got != 2 {
						return fmt.Errorf("3.0.0 deployed %d times, want 2", got)
					}
					return f.expectAll(2, "2.0.0")
				}),
			),
		},
	})
}

// TestAccAnalysis_blueGreenBakeFailsSwitchBackRefused: a blue/green bake
// fails after the switch and the router refuses the switch back. The
// version that failed keeps the traffic, and the error says so and what to
// do, instead of promising a plan that would repair it: the next plan is
// empty, and setting version back to previous_version switches back.
func TestAccAnalysis_blueGreenBakeFailsSwitchBackRefused(t *testing.T) {
	f, events := newEventFleet(t, 4)
	wc := newWebCheck(t, always(true))
	config := func(version string) string {
		return hcl{fleet: f, version: version, targets: f.targets(4, `i <= 2 ? "blue" : "green"`), body: fmt.Sprintf(`
  blue_green = { router_url = "%s/router" }
  bake       = "0s"
%s
`, f.URL, analysisBlock("1s", "0s", wc.metric(0)))}.String()
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: config("1.0.0"),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("active_slot", knownvalue.StringExact("green")),
				},
			},
			{
				PreConfig: func() {
					wc.reset(always(false))
					events.rejectWith(func(e string) bool { return e == "switch green=1.0.0" })
				},
				Config:      config("2.0.0"),
				ExpectError: errorPattern(`switching traffic back to green.*The next plan proposes no change: "2\.0\.0" runs on the blue slot with 100% of the traffic, as state records\. To take the traffic off it, set version back to "1\.0\.0"\.`),
			},
			{
				Config:   config("2.0.0"),
				PlanOnly: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
					priorValues{deploymentAddr, map[string]any{"status": "failed", "version": "2.0.0", "active_slot": "blue", "traffic_percentage": 100}},
				}},
			},
			{
				PreConfig: func() { events.rejectWith(nil) },
				Config:    config("1.0.0"),
				Check: fleetCheck(func() error {
					if sw := f.Router().ActiveSlot; sw != "green" {
						return fmt.Errorf("router on %q after the revert, want green", sw)
					}
					return f.expectAll(4, "1.0.0")
				}),
			},
		},
	})
}
