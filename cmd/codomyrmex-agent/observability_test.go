package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

var metricsAddress = regexp.MustCompile(`metrics_address=(127\.0\.0\.1:[0-9]+)`)

// TestBinaryHealthAndMetrics runs every mode with a token and
// --metrics-listen: /healthz and /readyz answer without a token and run no
// command, on both listeners; /metrics needs the token on the main
// listener and not on the metrics one, and shows the Go and process
// collectors and the mode's metrics, a call refused for want of a token
// counted.
func TestBinaryHealthAndMetrics(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	for _, tc := range []struct {
		mode  string
		args  []string
		calls [][3]string // method, path, body, with the token
		want  []string
	}{
		{
			mode:  "serve",
			args:  []string{"serve", "--exec", "true", "--health-exec", "touch ran", "--version-exec", "touch ran"},
			calls: [][3]string{{"PUT", "/v1/deploy", `{"deployment":"web","version":"1.2.3"}`}},
			want: []string{`codomyrmex_agent_deploys_total{result="succeeded"} 1`, `codomyrmex_agent_deploys_total{result="refused"} 1`,
				`codomyrmex_agent_deploy_duration_seconds_count 1`, `codomyrmex_agent_running_version_info{version="1.2.3"} 1`},
		},
		{
			mode:  "router",
			args:  []string{"router", "--exec", "true"},
			calls: [][3]string{{"PUT", "/v1/weights", `{"deployment":"web","version":"1.2.3","percentage":30}`}},
			want: []string{`codomyrmex_router_calls_total{action="weights",result="succeeded"} 1`,
				`codomyrmex_router_calls_total{action="weights",result="refused"} 1`, `codomyrmex_router_weight_percent{deployment="web",version="1.2.3"} 30`},
		},
		{
			mode: "flags",
			args: []string{"flags", "--data-dir", "data"},
			calls: [][3]string{{"PUT", "/v1/flags/checkout", `{"flag":"checkout","state":"active","stage":1,"percentage":25}`},
				{"POST", "/ofrep/v1/evaluate/flags/checkout", `{"context":{"targetingKey":"u1"}}`}},
			want: []string{`codomyrmex_flags_writes_total{result="succeeded"} 1`, `codomyrmex_flags_writes_total{result="refused"} 1`,
				`codomyrmex_flag_percentage{flag="checkout"} 25`, `codomyrmex_ofrep_evaluations_total{reason="SPLIT"} 1`},
		},
		{
			mode:  "simulate",
			args:  []string{"simulate"},
			calls: [][3]string{{"PUT", "/t/t1/v1/deploy", `{"deployment":"web","version":"1.2.3"}`}},
			// The synthetic traffic: TestSimulateServesMetrics.
		},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			tokenFile := writeTokenFile(t, dir, "metrics-token\n")
			args := append(tc.args, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--token-file", tokenFile)
			if tc.mode == "serve" || tc.mode == "router" {
				args = append(args, "--state-file", filepath.Join(dir, "state.json"))
			}
			p := startProcessIn(t, dir, bin, args...)
			m := metricsAddress.FindStringSubmatch(p.waitLog("metrics_address="))
			if m == nil {
				t.Fatalf("the first log line does not name the metrics address:\n%s", p.stderr)
			}
			metrics := "http://" + m[1]

			for _, base := range []string{p.base, metrics} {
				for path, want := range map[string]string{"/healthz": `"status":"ok"`, "/readyz": `"status":"ready"`} {
					if got := do("GET", base+path, "", ""); got.status != 200 || !strings.Contains(got.body, want) {
						t.Errorf("%s%s without a token: %d %q, %v", base, path, got.status, got.body, got.err)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
				t.Error("/healthz or /readyz ran a command")
			}
			// One call refused for want of a token, then the calls.
			if len(tc.calls) > 0 && tc.mode != "simulate" {
				c := tc.calls[0]
				if got := do(c[0], p.base+c[1], "", c[2]); got.status != 401 {
					t.Errorf("%s %s without a token: %d", c[0], c[1], got.status)
				}
			}
			for _, c := range tc.calls {
				if got := do(c[0], p.base+c[1], "metrics-token", c[2]); got.status/100 != 2 {
					t.Errorf("%s %s: %d %q", c[0], c[1], got.status, got.body)
				}
			}

			if tc.mode != "simulate" {
				if got := do("GET", p.base+"/metrics", "", ""); got.status != 401 {
					t.Errorf("/metrics on the main listener without the token: %d, want 401", got.status)
				}
			}
			got := do("GET", p.base+"/metrics", "metrics-token", "")
			open := do("GET", metrics+"/metrics", "", "")
			for _, w := range append(tc.want, "go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes") {
				if !strings.Contains(got.body, w) {
					t.Errorf("/metrics on the main listener (%d) lacks %s", got.status, w)
				}
				if !strings.Contains(open.body, w) {
					t.Errorf("/metrics on --metrics-listen (%d) lacks %s", open.status, w)
				}
			}
			// GET /v1/info says what the agent is, with the token as the
			// other calls; every answer names it in a header.
			if got := do("GET", p.base+"/v1/info", "", ""); got.status != 401 {
				t.Errorf("/v1/info without the token: %d, want 401", got.status)
			}
			info := fmt.Sprintf(`{"name":"codomyrmex-agent","version":"9.9.9-test","protocol":1,"mode":%q}`, tc.mode)
			if got := do("GET", p.base+"/v1/info", "metrics-token", ""); got.status != 200 || strings.TrimSpace(got.body) != info {
				t.Errorf("/v1/info: %d %q, want %s", got.status, got.body, info)
			}
			if resp, err := http.Get(p.base + "/healthz"); err != nil {
				t.Error(err)
			} else {
				resp.Body.Close()
				if h, want := resp.Header.Get("Codomyrmex-Agent"), "codomyrmex-agent/9.9.9-test protocol/1 mode/"+tc.mode; h != want {
					t.Errorf("Codomyrmex-Agent header %q, want %q", h, want)
				}
			}
			if got := do("PUT", metrics+"/v1/deploy", "", `{"version":"x"}`); got.status != 404 {
				t.Errorf("a protocol call on the metrics listener: %d, want 404", got.status)
			}
			p.stop()
		})
	}
}

// TestBinaryReadyzWhileStopping: once SIGTERM came, /readyz on the
// metrics listener answers 503 while the deploy in progress finishes,
// and /healthz still 200.
func TestBinaryReadyzWhileStopping(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	dir := t.TempDir()
	release := filepath.Join(dir, "release")
	p := startProcessIn(t, dir, bin, "serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--state-file", "",
		"--exec", "touch started; while [ ! -e '"+release+"' ]; do sleep 0.05; done", "--exec-timeout", "30s")
	metrics := "http://" + metricsAddress.FindStringSubmatch(p.waitLog("metrics_address="))[1]
	answered := make(chan answer, 1)
	go func() { answered <- do("PUT", p.base+"/v1/deploy", "", `{"deployment":"web","version":"1.0.0"}`) }()
	waitForFile(t, filepath.Join(dir, "started"))
	p.signal(syscall.SIGTERM)
	p.waitLog("stopping once the command in progress is done")
	if got := do("GET", metrics+"/readyz", "", ""); got.status != 503 || !strings.Contains(got.body, "stopping") {
		t.Errorf("/readyz while stopping: %d %q", got.status, got.body)
	}
	if got := do("GET", metrics+"/healthz", "", ""); got.status != 200 {
		t.Errorf("/healthz while stopping: %d", got.status)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := <-answered; got.status != 200 {
		t.Errorf("deploy: %d %q", got.status, got.body)
	}
	if code := p.wait(); code != 0 {
		t.Errorf("exit %d", code)
	}
}
