package agent

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// TestDeployMetrics: deploys are counted by result, the commands' duration
// observed, and the running version shown, after a restart too.
func TestDeployMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	reg := prometheus.NewPedanticRegistry()
	m := NewDeployMetrics(reg)
	cfg := HostConfig{Exec: `test "$CODOMYRMEX_VERSION" != bad`, StateFile: filepath.Join(dir, "state.json"), Metrics: m}
	h := mustHost(t, cfg)
	ctx := context.Background()
	for _, v := range []string{"1.0.0", "1.0.0", "bad", "../x", "2.0.0"} {
		_ = h.Deploy(ctx, protocol.DeployRequest{Deployment: "web", Version: v})
	}
	m.Refused()
	want := `
# HELP codomyrmex_agent_deploys_total Deploy calls answered, by result: succeeded, failed (the command failed or was stopped), refused (nothing was run).
# TYPE codomyrmex_agent_deploys_total counter
codomyrmex_agent_deploys_total{result="failed"} 1
codomyrmex_agent_deploys_total{result="refused"} 2
codomyrmex_agent_deploys_total{result="succeeded"} 3
# HELP codomyrmex_agent_running_version_info 1 for the version the host runs (none before its first deploy, unless --version-exec tells).
# TYPE codomyrmex_agent_running_version_info gauge
codomyrmex_agent_running_version_info{version="2.0.0"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "codomyrmex_agent_deploys_total", "codomyrmex_agent_running_version_info"); err != nil {
		t.Error(err)
	}
	// Three commands ran: 1.0.0, bad and 2.0.0 (the repeat and the refused
	// version ran nothing).
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	observed := -1
	for _, mf := range mfs {
		if mf.GetName() == "codomyrmex_agent_deploy_duration_seconds" {
			observed = int(mf.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	if observed != 3 {
		t.Errorf("%d deploy durations observed, want 3", observed)
	}

	// A restarted host shows the version its state file records.
	reg2 := prometheus.NewPedanticRegistry()
	cfg.Metrics = NewDeployMetrics(reg2)
	if _, err := NewHost(cfg); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(cfg.Metrics.running.WithLabelValues("2.0.0")); got != 1 {
		t.Errorf("running version after a restart = %v", got)
	}
	if got := testutil.CollectAndCount(reg2, "codomyrmex_agent_deploys_total"); got != 3 {
		t.Errorf("%d deploy result series at start, want the 3 results at 0", got)
	}
}

// TestRouterMetrics: calls are counted by action and result, reapplies
// under their action; the weight gauge shows the last route of each
// deployment (100 after a switch), after a restart too.
func TestRouterMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	reg := prometheus.NewPedanticRegistry()
	cfg := RouterConfig{Exec: `test "$CODOMYRMEX_VERSION" != bad`, StateFile: filepath.Join(dir, "router.json"), Metrics: NewRouterMetrics(reg)}
	r := mustRouter(t, cfg)
	ctx := context.Background()
	_ = r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 10})
	_ = r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 25})
	_ = r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "bad", Percentage: 5})
	_ = r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "-x", Percentage: 5})
	_ = r.Switch(ctx, protocol.SwitchRequest{Deployment: "shop", Slot: "green", Version: "1.1.0"})
	if err := r.Reapply(ctx); err != nil {
		t.Fatal(err)
	}
	cfg.Metrics.Refused(ActionSwitch)
	want := `
# HELP codomyrmex_router_calls_total Router calls answered, by action (switch, weights) and result (succeeded, failed, refused); the runs of --reapply-interval count under their action.
# TYPE codomyrmex_router_calls_total counter
codomyrmex_router_calls_total{action="switch",result="failed"} 0
codomyrmex_router_calls_total{action="switch",result="refused"} 1
codomyrmex_router_calls_total{action="switch",result="succeeded"} 2
codomyrmex_router_calls_total{action="weights",result="failed"} 1
codomyrmex_router_calls_total{action="weights",result="refused"} 1
codomyrmex_router_calls_total{action="weights",result="succeeded"} 3
# HELP codomyrmex_router_weight_percent Share of a deployment's traffic, in percent, that the router last applied to a version (100 after a switch).
# TYPE codomyrmex_router_weight_percent gauge
codomyrmex_router_weight_percent{deployment="shop",version="1.1.0"} 100
codomyrmex_router_weight_percent{deployment="web",version="2.0.0"} 25
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	reg2 := prometheus.NewPedanticRegistry()
	cfg.Metrics = NewRouterMetrics(reg2)
	if _, err := NewRouter(cfg); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg2, strings.NewReader(`
# HELP codomyrmex_router_weight_percent Share of a deployment's traffic, in percent, that the router last applied to a version (100 after a switch).
# TYPE codomyrmex_router_weight_percent gauge
codomyrmex_router_weight_percent{deployment="shop",version="1.1.0"} 100
codomyrmex_router_weight_percent{deployment="web",version="2.0.0"} 25
`), "codomyrmex_router_weight_percent"); err != nil {
		t.Errorf("after a restart: %v", err)
	}
}
