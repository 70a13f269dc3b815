package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/promtest"
)

// TestPrometheusScrapesTheAgent: a real Prometheus scrapes serve and
// router on their --metrics-listen listeners and sees a deploy counted,
// the version the host runs, and the router's weight; every alert of
// examples/monitoring parses and evaluates against the agent's real
// series, and the deploy alert fires on a failed deploy.
func TestPrometheusScrapesTheAgent(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	dir := t.TempDir()
	serve := startProcess(t, bin, "serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--state-file", filepath.Join(dir, "serve.json"), "--exec", `test "$CODOMYRMEX_VERSION" != bad`)
	router := startProcess(t, bin, "router", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--state-file", filepath.Join(dir, "router.json"), "--exec", "true")
	serveMetrics := metricsAddress.FindStringSubmatch(serve.waitLog("metrics_address="))[1]
	routerMetrics := metricsAddress.FindStringSubmatch(router.waitLog("metrics_address="))[1]

	if got := do("PUT", serve.base+"/v1/deploy", "", `{"deployment":"web","version":"1.0.0"}`); got.status != 200 {
		t.Fatalf("deploy: %d %q", got.status, got.body)
	}
	if got := do("PUT", router.base+"/v1/weights", "", `{"deployment":"web","version":"2.0.0","percentage":30}`); got.status != 200 {
		t.Fatalf("weights: %d %q", got.status, got.body)
	}
	prom := promtest.Start(t, "http://"+serveMetrics+"/metrics", "http://"+routerMetrics+"/metrics")
	ctx := context.Background()
	for _, q := range []string{
		`codomyrmex_agent_deploys_total{result="succeeded"} == 1`,
		`codomyrmex_agent_running_version_info{version="1.0.0"} == 1`,
		`codomyrmex_agent_deploy_duration_seconds_count == 1`,
		`codomyrmex_router_weight_percent{deployment="web",version="2.0.0"} == 30`,
		`codomyrmex_router_calls_total{action="weights",result="succeeded"} == 1`,
		`go_goroutines > 0`,
		`process_resident_memory_bytes > 0`,
	} {
		if _, err := prom.WaitForSample(ctx, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}

	// Once Prometheus has seen the counter at 0, a failed deploy fires the
	// deploy alert's expression.
	if got := do("PUT", serve.base+"/v1/deploy", "", `{"deployment":"web","version":"bad"}`); got.status != 500 {
		t.Fatalf("failed deploy: %d %q", got.status, got.body)
	}
	alerts := alertExprs(t, filepath.Join("..", "..", "examples", "monitoring", "codomyrmex-agent.rules.yml"))
	if len(alerts) < 5 {
		t.Fatalf("only %d alerts found in the rules file", len(alerts))
	}
	for name, expr := range alerts {
		if _, err := prom.Query(ctx, expr); err != nil {
			var apiErr *promtest.APIError
			if errors.As(err, &apiErr) && apiErr.Type == "bad_data" {
				t.Errorf("alert %s: Prometheus refuses its expression: %v", name, err)
			} else {
				t.Errorf("alert %s: %v", name, err)
			}
		}
	}
	s, err := prom.WaitForSample(ctx, alerts["CodomyrmexDeployFailing"])
	if err != nil {
		t.Errorf("CodomyrmexDeployFailing does not fire after a failed deploy: %v", err)
	} else if s[0].Metric["instance"] != serveMetrics {
		t.Errorf("CodomyrmexDeployFailing fired for %v, want %s", s[0].Metric, serveMetrics)
	}
	for _, p := range []*agentProcess{serve, router} {
		p.stop()
	}
}

// alertExprs reads the alerts of a rules file: each rule's "- alert:" line
// and the one-line "expr:" after it (the file keeps them on one line).
func alertExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	alerts := map[string]string{}
	var name string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "- alert:"); ok {
			name = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "expr:"); ok && name != "" {
			if v = strings.TrimSpace(v); v == "|" || v == ">" || v == "" {
				t.Fatalf("alert %s: keep its expr on one line", name)
			}
			alerts[name] = strings.TrimSpace(v)
			name = ""
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return alerts
}
