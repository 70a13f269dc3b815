package simulator

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// share returns the share of requests version got, and the share of them
// that answered 500.
func share(tr *Traffic, targets []string, version string) (got, errors float64) {
	var all, of, bad float64
	for _, id := range targets {
		for _, v := range []string{"1.0.0", "2.0.0", "2.1.0-bad"} {
			for _, code := range []string{"200", "500"} {
				n := testutil.ToFloat64(tr.requests.WithLabelValues("web", id, v, code))
				all += n
				if v == version {
					of += n
					if code == "500" {
						bad += n
					}
				}
			}
		}
	}
	if of == 0 {
		return of / all, 0
	}
	return of / all, bad / of
}

func deployAll(t *testing.T, f *Fleet, version string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := f.targets[id].Deploy(context.Background(), protocol.DeployRequest{Deployment: "web", Version: version}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTrafficFollowsTheRouter: requests go by the canary's weight, then to
// the blue/green slot the router switched to, and a bad version's error
// rate shows only on its own requests.
func TestTrafficFollowsTheRouter(t *testing.T) {
	t.Parallel()
	f := NewFleet(FleetConfig{Targets: 4, InitialVersion: "1.0.0"})
	ids := f.TargetIDs()
	deployAll(t, f, "1.0.0", ids...)
	deployAll(t, f, "2.1.0-bad", "t1")
	if err := (simRouter{f}).SetWeights(context.Background(), protocol.WeightsRequest{Deployment: "web", Version: "2.1.0-bad", Percentage: 25}); err != nil {
		t.Fatal(err)
	}
	tr := NewTraffic(f, TrafficConfig{ErrorRate: map[string]float64{"2.1.0-bad": 0.2}, Seed: 7})
	tr.ServeN(20000)
	got, errs := share(tr, ids, "2.1.0-bad")
	if math.Abs(got-0.25) > 0.02 || math.Abs(errs-0.2) > 0.02 {
		t.Fatalf("the canary got %.3f of the requests with %.3f errors; want 0.25 and 0.2", got, errs)
	}
	if _, errs := share(tr, ids, "1.0.0"); errs != 0 {
		t.Fatalf("the good version answered %.3f errors", errs)
	}

	g := NewFleet(FleetConfig{Targets: 4, InitialVersion: "1.0.0"})
	deployAll(t, g, "2.0.0", "t3", "t4")
	if err := (simRouter{g}).Switch(context.Background(), protocol.SwitchRequest{Deployment: "web", Slot: "green", Version: "2.0.0"}); err != nil {
		t.Fatal(err)
	}
	bg := NewTraffic(g, TrafficConfig{Seed: 7})
	bg.ServeN(1000)
	if got, _ := share(bg, g.TargetIDs(), "2.0.0"); got != 1 {
		t.Fatalf("after the switch the green slot got %.3f of the requests, want all", got)
	}
}

// TestTrafficWithoutRouterIsEven: without a router every target serves.
func TestTrafficWithoutRouterIsEven(t *testing.T) {
	t.Parallel()
	f := NewFleet(FleetConfig{Targets: 4, InitialVersion: "1.0.0"})
	tr := NewTraffic(f, TrafficConfig{Seed: 3})
	tr.ServeN(4000)
	for _, id := range f.TargetIDs() {
		n := testutil.ToFloat64(tr.requests.WithLabelValues("", id, "1.0.0", "200"))
		if math.Abs(n-1000) > 100 {
			t.Errorf("%s served %v requests, want about 1000", id, n)
		}
	}
	// /metrics serves them in the Prometheus text format.
	rec := httptest.NewRecorder()
	tr.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`codomyrmex_sim_requests_total{code="200",deployment="",target="t1",version="1.0.0"}`,
		`codomyrmex_sim_request_duration_seconds_bucket{deployment="",target="t1",version="1.0.0",le="0.025"}`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, rec.Body.String())
		}
	}
}
