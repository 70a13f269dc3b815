package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testproc"
)

// TestBinaryEndsTimedOutCommands runs the binary with each command the
// agent runs (serve --exec, --health-exec, --version-exec, router --exec)
// set to a script that starts a background grandchild writing a file 3s
// later (8s when it ignores SIGTERM: past the timeout and the grace) and
// then sleeps: the call is answered within the timeout plus the grace, and
// by then no process of the command's group is alive; the grandchild never
// writes.
func TestBinaryEndsTimedOutCommands(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	const (
		timeout = time.Second
		late    = 3 * time.Second
		slack   = 2 * time.Second
	)
	for _, tc := range []struct {
		name       string
		args       func(script string) []string
		method     string
		path, body string
		ignoreTERM bool
		wantStatus int
		wantBody   []string
	}{
		{
			name:       "serve --exec",
			args:       func(s string) []string { return []string{"serve", "--exec", s, "--exec-timeout", "1s"} },
			method:     "PUT",
			path:       "/v1/deploy",
			body:       `{"deployment":"web","version":"3.0.0"}`,
			wantStatus: 500,
			wantBody:   []string{"timed out after 1s", "its processes ended on SIGTERM"},
		},
		{
			name:       "serve --exec, the grandchild ignoring SIGTERM",
			args:       func(s string) []string { return []string{"serve", "--exec", s, "--exec-timeout", "1s"} },
			method:     "PUT",
			path:       "/v1/deploy",
			body:       `{"deployment":"web","version":"3.0.0"}`,
			ignoreTERM: true,
			wantStatus: 500,
			wantBody:   []string{"timed out after 1s", "SIGKILL 5s after SIGTERM"},
		},
		{
			name: "serve --health-exec",
			args: func(s string) []string {
				return []string{"serve", "--exec", "true", "--health-exec", s, "--health-timeout", "1s"}
			},
			method:     "GET",
			path:       "/v1/health",
			wantStatus: 200,
			wantBody:   []string{`"status":"error"`},
		},
		{
			name: "serve --version-exec",
			args: func(s string) []string {
				return []string{"serve", "--exec", "true", "--version-exec", s + "; echo 2.0.0", "--health-timeout", "1s"}
			},
			method:     "GET",
			path:       "/v1/health",
			wantStatus: 200,
			wantBody:   []string{`"version":""`},
		},
		{
			name:       "router --exec",
			args:       func(s string) []string { return []string{"router", "--exec", s, "--exec-timeout", "1s"} },
			method:     "PUT",
			path:       "/v1/weights",
			body:       `{"deployment":"web","version":"3.0.0","percentage":10}`,
			wantStatus: 500,
			wantBody:   []string{"timed out after 1s", "its processes ended on SIGTERM"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			late := late
			if tc.ignoreTERM {
				late = timeout + agent.KillGrace + 2*time.Second
			}
			args := append(tc.args(testproc.ForkingCommand(dir, late, tc.ignoreTERM, "sleep 30")),
				"--listen", "127.0.0.1:0", "--state-file", filepath.Join(dir, "state.json"))
			p := startProcess(t, bin, args...)
			start := time.Now()
			got := do(tc.method, p.base+tc.path, "", tc.body)
			took := got.at.Sub(start)
			if got.err != nil || got.status != tc.wantStatus {
				t.Fatalf("answer %d %q, %v; want %d", got.status, got.body, got.err, tc.wantStatus)
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(got.body, w) {
					t.Errorf("answer %q lacks %q", got.body, w)
				}
			}
			if took > timeout+agent.KillGrace+slack {
				t.Errorf("answered after %s, more than the timeout %s + grace %s (+%s)", took, timeout, agent.KillGrace, slack)
			}
			t.Logf("answered after %s", took.Round(time.Millisecond))
			testproc.CheckGroupEnded(t, dir, start.Add(late))
			p.stop()
		})
	}
}

// TestBinarySIGTERMDuringACommand: a deploy or router command that ends
// within --shutdown-timeout is seen through (answered, recorded, exit 0);
// one that outlasts it is ended with its process group, answered as
// failed within the timeout plus the grace, not recorded, and the agent
// exits 1; a second SIGTERM ends it at once.
func TestBinarySIGTERMDuringACommand(t *testing.T) {
	t.Parallel()
	bin := buildAgent(t)
	const late = 3 * time.Second
	type mode struct {
		name       string
		args       []string
		path, body string
		recorded   string
	}
	modes := []mode{
		{"serve", []string{"serve"}, "/v1/deploy", `{"deployment":"web","version":"6.0.0"}`, `"version": "6.0.0"`},
		{"router", []string{"router"}, "/v1/switch", `{"deployment":"shop","slot":"green","version":"6.0.0"}`, `"slot": "green"`},
	}
	for _, m := range modes {
		t.Run(m.name+" sees a short command through", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			state := filepath.Join(dir, "state.json")
			p := startProcess(t, bin, append(m.args, "--listen", "127.0.0.1:0", "--state-file", state, "--shutdown-timeout", "10s",
				"--exec", testproc.ForkingCommand(dir, 0, false, "sleep 1"))...)
			answered := make(chan answer, 1)
			go func() { answered <- do("PUT", p.base+m.path, "", m.body) }()
			testproc.GroupOf(t, dir)
			p.signal(syscall.SIGTERM)
			if got := <-answered; got.status != 200 {
				t.Errorf("answer %d %q, %v; want 200", got.status, got.body, got.err)
			}
			if code := p.wait(); code != 0 {
				t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr)
			}
			if data, err := os.ReadFile(state); err != nil || !strings.Contains(string(data), m.recorded) {
				t.Errorf("state file %q, %v; want %s recorded", data, err, m.recorded)
			}
		})
		for _, again := range []bool{false, true} {
			name := m.name + " ends a command that outlasts --shutdown-timeout"
			shutdown := "500ms"
			if again {
				name, shutdown = m.name+" ends the command at a second SIGTERM", "1m"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				state := filepath.Join(dir, "state.json")
				p := startProcess(t, bin, append(m.args, "--listen", "127.0.0.1:0", "--state-file", state, "--shutdown-timeout", shutdown,
					"--exec", testproc.ForkingCommand(dir, late, false, "sleep 30"))...)
				answered := make(chan answer, 1)
				go func() { answered <- do("PUT", p.base+m.path, "", m.body) }()
				testproc.GroupOf(t, dir)
				start := time.Now()
				p.signal(syscall.SIGTERM)
				if again {
					p.waitLog("signal again to stop it now")
					p.signal(syscall.SIGTERM)
				}
				got := <-answered
				if got.status != 500 || !strings.Contains(got.body, "the agent is shutting down") {
					t.Errorf("answer %d %q, %v; want 500, shutting down", got.status, got.body, got.err)
				}
				limit := 500*time.Millisecond + agent.KillGrace + 2*time.Second
				if took := got.at.Sub(start); took > limit {
					t.Errorf("answered %s after SIGTERM, more than %s", took, limit)
				}
				if code := p.wait(); code != 1 {
					t.Errorf("exit code %d, want 1; stderr:\n%s", code, p.stderr)
				}
				if s := p.stderr.String(); !strings.Contains(s, "stopped before the") || !strings.Contains(s, "its call answered as failed") {
					t.Errorf("stderr does not say the command was ended:\n%s", s)
				}
				// The call is in the history, as failed; the version or
				// route is not recorded as applied.
				var st struct {
					Version     string
					Deployments map[string]any
					History     []struct{ Result, Error string }
				}
				data, err := os.ReadFile(state)
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(data, &st); err != nil {
					t.Fatalf("state file %q: %v", data, err)
				}
				if st.Version != "" || len(st.Deployments) > 0 {
					t.Errorf("state file records the ended call as applied: %s", data)
				}
				if len(st.History) != 1 || st.History[0].Result != "failed" || !strings.Contains(st.History[0].Error, "shutting down") {
					t.Errorf("history %+v, want the ended call, failed", st.History)
				}
				testproc.CheckGroupEnded(t, dir, start.Add(late))
			})
		}
	}
}
