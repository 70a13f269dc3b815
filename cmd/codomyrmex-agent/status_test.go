package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// statusFleet is a simulated fleet of two targets at 1.0.0 and a state
// file whose rolling deployment "web" says they run it.
func statusFleet(t *testing.T, token string) (f *simulator.Fleet, url, stateFile string) {
	t.Helper()
	f = simulator.NewFleet(simulator.FleetConfig{Targets: 2, InitialVersion: "1.0.0", Token: token})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	stateFile = filepath.Join(t.TempDir(), "terraform.tfstate")
	state := fmt.Sprintf(`{"version": 4, "terraform_version": "1.8.5", "resources": [
	  {"mode": "managed", "type": "codomyrmex_deployment", "name": "web", "instances": [{"attributes": {
	    "name": "web", "version": "1.0.0", "strategy": "rolling", "status": "completed", "traffic_percentage": 100,
	    "targets": [{"id": "t1", "address": "%[1]s/t/t1"}, {"id": "t2", "address": "%[1]s/t/t2"}],
	    "target_versions": {"t1": "1.0.0", "t2": "1.0.0"}}}]}]}`, srv.URL)
	if err := os.WriteFile(stateFile, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	return f, srv.URL, stateFile
}

func runStatus(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(ctx, append([]string{"status"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestStatusExitCodes: 0 when the fleet matches state, 3 when it differs,
// 1 when a call failed (the report names it), 2 for a bad command line.
func TestStatusExitCodes(t *testing.T) {
	t.Parallel()
	f, url, state := statusFleet(t, "")
	ctx := context.Background()

	if code, out, errOut := runStatus(ctx, "--state", state); code != 0 || !strings.Contains(out, "The fleet matches state.") || errOut != "" {
		t.Errorf("converged: exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
	f.SetVersion("t2", "0.9.0")
	if code, out, _ := runStatus(ctx, "--state", state); code != 3 || !strings.Contains(out, "! t2    1.0.0  0.9.0 (healthy)") {
		t.Errorf("drifted: exit %d, want 3 and t2 marked:\n%s", code, out)
	}
	code, out, errOut := runStatus(ctx, "--state", state, "--output", "json")
	var rep struct {
		Matches     bool `json:"matches"`
		Differences int  `json:"differences"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 3 || rep.Matches || rep.Differences != 1 || errOut != "" {
		t.Errorf("drifted, JSON: exit %d, %+v (%v):\n%s\nstderr: %s", code, rep, err, out, errOut)
	}

	broken := filepath.Join(t.TempDir(), "state.json")
	data, _ := os.ReadFile(state)
	if err := os.WriteFile(broken, bytes.ReplaceAll(data, []byte(url+"/t/t1"), []byte(url+"/nowhere/t1")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runStatus(ctx, "--state", broken, "--retries", "0", "--output", "json")
	if want := "target t1: GET " + url + "/nowhere/t1/v1/health: HTTP 404"; code != 1 || !strings.Contains(out, want) || !strings.Contains(errOut, "could not ask the fleet: "+want) {
		t.Errorf("a failed call: exit %d, want 1 naming %q:\n%s\nstderr: %s", code, want, out, errOut)
	}

	for _, args := range [][]string{{"--output", "yaml"}, {"--watch", "-1s"}, {"extra"}} {
		if code, _, _ := runStatus(ctx, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, _, errOut := runStatus(ctx, "--state", filepath.Join(t.TempDir(), "missing")); code != 1 || !strings.Contains(errOut, "--state") {
		t.Errorf("a missing state file: exit %d, stderr %q", code, errOut)
	}
}

// redraws cancels the watch after n redraws.
type redraws struct {
	mu     sync.Mutex
	b      strings.Builder
	n      int
	cancel context.CancelFunc
}

func (r *redraws) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.b.Write(p)
	if strings.Count(r.b.String(), clearScreen) >= r.n {
		r.cancel()
	}
	return len(p), nil
}

// TestStatusWatch: --watch redraws, reading the state file again each
// time, until its context ends (Ctrl-C), and exits as the last report.
func TestStatusWatch(t *testing.T) {
	t.Parallel()
	f, _, state := statusFleet(t, "")
	f.SetVersion("t1", "0.9.0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &redraws{n: 3, cancel: cancel}
	var errOut bytes.Buffer
	code := run(ctx, []string{"status", "--state", state, "--watch", "10ms"}, out, &errOut)
	text := out.b.String()
	if code != 3 || strings.Count(text, clearScreen) < 3 || strings.Count(text, "Every 10ms: codomyrmex-agent status") < 3 {
		t.Errorf("exit %d, want 3 after 3 redraws:\n%q\nstderr: %s", code, text, errOut.String())
	}
}

// TestBinaryStatusFromStdin: the binary reads `show -json` from stdin and
// sends CODOMYRMEX_TOKEN, which never shows in its output.
func TestBinaryStatusFromStdin(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	const token = "status-binary-token"
	_, _, state := statusFleet(t, token)
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{token, 0}, {"", 1}} {
		cmd := exec.Command(bin, "status", "--retries", "0")
		cmd.Env = append(os.Environ(), "CODOMYRMEX_TOKEN="+tc.token)
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.CombinedOutput()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.want || strings.Contains(string(out), token) {
			t.Errorf("token %q: exit %d, want %d:\n%s", tc.token, code, tc.want, out)
		}
		if tc.want == 1 && !strings.Contains(string(out), "401") {
			t.Errorf("without the token: the report does not say 401:\n%s", out)
		}
	}
	cmd := exec.Command(bin, "status")
	cmd.Stdin = strings.NewReader("")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "nothing on stdin") {
		t.Errorf("empty stdin: %v\n%s", err, out)
	}
}
