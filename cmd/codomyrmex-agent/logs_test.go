package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

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
