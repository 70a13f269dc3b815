package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
)

func TestRouterCommandLine(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	checkCommandLines(t, []commandLineCase{
		{"without exec", []string{"router"}, exitUsage, "router: --exec is required", ""},
		{"half TLS", []string{"router", "--exec", "true", "--tls-key", "k.pem"}, exitUsage, "router: --tls-cert and --tls-key go together", ""},
		{"client CA without TLS", []string{"router", "--exec", "true", "--tls-client-ca", "ca.pem"}, exitUsage, "router: --tls-client-ca needs --tls-cert and --tls-key", ""},
		{"missing TLS files", []string{"router", "--exec", "true", "--tls-cert", missing, "--tls-key", missing}, exitError, "loading --tls-cert/--tls-key", ""},
		{"bad version pattern", []string{"router", "--exec", "true", "--version-pattern", "("}, exitUsage, `router: --version-pattern: version pattern "("`, ""},
		{"negative reapply interval", []string{"router", "--exec", "true", "--reapply-interval", "-1s"}, exitUsage, "--reapply-interval must not be negative", ""},
		{"negative shutdown timeout", []string{"router", "--exec", "true", "--shutdown-timeout", "-1s"}, exitUsage, "must not be negative", ""},
		{"missing token file", []string{"router", "--exec", "true", "--token-file", missing}, exitError, "reading --token-file", ""},
		{"stray argument", []string{"router", "--exec", "true", "now"}, exitUsage, `router: unexpected argument "now"`, ""},
	})
}

func TestRouterHelp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"router --exec CMD", "router -h"}},
		{[]string{"router", "--help"}, append(agent.RouterEnv(), "-state-file", "GET /v1/state", "-version-pattern", "request_timeout")},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != exitOK || stderr.Len() > 0 {
			t.Errorf("%v: exit code %d, stderr %q", tt.args, code, stderr.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v: help lacks %q:\n%s", tt.args, w, stdout.String())
			}
		}
	}
}

// TestRouterInProcess: the calls run the command, a failure answers 500
// with its output, a refused version 400 with nothing run, and the state
// answers what was applied, behind the token.
func TestRouterInProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile, runs, fail := filepath.Join(dir, "token"), filepath.Join(dir, "runs.log"), filepath.Join(dir, "fail")
	if err := os.WriteFile(tokenFile, []byte("router-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	command := `test ! -e '` + fail + `' || { echo "admin API refused" >&2; exit 4; }
echo "$CODOMYRMEX_ACTION $CODOMYRMEX_DEPLOYMENT $CODOMYRMEX_VERSION ${CODOMYRMEX_SLOT:-} ${CODOMYRMEX_PERCENTAGE:-}" >> '` + runs + `'`
	args := []string{"router", "--listen", "127.0.0.1:0", "--token-file", tokenFile, "--state-file", filepath.Join(dir, "router.json"), "--exec", command}
	base, stop := runInProcess(t, args...)

	const tok = "router-token"
	if code := call(t, "PUT", base+"/v1/weights", tok, `{"deployment":"web","version":"2.0.0","percentage":25}`, nil); code != 200 {
		t.Errorf("weights = %d", code)
	}
	if code := call(t, "PUT", base+"/v1/switch", tok, `{"deployment":"shop","slot":"green","version":"1.1.0"}`, nil); code != 200 {
		t.Errorf("switch = %d", code)
	}
	if code := call(t, "PUT", base+"/v1/switch", "", `{"deployment":"shop","slot":"blue","version":"1.0.0"}`, nil); code != http.StatusUnauthorized {
		t.Errorf("switch without the token = %d", code)
	}
	var refused map[string]string
	if code := call(t, "PUT", base+"/v1/weights", tok, `{"deployment":"web","version":"-rf","percentage":50}`, &refused); code != 400 ||
		!strings.Contains(refused["error"], "refused, nothing was run") {
		t.Errorf("refused version = %d %v", code, refused)
	}
	if err := os.WriteFile(fail, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var failed map[string]string
	if code := call(t, "PUT", base+"/v1/weights", tok, `{"deployment":"web","version":"2.0.0","percentage":50}`, &failed); code != 500 ||
		!strings.Contains(failed["error"], "exited with status 4") || !strings.Contains(failed["error"], "admin API refused") {
		t.Errorf("failed command = %d %v", code, failed)
	}
	stop()
	if data, err := os.ReadFile(runs); err != nil || string(data) != "weights web 2.0.0  25\nswitch shop 1.1.0 green \n" {
		t.Errorf("runs = %q, %v", data, err)
	}

	// A restart answers what was applied, and only that.
	base, stop = runInProcess(t, args...)
	var st agent.RouterState
	if code := call(t, "GET", base+"/v1/state", tok, "", &st); code != 200 ||
		st.Deployments["web"].Weights["2.0.0"] != 25 || st.Deployments["shop"].Slot != "green" || st.Deployments["shop"].Version != "1.1.0" {
		t.Errorf("state after restart = %d %+v", code, st)
	}
	if code := call(t, "GET", base+"/v1/state", "", "", nil); code != http.StatusUnauthorized {
		t.Errorf("state without the token = %d", code)
	}
	stop()
}

// TestRouterReapplyInterval: with --reapply-interval the last route is
// applied again and again, with the same environment.
func TestRouterReapplyInterval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs.log")
	base, stop := runInProcess(t, "router", "--listen", "127.0.0.1:0", "--state-file", "", "--reapply-interval", "20ms",
		"--exec", `echo "$CODOMYRMEX_ACTION $CODOMYRMEX_VERSION $CODOMYRMEX_PERCENTAGE" >> '`+runs+`'`)
	if code := call(t, "PUT", base+"/v1/weights", "", `{"deployment":"web","version":"2.0.0","percentage":0}`, nil); code != 200 {
		t.Fatalf("weights = %d", code)
	}
	for deadline := time.Now().Add(maxWait); ; time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(runs)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) >= 3 {
			for _, l := range lines {
				if l != "weights 2.0.0 0" {
					t.Errorf("run %q, want the same call again", l)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the route was not applied again: runs %q", data)
		}
	}
	stop()
}
