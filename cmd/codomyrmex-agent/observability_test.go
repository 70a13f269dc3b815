package main

// The binary's observability: health and metrics endpoints, JSON logs and
// the call history, and a real Prometheus scraping the agent.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/promtest"
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

// logLine is one JSON log line.
type logLine map[string]any

func (l logLine) str(key string) string { s, _ := l[key].(string); return s }

// jsonLines parses every line of stderr as a JSON object.
func jsonLines(t *testing.T, stderr string) []logLine {
	t.Helper()
	var lines []logLine
	for _, raw := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var l logLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", raw, err)
		}
		lines = append(lines, l)
	}
	return lines
}

// withMsg returns the lines whose msg is msg.
func withMsg(lines []logLine, msg string) []logLine {
	var out []logLine
	for _, l := range lines {
		if l.str("msg") == msg {
			out = append(out, l)
		}
	}
	return out
}

// checkFields fails the test when a line lacks one of the fields or
// holds another value than want's.
func checkFields(t *testing.T, what string, l logLine, want map[string]string, present ...string) {
	t.Helper()
	for k, v := range want {
		if got := l.str(k); got != v {
			t.Errorf("%s: %s = %q, want %q (line %v)", what, k, got, v, l)
		}
	}
	for _, k := range present {
		if _, ok := l[k]; !ok {
			t.Errorf("%s: no %s (line %v)", what, k, l)
		}
	}
}

// TestBinaryLogsJSON runs serve, router and flags with --log-format json
// and parses every line: the first names the address bound; each deploy,
// router call and flag write or delete has one line with the fields an
// on-call person needs, a failed command's output tail included; calls
// refused before a backend saw them (401, 400) have one line each; the
// token is in none.
func TestBinaryLogsJSON(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	const token = "log-token-4f1c"
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	failing := `case "$CODOMYRMEX_VERSION" in bad) for i in $(seq 1 30); do echo "step $i"; done; echo "ERROR: registry unreachable" >&2; exit 4;; esac`
	common := []string{"--listen", "127.0.0.1:0", "--token-file", tokenFile, "--log-format", "json"}

	t.Run("serve", func(t *testing.T) {
		t.Parallel()
		p := startProcess(t, bin, append([]string{"serve", "--exec", failing, "--state-file", filepath.Join(dir, "serve.json")}, common...)...)
		for _, c := range []struct {
			token, body string
			want        int
		}{
			{token, `{"deployment":"web","version":"1.0.0","target_id":"web-1","strategy":"rolling"}`, 200},
			{token, `{"deployment":"web","version":"1.0.0","target_id":"web-1"}`, 200},
			{token, `{"deployment":"web","version":"bad","target_id":"web-1","previous_version":"1.0.0"}`, 500},
			{token, `{"deployment":"web","version":"../x","target_id":"web-1"}`, 400},
			{"", `{"deployment":"web","version":"2.0.0"}`, 401},
			{token, `{"deployment":`, 400},
		} {
			if got := do("PUT", p.base+"/v1/deploy", c.token, c.body); got.status != c.want {
				t.Errorf("deploy %s: %d %q, want %d", c.body, got.status, got.body, c.want)
			}
		}
		p.signal(syscall.SIGTERM)
		p.wait()
		stderr := p.stderr.String()
		if strings.Contains(stderr, token) {
			t.Errorf("the token is in the logs:\n%s", stderr)
		}
		lines := jsonLines(t, stderr)
		checkFields(t, "first line", lines[0], map[string]string{"msg": "serving the target protocol", "level": "INFO",
			"address": strings.TrimPrefix(p.base, "http://")})
		deploys := withMsg(lines, "deploy")
		if len(deploys) != 4 {
			t.Fatalf("%d deploy lines, want 4 (the 401 and the bad JSON never reached the host):\n%s", len(deploys), stderr)
		}
		all := []string{"deployment", "target_id", "version", "previous_version", "result", "duration", "caller"}
		checkFields(t, "deploy", deploys[0], map[string]string{"level": "INFO", "result": "succeeded", "deployment": "web",
			"target_id": "web-1", "version": "1.0.0", "previous_version": "", "strategy": "rolling"}, all...)
		checkFields(t, "repeat", deploys[1], map[string]string{"level": "INFO", "result": "succeeded", "previous_version": "1.0.0"}, append(all, "unchanged")...)
		checkFields(t, "failed deploy", deploys[2], map[string]string{"level": "ERROR", "result": "failed", "version": "bad",
			"previous_version": "1.0.0"}, append(all, "error", "output")...)
		if e := deploys[2].str("error"); !strings.Contains(e, "exited with status 4") || strings.Contains(e, "step") {
			t.Errorf("failed deploy error %q: want the exit status, without the output", e)
		}
		out := deploys[2].str("output")
		if !strings.HasSuffix(out, "ERROR: registry unreachable") || strings.Contains(out, "step 20\n") || len(out) > 2<<10 {
			t.Errorf("failed deploy output %q: want the last lines only, ending with the script's error", out)
		}
		checkFields(t, "refused deploy", deploys[3], map[string]string{"level": "WARN", "result": "refused", "version": "../x"}, append(all, "error")...)
		if c := deploys[0].str("caller"); !strings.HasPrefix(c, "127.0.0.1:") {
			t.Errorf("caller %q is not the caller's address", c)
		}
		refused := withMsg(lines, "call refused")
		if len(refused) != 2 {
			t.Fatalf("%d call refused lines, want 2:\n%s", len(refused), stderr)
		}
		checkFields(t, "401", refused[0], map[string]string{"level": "WARN", "method": "PUT", "path": "/v1/deploy",
			"error": "missing or invalid bearer token"}, "status", "caller")
		if refused[0]["status"] != float64(401) || refused[1]["status"] != float64(400) {
			t.Errorf("refused statuses %v and %v, want 401 and 400", refused[0]["status"], refused[1]["status"])
		}
		if !strings.Contains(refused[1].str("error"), "invalid JSON body") {
			t.Errorf("400 error %q", refused[1].str("error"))
		}
	})

	t.Run("router", func(t *testing.T) {
		t.Parallel()
		p := startProcess(t, bin, append([]string{"router", "--exec", failing, "--state-file", filepath.Join(dir, "router.json")}, common...)...)
		do("PUT", p.base+"/v1/weights", token, `{"deployment":"web","version":"2.0.0","percentage":25}`)
		do("PUT", p.base+"/v1/switch", token, `{"deployment":"shop","slot":"green","version":"bad"}`)
		do("PUT", p.base+"/v1/switch", "wrong", `{"deployment":"shop","slot":"green","version":"1.0.0"}`)
		p.signal(syscall.SIGTERM)
		p.wait()
		lines := jsonLines(t, p.stderr.String())
		calls := withMsg(lines, "router call")
		if len(calls) != 2 {
			t.Fatalf("%d router call lines, want 2:\n%s", len(calls), p.stderr)
		}
		all := []string{"action", "deployment", "version", "result", "duration", "caller"}
		checkFields(t, "weights", calls[0], map[string]string{"level": "INFO", "action": "weights", "result": "succeeded", "version": "2.0.0"}, append(all, "percentage")...)
		checkFields(t, "failed switch", calls[1], map[string]string{"level": "ERROR", "action": "switch", "result": "failed", "slot": "green"}, append(all, "error", "output")...)
		if r := withMsg(lines, "call refused"); len(r) != 1 || r[0].str("path") != "/v1/switch" {
			t.Errorf("refused lines %v, want the 401 of /v1/switch", r)
		}
	})

	t.Run("flags", func(t *testing.T) {
		t.Parallel()
		p := startProcess(t, bin, append([]string{"flags", "--data-dir", filepath.Join(dir, "flags")}, common...)...)
		do("PUT", p.base+"/v1/flags/checkout", token, `{"flag":"checkout","state":"active","stage":1,"percentage":25}`)
		do("DELETE", p.base+"/v1/flags/checkout", token, "")
		do("PUT", p.base+"/v1/flags/checkout", token, `{"flag":"checkout","state":"on","percentage":25}`)
		do("GET", p.base+"/v1/flags/checkout", token, "")
		p.signal(syscall.SIGTERM)
		p.wait()
		lines := jsonLines(t, p.stderr.String())
		writes, deletes := withMsg(lines, "flag write"), withMsg(lines, "flag delete")
		if len(writes) != 1 || len(deletes) != 1 {
			t.Fatalf("%d write and %d delete lines, want 1 and 1:\n%s", len(writes), len(deletes), p.stderr)
		}
		checkFields(t, "write", writes[0], map[string]string{"level": "INFO", "flag": "checkout", "state": "active", "result": "succeeded"}, "percentage", "stage", "caller", "duration")
		checkFields(t, "delete", deletes[0], map[string]string{"flag": "checkout", "result": "succeeded"}, "caller")
		if r := withMsg(lines, "call refused"); len(r) != 1 || r[0]["status"] != float64(400) {
			t.Errorf("refused lines %v, want the 400 of the bad document", r)
		}
		if r := withMsg(lines, "call"); len(r) != 0 {
			t.Errorf("a read logged at INFO: %v", r)
		}
	})

	t.Run("levels", func(t *testing.T) {
		t.Parallel()
		p := startProcess(t, bin, "serve", "--exec", "true", "--state-file", "", "--listen", "127.0.0.1:0", "--log-level", "warn")
		do("PUT", p.base+"/v1/deploy", "", `{"deployment":"web","version":"1.0.0"}`)
		do("PUT", p.base+"/v1/deploy", "", `{"deployment":"web","version":"-x"}`)
		p.signal(syscall.SIGTERM)
		p.wait()
		s := p.stderr.String()
		if strings.Contains(s, "level=INFO") || !strings.Contains(s, `level=WARN msg=deploy`) {
			t.Errorf("--log-level warn:\n%s", s)
		}
		p = startProcess(t, bin, "serve", "--exec", "true", "--state-file", "", "--listen", "127.0.0.1:0", "--log-level", "debug")
		do("PUT", p.base+"/v1/deploy", "", `{"deployment":"web","version":"1.0.0"}`)
		do("GET", p.base+"/v1/health", "", "")
		p.signal(syscall.SIGTERM)
		p.wait()
		if s := p.stderr.String(); !strings.Contains(s, `msg="deploy started"`) || !strings.Contains(s, `msg=call method=GET path=/v1/health`) {
			t.Errorf("--log-level debug:\n%s", s)
		}
		for _, args := range [][]string{{"--log-level", "loud"}, {"--log-format", "xml"}} {
			out, err := runBinary(bin, append([]string{"serve", "--exec", "true", "--listen", "127.0.0.1:0"}, args...)...)
			if code := exitCodeOf(err); code != exitUsage || !strings.Contains(out, args[0]) {
				t.Errorf("%v: exit %d, %q", args, code, out)
			}
		}
	})
}

// TestBinaryHistory: serve and router answer their last calls at GET
// /v1/history behind the token, after a restart too; a call refused for
// want of a token is not among them.
func TestBinaryHistory(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	dir := t.TempDir()
	tokenFile := writeTokenFile(t, dir, "history-token\n")
	for _, tc := range []struct {
		mode  string
		args  []string
		path  string
		calls []string
	}{
		{"serve", []string{"serve", "--exec", `test "$CODOMYRMEX_VERSION" != bad`}, "/v1/deploy",
			[]string{`{"deployment":"web","version":"1.0.0"}`, `{"deployment":"web","version":"bad"}`}},
		{"router", []string{"router", "--exec", `test "$CODOMYRMEX_VERSION" != bad`}, "/v1/weights",
			[]string{`{"deployment":"web","version":"1.0.0","percentage":10}`, `{"deployment":"web","version":"bad","percentage":20}`}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			args := append(tc.args, "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--state-file", filepath.Join(dir, tc.mode+".json"))
			p := startProcess(t, bin, args...)
			for _, body := range tc.calls {
				do("PUT", p.base+tc.path, "history-token", body)
			}
			do("PUT", p.base+tc.path, "", tc.calls[0])
			p.signal(syscall.SIGTERM)
			p.wait()

			p = startProcess(t, bin, args...)
			if got := do("GET", p.base+"/v1/history", "", ""); got.status != 401 {
				t.Errorf("history without the token: %d", got.status)
			}
			got := do("GET", p.base+"/v1/history", "history-token", "")
			var h struct {
				Calls []struct {
					Time, Caller, Deployment, Version, Result string
				} `json:"calls"`
			}
			if err := json.Unmarshal([]byte(got.body), &h); err != nil || got.status != 200 {
				t.Fatalf("history: %d %q, %v", got.status, got.body, err)
			}
			if len(h.Calls) != 2 || h.Calls[0].Version != "1.0.0" || h.Calls[0].Result != "succeeded" ||
				h.Calls[1].Version != "bad" || h.Calls[1].Result != "failed" {
				t.Errorf("history after a restart: %+v", h.Calls)
			}
			for _, c := range h.Calls {
				if c.Time == "" || !strings.HasPrefix(c.Caller, "127.0.0.1:") || c.Deployment != "web" {
					t.Errorf("call %+v lacks its time, caller or deployment", c)
				}
			}
			p.signal(syscall.SIGTERM)
			p.wait()
		})
	}
}

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
