package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/promtest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// metricsFleet is a simulated fleet under synthetic traffic, scraped every
// second by a real Prometheus.
type metricsFleet struct {
	*testFleet
	prom *promtest.Server
}

// newMetricsFleet starts n targets at initial serving rps requests per
// second, versions in errorRates answering that share with 5xx, and a
// Prometheus scraping them.
func newMetricsFleet(t *testing.T, n int, initial string, errorRates map[string]float64) *metricsFleet { //nolint:unparam // tests read better with the version spelled out
	t.Helper()
	f := simulator.NewFleet(simulator.FleetConfig{Targets: n, InitialVersion: initial})
	traffic := simulator.NewTraffic(f, simulator.TrafficConfig{RPS: 2000, ErrorRate: errorRates, Seed: 3})
	url, prom := promtest.StartFleet(t, f, traffic)
	return &metricsFleet{testFleet: &testFleet{Fleet: f, URL: url}, prom: prom}
}

// errorRateMetric is the usual error-rate metric of the guide: the share of
// the version's requests over the last 5 s that answered 5xx.
func (f *metricsFleet) errorRateMetric(limit string) string { //nolint:unparam // the threshold is spelled out where the error text quotes it
	return fmt.Sprintf(`{
        name = "error-rate"
        max  = %s
        prometheus = {
          address = %q
          query   = "(sum(rate(codomyrmex_sim_requests_total{deployment=\"{{deployment}}\",version=\"{{version}}\",code=~\"5..\"}[5s])) or vector(0)) / sum(rate(codomyrmex_sim_requests_total{deployment=\"{{deployment}}\",version=\"{{version}}\"}[5s]))"
        }
      }`, limit, f.prom.URL)
}

// canaryWithAnalysis is a canary of version over 4 targets with the
// error-rate metric measured 3 s after each stage (two scrapes of the new
// version's traffic).
func (f *metricsFleet) canaryWithAnalysis(version, extra string) string {
	return hcl{fleet: f.testFleet, version: version, targets: f.targets(4, ""), body: fmt.Sprintf(`
  canary  = { stages = [25, 50, 100], stage_interval = "3s", router_url = "%s/router" }
  analysis = {
    interval      = "1s"
    initial_delay = "3s"
    metrics       = [%s]
  }
%s
`, f.URL, f.errorRateMetric("0.05"), extra)}.String()
}

func TestAccAnalysis_badCanaryRolledBack(t *testing.T) {
	f := newMetricsFleet(t, 4, "1.0.0", map[string]float64{"2.1.0-bad": 0.2})
	accTest(t, []resource.TestStep{
		{Config: f.canaryWithAnalysis("2.0.0", "")},
		{
			Config: f.canaryWithAnalysis("2.1.0-bad", ""),
			ExpectError: regexp.MustCompile(`(?s)stage 1 \(25%\): analysis failed: metric "error-rate" failed 1\s+measurement\s+\(.*` +
				`0\.[12][0-9]*.*above max 0\.05\);\s+targets running 2\.1\.0-bad: t1`),
		},
		{
			// Fleet and router are back on 2.0.0, and state says so.
			Config:   f.canaryWithAnalysis("2.0.0", ""),
			PlanOnly: true,
			ConfigPlanChecks: planOnlyFleetChecks(func() error {
				if w := f.Router().Weights["2.1.0-bad"]; w != 0 {
					return fmt.Errorf("router weight of 2.1.0-bad = %v, want 0", w)
				}
				return f.expectAll(4, "2.0.0")
			}),
		},
	})
}

func TestAccAnalysis_goodCanaryCompletes(t *testing.T) {
	f := newMetricsFleet(t, 4, "1.0.0", nil)
	accTest(t, []resource.TestStep{{
		Config: f.canaryWithAnalysis("2.0.0", `  bake = "2s"`),
		ConfigStateChecks: []statecheck.StateCheck{
			stateIs("status", knownvalue.StringExact("completed")),
			stateIs("analysis_results", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.ObjectExact(map[string]knownvalue.Check{
					"name":   knownvalue.StringExact("error-rate"),
					"value":  knownvalue.StringExact("0"),
					"passed": knownvalue.Bool(true),
					"stage":  knownvalue.StringExact("bake"),
					"at":     knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
				}),
			})),
		},
		Check: fleetCheck(func() error { return f.expectAll(4, "2.0.0") }),
	}})
}
