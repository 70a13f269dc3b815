package promtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// errorRatio is the share of version's requests over the last 5 s that
// answered 5xx, 0 when none did (and no sample while version has no
// traffic, or before Prometheus has two scrapes of it).
func errorRatio(version string) string {
	sel := fmt.Sprintf(`codomyrmex_sim_requests_total{version=%q`, version)
	return fmt.Sprintf(`(sum(rate(%s,code=~"5.."}[5s])) or vector(0)) / sum(rate(%s}[5s]))`, sel, sel)
}

// TestErrorRatioFromRealPrometheus: a real Prometheus scraping the
// simulated fleet's traffic sees the error rate configured for a bad
// version, and none for a good one.
func TestErrorRatioFromRealPrometheus(t *testing.T) {
	t.Parallel()
	fleet := simulator.NewFleet(simulator.FleetConfig{Targets: 4, InitialVersion: "1.0.0"})
	fleet.SetVersion("t1", "2.1.0-bad")
	traffic := simulator.NewTraffic(fleet, simulator.TrafficConfig{
		RPS:       4000,
		ErrorRate: map[string]float64{"2.1.0-bad": 0.2},
		Seed:      7,
	})
	_, prom := StartFleet(t, fleet, traffic)

	qctx, qcancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer qcancel()
	// Wait for three samples of the bad version's errors in the window, so
	// that the ratio rests on about 2000 of its requests.
	if _, err := prom.WaitForSample(qctx, `count_over_time(codomyrmex_sim_requests_total{version="2.1.0-bad",code="500"}[5s]) >= 3`); err != nil {
		t.Fatal(err)
	}
	for version, want := range map[string]float64{"2.1.0-bad": 0.2, "1.0.0": 0} {
		v, err := prom.WaitForSample(qctx, errorRatio(version))
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 1 || math.Abs(v[0].Value-want) > 0.05 || (want == 0 && v[0].Value != 0) {
			t.Errorf("%s: the error ratio is %v, want %v", version, v, want)
		}
	}
}

// TestStop: once stopped, queries fail with a connection error; Stop may
// be called again (the cleanup does).
func TestStop(t *testing.T) {
	t.Parallel()
	prom := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := prom.Query(ctx, "vector(1)")
	if err != nil || len(v) != 1 || v[0].Value != 1 {
		t.Fatalf("vector(1) = %v, %v", v, err)
	}
	if _, err := prom.Query(ctx, "sum("); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("a malformed query answered %v, want bad_data", err)
	}
	prom.Stop()
	prom.Stop()
	if _, err := prom.Query(ctx, "vector(1)"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("after Stop the query answered %v, want connection refused", err)
	}
	if _, err := prom.WaitForSample(ctx, "vector(1)"); err == nil || ctx.Err() != nil {
		t.Fatalf("after Stop WaitForSample answered %v (context: %v), want an error at once", err, ctx.Err())
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	var targets []scrapeTarget
	for _, s := range []string{"127.0.0.1:9000", "http://127.0.0.1:9001/metrics", "http://127.0.0.1:9002", "https://127.0.0.1:9003/m"} {
		st, err := parseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, st)
	}
	got := config(targets)
	want := `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: "codomyrmex"
    scheme: http
    metrics_path: "/metrics"
    static_configs:
      - targets:
          - "127.0.0.1:9000"
          - "127.0.0.1:9001"
          - "127.0.0.1:9002"
  - job_name: "codomyrmex-2"
    scheme: https
    metrics_path: "/m"
    static_configs:
      - targets:
          - "127.0.0.1:9003"
`
	if got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	for _, bad := range []string{"127.0.0.1", "ftp://h:1/", "http://h:1/m?x=1"} {
		if _, err := parseTarget(bad); err == nil {
			t.Errorf("parseTarget(%q) accepted it", bad)
		}
	}
}

func TestBinaryMissing(t *testing.T) {
	t.Setenv("CODOMYRMEX_PROMETHEUS", "")
	t.Setenv("CODOMYRMEX_CLI_CACHE", t.TempDir())
	_, err := Binary()
	if err == nil || !strings.Contains(err.Error(), "./scripts/install-clis.sh prometheus") {
		t.Fatalf("Binary() = %v, want an error naming ./scripts/install-clis.sh prometheus", err)
	}
}
