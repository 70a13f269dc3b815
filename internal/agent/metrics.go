package agent

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/counters"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// The metric names and labels here are relied on by users' dashboards and
// alerts, and by examples/monitoring (docs/guides/running-the-agent.md
// lists them): do not rename them.

// Results of a call, the result label of the agent's counters.
const (
	ResultSucceeded = "succeeded"
	ResultFailed    = "failed"
	// ResultRefused: nothing was run (a missing or wrong token, a request
	// or a version the agent does not accept).
	ResultRefused = "refused"
)

var results = []string{ResultSucceeded, ResultFailed, ResultRefused}

// DeployMetrics are what serve exposes about its deploys.
type DeployMetrics struct {
	deploys  *prometheus.CounterVec
	duration prometheus.Histogram
	running  *prometheus.GaugeVec

	mu sync.Mutex // orders the updates of running
}

// NewDeployMetrics registers the deploy metrics on reg (none when nil):
//
//	codomyrmex_agent_deploys_total{result}         succeeded, failed, refused
//	codomyrmex_agent_deploy_duration_seconds        of the deploy commands run
//	codomyrmex_agent_running_version_info{version}  1 for the version the host runs
//
// Every result starts at 0, so that the first failure shows in increase().
func NewDeployMetrics(reg prometheus.Registerer) *DeployMetrics {
	m := &DeployMetrics{
		deploys: counters.New("codomyrmex_agent_deploys_total",
			"Deploy calls answered, by result: succeeded, failed (the command failed or was stopped), refused (nothing was run).",
			[]string{"result"}, results),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "codomyrmex_agent_deploy_duration_seconds",
			Help:    "How long the deploy commands ran, failed ones included.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "codomyrmex_agent_running_version_info",
			Help: "1 for the version the host runs (none before its first deploy, unless --version-exec tells).",
		}, []string{"version"}),
	}
	if reg != nil {
		reg.MustRegister(m.deploys, m.duration, m.running)
	}
	return m
}

// Refused counts a deploy call refused before it reached the host (a
// missing token, a request that does not parse).
func (m *DeployMetrics) Refused() {
	if m != nil {
		m.deploys.WithLabelValues(ResultRefused).Inc()
	}
}

func (m *DeployMetrics) count(result string) {
	if m != nil {
		m.deploys.WithLabelValues(result).Inc()
	}
}

func (m *DeployMetrics) ran(d time.Duration) {
	if m != nil {
		m.duration.Observe(d.Seconds())
	}
}

func (m *DeployMetrics) setRunning(version string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running.Reset()
	if version != "" {
		m.running.WithLabelValues(version).Set(1)
	}
}

// RouterMetrics are what router exposes about its calls.
type RouterMetrics struct {
	calls   *prometheus.CounterVec
	weights *prometheus.GaugeVec

	mu sync.Mutex // orders the updates of weights
}

// NewRouterMetrics registers the router metrics on reg (none when nil):
//
//	codomyrmex_router_calls_total{action,result}         switch, weights; succeeded, failed, refused
//	codomyrmex_router_weight_percent{deployment,version}  the share of traffic last applied
//
// A switch gives its version 100 %. Every action and result starts at 0.
func NewRouterMetrics(reg prometheus.Registerer) *RouterMetrics {
	m := &RouterMetrics{
		calls: counters.New("codomyrmex_router_calls_total",
			"Router calls answered, by action (switch, weights) and result (succeeded, failed, refused); "+
				"the runs of --reapply-interval count under their action.",
			[]string{"action", "result"}, []string{ActionSwitch, ActionWeights}, results),
		weights: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "codomyrmex_router_weight_percent",
			Help: "Share of a deployment's traffic, in percent, that the router last applied to a version (100 after a switch).",
		}, []string{"deployment", "version"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.weights)
	}
	return m
}

// Refused counts a router call refused before it reached the router.
func (m *RouterMetrics) Refused(action string) {
	if m != nil {
		m.calls.WithLabelValues(action, ResultRefused).Inc()
	}
}

func (m *RouterMetrics) count(action, result string) {
	if m != nil {
		m.calls.WithLabelValues(action, result).Inc()
	}
}

// setRoute shows what a deployment's route gives each version.
func (m *RouterMetrics) setRoute(deployment string, route Route) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.weights.DeletePartialMatch(prometheus.Labels{"deployment": deployment})
	if route.Slot != "" {
		m.weights.WithLabelValues(deployment, route.Version).Set(100)
		return
	}
	for _, v := range slices.Sorted(maps.Keys(route.Weights)) {
		m.weights.WithLabelValues(deployment, v).Set(route.Weights[v])
	}
}

// resultOf is the result label of a call that returned err.
func resultOf(err error) string {
	var refused *protocol.RequestError
	switch {
	case errors.As(err, &refused):
		return ResultRefused
	case err != nil:
		return ResultFailed
	}
	return ResultSucceeded
}
