package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testproc"
)

// TestCommandsEndWithTheirProcessGroup: every command the agent runs
// (deploy, router, health and version commands) that times out, fails or
// is stopped at shutdown ends with everything it started in the
// background, within its timeout plus the grace, before it is answered.
func TestCommandsEndWithTheirProcessGroup(t *testing.T) {
	t.Parallel()
	const (
		timeout = 300 * time.Millisecond
		grace   = 400 * time.Millisecond
		late    = 1500 * time.Millisecond
		slack   = 1500 * time.Millisecond
	)
	type run func(t *testing.T, script string) (string, error)
	// A command stopped at shutdown has no timeout of its own; Stop comes
	// when the timeout would have.
	execTimeout := func(stop bool) time.Duration {
		if stop {
			return 0
		}
		return timeout
	}
	stopLater := func(stop bool, s interface{ Stop() }) {
		if stop {
			time.AfterFunc(timeout, s.Stop)
		}
	}
	deploy := func(stop bool) run {
		return func(t *testing.T, script string) (string, error) {
			h := mustHost(t, HostConfig{Exec: script, ExecTimeout: execTimeout(stop), KillGrace: grace})
			stopLater(stop, h)
			err := h.Deploy(context.Background(), protocol.DeployRequest{Deployment: "web", Version: "3.0.0"})
			return h.Version(), err
		}
	}
	router := func(stop bool) run {
		return func(t *testing.T, script string) (string, error) {
			r := mustRouter(t, RouterConfig{Exec: script, ExecTimeout: execTimeout(stop), KillGrace: grace})
			stopLater(stop, r)
			err := r.SetWeights(context.Background(), protocol.WeightsRequest{Deployment: "web", Version: "3.0.0", Percentage: 10})
			return fmt.Sprint(r.State().Deployments), err
		}
	}
	health := func(t *testing.T, script string) (string, error) {
		h := mustHost(t, HostConfig{Exec: "true", HealthExec: script, HealthTimeout: timeout, KillGrace: grace})
		got, err := h.Health(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != protocol.HealthError {
			return "healthy", nil
		}
		return "", fmt.Errorf("status %s", got.Status)
	}
	version := func(t *testing.T, script string) (string, error) {
		h := mustHost(t, HostConfig{Exec: "true", VersionExec: script, HealthTimeout: timeout, KillGrace: grace})
		got, err := h.Health(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != "" {
			return got.Version, nil
		}
		return "", fmt.Errorf("no version")
	}

	for _, tc := range []struct {
		name       string
		run        run
		tail       string
		ignoreTERM bool
		wantErr    string
		wantState  string
	}{
		{"deploy timeout", deploy(false), "sleep 30", false, "timed out after 300ms", ""},
		{"deploy timeout, grandchild ignores SIGTERM", deploy(false), "sleep 30", true, "SIGKILL 400ms after SIGTERM", ""},
		{"deploy fails", deploy(false), "exit 4", false, "exited with status 4", ""},
		{"deploy stopped at shutdown", deploy(true), "sleep 30", false, "the agent is shutting down", ""},
		{"router timeout", router(false), "sleep 30", false, "timed out after 300ms", "map[]"},
		{"router fails, grandchild ignores SIGTERM", router(false), "exit 5", true, "exited with status 5", "map[]"},
		{"router stopped at shutdown", router(true), "sleep 30", false, "the agent is shutting down", "map[]"},
		{"health timeout", health, "sleep 30", false, "status error", ""},
		{"health fails", health, "exit 1", true, "status error", ""},
		{"version timeout", version, "sleep 30; echo 9.9.9", false, "no version", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			script := testproc.ForkingCommand(dir, late, tc.ignoreTERM, tc.tail)
			start := time.Now()
			state, err := tc.run(t, script)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			if state != tc.wantState {
				t.Errorf("state after the failure %q, want %q", state, tc.wantState)
			}
			if took > timeout+grace+slack {
				t.Errorf("answered after %s, more than the timeout %s + grace %s (+%s)", took, timeout, grace, slack)
			}
			testproc.CheckGroupEnded(t, dir, start.Add(late))
		})
	}
}

// TestCommandOutputPastTheGrace: a command that succeeds but leaves a
// process holding its output is answered after the grace, as a failure,
// with that process ended; a daemon that does not hold the output is left
// running.
func TestCommandOutputPastTheGrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const grace = 300 * time.Millisecond
	script := testproc.ForkingCommand(dir, time.Second, false, "exit 0")
	start := time.Now()
	res := command{line: script, grace: grace}.run(context.Background())
	if took := time.Since(start); took > grace+time.Second {
		t.Errorf("answered after %s", took)
	}
	if got := res.describe(context.Background(), 0); !strings.Contains(got, "kept its output open") || !strings.Contains(got, "ended on SIGTERM") {
		t.Errorf("describe = %q", got)
	}
	testproc.CheckGroupEnded(t, dir, start.Add(time.Second))

	pidFile := filepath.Join(dir, "daemon.pid")
	res = command{line: "sleep 30 >/dev/null 2>&1 & echo $! > '" + pidFile + "'", grace: grace}.run(context.Background())
	if res.err != nil || res.stopped != "" {
		t.Fatalf("daemon start: %v %q", res.err, res.stopped)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("the daemon a successful command started is gone: %v", err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
