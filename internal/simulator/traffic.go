package simulator

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// TrafficConfig shapes the synthetic requests a fleet serves, so that a
// real Prometheus scraping /metrics sees what a bad version does.
type TrafficConfig struct {
	// RPS is how many requests per second the fleet serves in all.
	RPS float64
	// ErrorRate maps a version to the share of its requests that answer
	// 5xx, in [0, 1].
	ErrorRate map[string]float64
	// Latency maps a version to the latency of its requests; others take
	// BaseLatency.
	Latency     map[string]time.Duration
	BaseLatency time.Duration
	// Seed makes the traffic reproducible (0: seed 1).
	Seed uint64
}

// RequestsMetric is the counter of the synthetic requests, and
// RequestsLabels its labels; RequestsSeries names both, as a query would.
const (
	RequestsMetric = "codomyrmex_sim_requests_total"
	RequestsSeries = RequestsMetric + "{deployment,target,version,code}"
)

// RequestsLabels are the labels of RequestsMetric.
var RequestsLabels = []string{"deployment", "target", "version", "code"}

// Traffic is synthetic load on a Fleet: requests spread over the targets by
// the router's weights (the slot or version it switched to; a canary's
// share for its version; evenly without a router), counted as
// codomyrmex_sim_requests_total{deployment, target, version, code} with a
// latency histogram.
type Traffic struct {
	fleet    *Fleet
	cfg      TrafficConfig
	rng      *rand.Rand
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	carry    float64
}

// NewTraffic returns the synthetic traffic of f; Run sends it, ServeN sends
// n requests at once.
func NewTraffic(f *Fleet, cfg TrafficConfig) *Traffic {
	if cfg.BaseLatency <= 0 {
		cfg.BaseLatency = 20 * time.Millisecond
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = 1
	}
	tr := &Traffic{
		fleet: f,
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		reg:   prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RequestsMetric,
			Help: "Synthetic requests served by the simulated fleet.",
		}, RequestsLabels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "codomyrmex_sim_request_duration_seconds",
			Help:    "Latency of the synthetic requests.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"deployment", "target", "version"}),
	}
	tr.reg.MustRegister(tr.requests, tr.duration)
	return tr
}

// Gatherer gathers the traffic's metrics, to be served with others.
func (tr *Traffic) Gatherer() prometheus.Gatherer { return tr.reg }

// Handler serves the metrics in the Prometheus text format.
func (tr *Traffic) Handler() http.Handler {
	return promhttp.HandlerFor(tr.reg, promhttp.HandlerOpts{})
}

// Run sends RPS requests per second, in ticks of tick, until ctx is done.
func (tr *Traffic) Run(ctx context.Context, tick time.Duration) {
	if tr.cfg.RPS <= 0 {
		return
	}
	clock.Every(ctx, tick, func() {
		tr.carry += tr.cfg.RPS * tick.Seconds()
		n := int(tr.carry)
		tr.carry -= float64(n)
		tr.ServeN(n)
	})
}

// ServeN sends n requests now.
func (tr *Traffic) ServeN(n int) {
	for range n {
		target, version, deployment := tr.fleet.pickTarget(tr.rng)
		if target == "" {
			return
		}
		code := "200"
		if tr.rng.Float64() < tr.cfg.ErrorRate[version] {
			code = "500"
		}
		latency := tr.cfg.BaseLatency
		if l, ok := tr.cfg.Latency[version]; ok {
			latency = l
		}
		tr.requests.WithLabelValues(deployment, target, version, code).Inc()
		tr.duration.WithLabelValues(deployment, target, version).Observe(latency.Seconds())
	}
}

// pickTarget chooses the target that serves one request, the way the
// router the provider drives would: to the targets running the version it
// switched to (blue/green); to the targets running a weighted version with
// that version's share, the rest to the others (canary); evenly without a
// router. It returns the target, the version it runs and the deployment
// it was last deployed for.
func (f *Fleet) pickTarget(rng *rand.Rand) (target, version, deployment string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	all := make([]*simTarget, 0, len(f.ids))
	for _, id := range f.ids {
		all = append(all, f.targets[id])
	}
	if len(all) == 0 {
		return "", "", ""
	}
	runs := func(match func(v string) bool) []*simTarget {
		var out []*simTarget
		for _, t := range all {
			if match(t.version) {
				out = append(out, t)
			}
		}
		return out
	}
	candidates := all
	switch {
	case f.router.Version != "":
		if c := runs(func(v string) bool { return v == f.router.Version }); len(c) > 0 {
			candidates = c
		}
	case len(f.router.Weights) > 0:
		// The weighted version with the smallest share that targets run is
		// the canary; the rest of the traffic goes to everything else.
		versions := make([]string, 0, len(f.router.Weights))
		for v := range f.router.Weights {
			versions = append(versions, v)
		}
		sort.Slice(versions, func(i, j int) bool {
			wi, wj := f.router.Weights[versions[i]], f.router.Weights[versions[j]]
			if wi != wj {
				return wi < wj
			}
			return versions[i] < versions[j]
		})
		for _, v := range versions {
			in := runs(func(x string) bool { return x == v })
			out := runs(func(x string) bool { return x != v })
			if len(in) == 0 {
				continue
			}
			if rng.Float64()*100 < f.router.Weights[v] || len(out) == 0 {
				candidates = in
			} else {
				candidates = out
			}
			break
		}
	}
	t := candidates[rng.IntN(len(candidates))]
	return t.id, t.version, t.deployment
}
