package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// recordingRouterExec is a router command that appends its environment to
// a log file, one line per run, and fails when the file named fail exists.
func recordingRouterExec(dir string) (command, logFile, fail string) {
	logFile, fail = filepath.Join(dir, "runs.log"), filepath.Join(dir, "fail")
	return fmt.Sprintf(`echo "applying to the load balancer"
test ! -e '%s' || { echo "load balancer said no" >&2; exit 3; }
printf '%%s|%%s|%%s|%%s|%%s\n' "$CODOMYRMEX_ACTION" "$CODOMYRMEX_DEPLOYMENT" "$CODOMYRMEX_VERSION" "${CODOMYRMEX_SLOT-unset}" "${CODOMYRMEX_PERCENTAGE-unset}" >> '%s'`,
		fail, logFile), logFile, fail
}

func TestRouterCallsEnvironmentAndRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	command, logFile, _ := recordingRouterExec(dir)
	cfg := RouterConfig{Exec: command, StateFile: filepath.Join(dir, "router.json")}
	ctx := context.Background()

	r := mustRouter(t, cfg)
	if st := r.State(); len(st.Deployments) != 0 {
		t.Fatalf("fresh router has routes %+v", st)
	}
	before := time.Now().UTC().Add(-time.Second)
	for _, call := range []func() error{
		func() error {
			return r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 2.5})
		},
		func() error {
			return r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 25})
		},
		func() error {
			return r.Switch(ctx, protocol.SwitchRequest{Deployment: "shop", Slot: "green", Version: "1.1.0"})
		},
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"weights|web|2.0.0|unset|2.5", "weights|web|2.0.0|unset|25", "switch|shop|1.1.0|green|unset"}
	if got := readRuns(t, logFile); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("runs = %q, want %q", got, want)
	}
	check := func(r *Router, when string) {
		t.Helper()
		st := r.State()
		web, shop := st.Deployments["web"], st.Deployments["shop"]
		if len(st.Deployments) != 2 || fmt.Sprint(web.Weights) != "map[2.0.0:25]" || web.Slot != "" ||
			shop.Slot != "green" || shop.Version != "1.1.0" || shop.Weights != nil {
			t.Errorf("%s: state %+v", when, st)
		}
		if web.UpdatedAt.Before(before) || shop.UpdatedAt.Before(web.UpdatedAt) {
			t.Errorf("%s: updated_at %v, %v (test started %v)", when, web.UpdatedAt, shop.UpdatedAt, before)
		}
	}
	check(r, "after the calls")

	// The state file has it, and a restart reads it back.
	var onDisk RouterState
	data, err := os.ReadFile(cfg.StateFile)
	if err != nil || json.Unmarshal(data, &onDisk) != nil || onDisk.Deployments["shop"].Slot != "green" {
		t.Fatalf("state file %q, %v", data, err)
	}
	r2 := mustRouter(t, cfg)
	check(r2, "after a restart")

	// The copy handed out is not the router's own.
	st := r2.State()
	st.Deployments["web"].Weights["2.0.0"] = 99
	if w := r2.State().Deployments["web"].Weights["2.0.0"]; w != 25 {
		t.Errorf("State() shares its maps: weight now %v", w)
	}
}

// TestRouterFailedCommand: a command that fails is an error with its exit
// status and output, and nothing is recorded, in memory or on disk.
func TestRouterFailedCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	command, _, fail := recordingRouterExec(dir)
	state := filepath.Join(dir, "router.json")
	r := mustRouter(t, RouterConfig{Exec: command, StateFile: state})
	ctx := context.Background()
	if err := r.Switch(ctx, protocol.SwitchRequest{Deployment: "shop", Slot: "blue", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fail, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := r.Switch(ctx, protocol.SwitchRequest{Deployment: "shop", Slot: "green", Version: "1.1.0"})
	for _, want := range []string{`switch of "shop" to the green slot (1.1.0) exited with status 3`, "applying to the load balancer\nload balancer said no"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	var re *protocol.RequestError
	if errors.As(err, &re) {
		t.Errorf("a failed command is a RequestError (400): %v", err)
	}
	if got := r.State().Deployments["shop"]; got.Slot != "blue" {
		t.Errorf("after the failure the router records %+v, want still blue", got)
	}
	if data, err := os.ReadFile(state); err != nil || !strings.Contains(string(data), `"slot": "blue"`) {
		t.Errorf("state file after the failure = %q, %v", data, err)
	}
}

// TestRouterRefusesBeforeRunning: a version the rule refuses, or a
// deployment no command should get, is a RequestError and runs nothing.
func TestRouterRefusesBeforeRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	command, logFile, _ := recordingRouterExec(dir)
	narrow, err := NewVersionRule(`[0-9.]+`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		rule  VersionRule
		call  func(r *Router) error
		wants string
	}{
		{"dot-dot", VersionRule{}, func(r *Router) error {
			return r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "../../etc", Percentage: 10})
		}, `has a '..' path segment`},
		{"leading dash", VersionRule{}, func(r *Router) error {
			return r.Switch(ctx, protocol.SwitchRequest{Deployment: "web", Slot: "blue", Version: "-rf"})
		}, `starts with '-'`},
		{"pattern", narrow, func(r *Router) error {
			return r.Switch(ctx, protocol.SwitchRequest{Deployment: "web", Slot: "blue", Version: "2.0.0-rc1"})
		}, "does not match the accepted pattern"},
		{"no deployment", VersionRule{}, func(r *Router) error {
			return r.Switch(ctx, protocol.SwitchRequest{Slot: "blue", Version: "2.0.0"})
		}, "deployment is required"},
		{"control character in the deployment", VersionRule{}, func(r *Router) error {
			return r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web\n", Version: "2.0.0"})
		}, "control character"},
	} {
		r := mustRouter(t, RouterConfig{Exec: command, Versions: tt.rule})
		err = tt.call(r)
		var re *protocol.RequestError
		if !errors.As(err, &re) || !strings.Contains(re.Msg, "refused, nothing was run") || !strings.Contains(re.Msg, tt.wants) {
			t.Errorf("%s: error %v, want a RequestError saying %q", tt.name, err, tt.wants)
		}
	}
	if runs := readRuns(t, logFile); len(runs) != 0 {
		t.Errorf("refused calls ran the command: %q", runs)
	}
}

// TestRouterOneCallAtATime: concurrent calls run their commands one after
// the other; a caller that gives up while waiting runs nothing.
func TestRouterOneCallAtATime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lock, count, release := filepath.Join(dir, "lock"), filepath.Join(dir, "count"), filepath.Join(dir, "release")
	// mkdir fails when another run holds the lock: an overlap fails a call.
	command := fmt.Sprintf(`mkdir '%[1]s' || exit 9
echo x >> '%[2]s'
i=0; while [ ! -e '%[3]s' ] && [ $i -lt 200 ]; do sleep 0.01; i=$((i+1)); done
rmdir '%[1]s'`, lock, count, release)
	r := mustRouter(t, RouterConfig{Exec: command})
	ctx := context.Background()
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			errs <- r.SetWeights(ctx, protocol.WeightsRequest{Deployment: fmt.Sprintf("d%d", i), Version: "2.0.0", Percentage: 50})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent call: %v", err)
		}
	}
	if n := len(r.State().Deployments); n != 4 {
		t.Errorf("%d deployments recorded, want 4", n)
	}

	// A call held up by a running one gives up with its context.
	if err := os.Remove(release); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "slow", Version: "2.0.0", Percentage: 50})
	}()
	for deadline := time.Now().Add(10 * time.Second); r.Deploying() == ""; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow call never started")
		}
	}
	if got := r.Deploying(); got != `weights of "slow": 50% to 2.0.0` {
		t.Errorf("Deploying() = %q", got)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := r.Switch(short, protocol.SwitchRequest{Deployment: "impatient", Slot: "blue", Version: "2.0.0"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting call: %v, want a deadline error", err)
	}
	if err := r.Idle(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Idle during a call: %v", err)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("slow call: %v", err)
	}
	if err := r.Idle(ctx); err != nil || r.Deploying() != "" {
		t.Errorf("Idle after the call: %v, in progress %q", err, r.Deploying())
	}
	if _, ok := r.State().Deployments["impatient"]; ok {
		t.Error("the call that gave up is recorded")
	}
	data, _ := os.ReadFile(count)
	if n := strings.Count(string(data), "x"); n != 5 {
		t.Errorf("the command ran %d times, want 5", n)
	}
}

// TestRouterCommandOutlivesItsCaller: a caller that gives up does not stop
// the command, which is recorded once done.
func TestRouterCommandOutlivesItsCaller(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := mustRouter(t, RouterConfig{Exec: "sleep 0.2", StateFile: filepath.Join(dir, "router.json")})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := r.Switch(ctx, protocol.SwitchRequest{Deployment: "shop", Slot: "green", Version: "2.0.0"}); err != nil {
		t.Fatalf("switch: %v", err)
	}
	if got := r.State().Deployments["shop"].Slot; got != "green" {
		t.Errorf("slot %q, want green", got)
	}
}

func TestRouterTimeoutAndStateErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()

	r := mustRouter(t, RouterConfig{Exec: "exec sleep 5", ExecTimeout: 50 * time.Millisecond})
	start := time.Now()
	err := r.Switch(ctx, protocol.SwitchRequest{Deployment: "shop", Slot: "green", Version: "2.0.0"})
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Errorf("timeout: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the timed-out command held the call for %s", d)
	}

	if _, err := NewRouter(RouterConfig{Exec: " "}); err == nil {
		t.Error("NewRouter without a command succeeded")
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRouter(RouterConfig{Exec: "true", StateFile: bad}); err == nil || !strings.Contains(err.Error(), "remove it to start with no routes") {
		t.Errorf("invalid state file: %v", err)
	}

	// The command succeeded but the state cannot be written: an error that
	// says so, and the route is known until the process ends.
	r = mustRouter(t, RouterConfig{Exec: "true", StateFile: filepath.Join(dir, "missing-dir", "router.json")})
	err = r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 10})
	if err == nil || !strings.Contains(err.Error(), "is applied but a restart would forget it") {
		t.Errorf("unwritable state: %v", err)
	}
	if w := r.State().Deployments["web"].Weights["2.0.0"]; w != 10 {
		t.Errorf("weights after an unwritable state = %v", w)
	}
}

// TestRouterOverHTTP: the router behind protocol.NewRouterHandler answers
// 200 when the command succeeded, 500 with its output when it failed, 400
// for a refused version, and GET /v1/state.
func TestRouterOverHTTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	command, _, fail := recordingRouterExec(dir)
	r := mustRouter(t, RouterConfig{Exec: command})
	srv := httptest.NewServer(protocol.NewRouterHandler(r, "tok"))
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	if code, body := do("PUT", "/v1/weights", `{"deployment":"web","version":"2.0.0","percentage":25}`); code != 200 {
		t.Errorf("weights = %d %s", code, body)
	}
	if code, body := do("PUT", "/v1/switch", `{"deployment":"web","slot":"blue","version":"../x"}`); code != 400 || !strings.Contains(body, "refused, nothing was run") {
		t.Errorf("refused switch = %d %s", code, body)
	}
	if err := os.WriteFile(fail, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := do("PUT", "/v1/weights", `{"deployment":"web","version":"3.0.0","percentage":50}`); code != 500 ||
		!strings.Contains(body, "exited with status 3") || !strings.Contains(body, "load balancer said no") {
		t.Errorf("failed weights = %d %s", code, body)
	}
	code, body := do("GET", "/v1/state", "")
	var st RouterState
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || fmt.Sprint(st.Deployments["web"].Weights) != "map[2.0.0:25]" {
		t.Errorf("state = %d %s (%v)", code, body, err)
	}
}

// TestRouterReapply: the recorded routes are applied again with the same
// environment, in turn with the calls, without changing them; failures
// are reported together, and a cancelled context runs nothing.
func TestRouterReapply(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	command, logFile, fail := recordingRouterExec(dir)
	r := mustRouter(t, RouterConfig{Exec: command, StateFile: filepath.Join(dir, "router.json")})
	ctx := context.Background()
	if err := r.Reapply(ctx); err != nil {
		t.Errorf("Reapply with no route: %v", err)
	}
	if err := r.SetWeights(ctx, protocol.WeightsRequest{Deployment: "web", Version: "3.0.0", Percentage: 0}); err != nil {
		t.Fatal(err)
	}
	if err := r.Switch(ctx, protocol.SwitchRequest{Deployment: "shop", Slot: "green", Version: "1.1.0"}); err != nil {
		t.Fatal(err)
	}
	before := r.State()
	if err := r.Reapply(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"weights|web|3.0.0|unset|0", "switch|shop|1.1.0|green|unset", "switch|shop|1.1.0|green|unset", "weights|web|3.0.0|unset|0"}
	if got := readRuns(t, logFile); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("runs = %q, want %q", got, want)
	}
	if after := r.State(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("Reapply changed the state from %+v to %+v", before, after)
	}

	if err := os.WriteFile(fail, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := r.Reapply(ctx)
	for _, w := range []string{`switch of "shop" to the green slot (1.1.0) exited with status 3`, `weights of "web": 0% to 3.0.0 exited with status 3`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("failed Reapply: %v, want it to say %q", err, w)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := os.Remove(fail); err != nil {
		t.Fatal(err)
	}
	if err := r.Reapply(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Reapply with a cancelled context: %v", err)
	}
	if n := len(readRuns(t, logFile)); n != 4 {
		t.Errorf("%d runs after the failed and cancelled Reapply, want still 4", n)
	}

	// A route the version rule no longer accepts (a narrower
	// --version-pattern after a restart) is not applied again.
	narrow, err := NewVersionRule(`1\..*`)
	if err != nil {
		t.Fatal(err)
	}
	r2 := mustRouter(t, RouterConfig{Exec: command, StateFile: filepath.Join(dir, "router.json"), Versions: narrow})
	if err := r2.Reapply(ctx); err == nil || !strings.Contains(err.Error(), `not applying the weights of "web": 0% to 3.0.0 again`) {
		t.Errorf("Reapply of a refused version: %v", err)
	}
	if n := len(readRuns(t, logFile)); n != 5 {
		t.Errorf("%d runs, want 5 (shop only)", n)
	}
}
