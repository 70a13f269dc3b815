package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
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

// recordingExec is a deploy command that appends its environment to a log
// file, one line per run.
func recordingExec(dir string) (command, logFile string) {
	logFile = filepath.Join(dir, "runs.log")
	return fmt.Sprintf(`printf '%%s|%%s|%%s|%%s\n' "$CODOMYRMEX_VERSION" "$CODOMYRMEX_PREVIOUS_VERSION" "$CODOMYRMEX_DEPLOYMENT" "$CODOMYRMEX_TARGET_ID" >> '%s'`, logFile), logFile
}

func readRuns(t *testing.T, logFile string) []string {
	t.Helper()
	data, err := os.ReadFile(logFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func ptr(s string) *string { return &s }

func TestHostDeployEnvironmentRepeatAndRestart(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	command, logFile := recordingExec(dir)
	cfg := HostConfig{Exec: command, StateFile: filepath.Join(dir, "state.json")}
	ctx := context.Background()

	h, err := NewHost(cfg)
	if err != nil {
		t.Fatalf("NewHost: %v", err)
	}
	if v := h.Version(); v != "" {
		t.Fatalf("fresh host runs %q, want nothing", v)
	}
	steps := []protocol.DeployRequest{
		{Deployment: "web", Version: "v1", TargetID: "web-1"},                             // previous = running ("")
		{Deployment: "web", Version: "v1", TargetID: "web-1"},                             // repeat: no run
		{Deployment: "web", Version: "v2", TargetID: "web-1"},                             // previous = running (v1)
		{Deployment: "web", Version: "v3", TargetID: "web-1", PreviousVersion: ptr("v1")}, // previous from the request
	}
	for _, req := range steps {
		if err := h.Deploy(ctx, req); err != nil {
			t.Fatalf("Deploy %s: %v", req.Version, err)
		}
	}
	want := []string{"v1||web|web-1", "v2|v1|web|web-1", "v3|v1|web|web-1"}
	if got := readRuns(t, logFile); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("runs = %q, want %q", got, want)
	}

	// A restart keeps the version: the repeat is still a no-op.
	h2, err := NewHost(cfg)
	if err != nil {
		t.Fatalf("NewHost after restart: %v", err)
	}
	if v := h2.Version(); v != "v3" {
		t.Errorf("restarted host runs %q, want v3", v)
	}
	if err := h2.Deploy(ctx, protocol.DeployRequest{Version: "v3"}); err != nil {
		t.Fatal(err)
	}
	if got := readRuns(t, logFile); len(got) != 3 {
		t.Errorf("the restarted host ran the deploy of the running version: %q", got)
	}

	// The state file is whole JSON and no temporary file is left behind.
	var st hostState
	data, err := os.ReadFile(cfg.StateFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Version != "v3" || st.Deployment != "web" {
		t.Errorf("state file %s: %+v, %v", data, st, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestHostDeployFailure(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	stateFile := filepath.Join(dir, "state.json")
	h := mustHost(t, HostConfig{
		Exec:      `test "$CODOMYRMEX_VERSION" = good && exit 0; for i in $(seq 1 30); do echo "step $i"; done; echo "disk full" >&2; exit 3`,
		StateFile: stateFile,
	})
	ctx := context.Background()
	if err := h.Deploy(ctx, protocol.DeployRequest{Version: "good"}); err != nil {
		t.Fatal(err)
	}
	err := h.Deploy(ctx, protocol.DeployRequest{Version: "bad"})
	if err == nil {
		t.Fatal("failing deploy command succeeded")
	}
	msg := err.Error()
	for _, want := range []string{`version "bad"`, "exited with status 3", "step 30", "disk full"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "step 10\n") {
		t.Errorf("error %q carries more than the last lines", msg)
	}
	if v := h.Version(); v != "good" {
		t.Errorf("after a failed deploy the host runs %q, want good", v)
	}
	h2, err := NewHost(HostConfig{Exec: "true", StateFile: stateFile})
	if err != nil || h2.Version() != "good" {
		t.Errorf("state after a failed deploy: %q, %v; want good", h2.Version(), err)
	}
}

func TestHostDeployTimeout(t *testing.T) {
	t.Parallel()

	h := mustHost(t, HostConfig{Exec: "exec sleep 10", ExecTimeout: 50 * time.Millisecond})
	err := h.Deploy(context.Background(), protocol.DeployRequest{Version: "v1"})
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Fatalf("error %v, want a timeout", err)
	}
}

func TestHostOneDeployAtATime(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	lock := filepath.Join(dir, "lock")
	// mkdir fails if another deploy holds the lock.
	h := mustHost(t, HostConfig{Exec: fmt.Sprintf(`mkdir '%[1]s' || exit 9; sleep 0.02; rmdir '%[1]s'`, lock)})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- h.Deploy(context.Background(), protocol.DeployRequest{Version: fmt.Sprintf("v%d", i)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent deploy: %v", err)
		}
	}
}

func TestHostDeployWaitCanBeCanceled(t *testing.T) {
	t.Parallel()

	h := mustHost(t, HostConfig{Exec: "true"})
	h.deploying <- struct{}{} // a deploy is in progress
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.Deploy(ctx, protocol.DeployRequest{Version: "v1"})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "waiting for the deploy in progress") {
		t.Errorf("error %v, want a canceled wait", err)
	}
}

// Idle waits for the deploy in progress, its state file written, and
// Deploying names it meanwhile.
func TestHostIdleWaitsForTheDeploy(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	started, release := filepath.Join(dir, "started"), filepath.Join(dir, "release")
	state := filepath.Join(dir, "state.json")
	// The command waits (boundedly) for the test to create release.
	h := mustHost(t, HostConfig{StateFile: state,
		Exec: fmt.Sprintf(`touch '%s'; i=0; while [ ! -e '%s' ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done`, started, release)})
	if err := h.Idle(context.Background()); err != nil || h.Deploying() != "" {
		t.Fatalf("idle host: Idle = %v, Deploying = %q", err, h.Deploying())
	}
	done := make(chan error, 1)
	go func() { done <- h.Deploy(context.Background(), protocol.DeployRequest{Version: "v2"}) }()
	for i := 0; ; i++ {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if i == 500 {
			t.Fatal("the deploy command never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := h.Deploying(); got != "v2" {
		t.Errorf("Deploying = %q during the deploy, want v2", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Idle(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Idle with a cancelled context during a deploy = %v", err)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(state); err != nil || !strings.Contains(string(data), `"v2"`) {
		t.Errorf("state file after Idle = %q, %v; want v2 recorded", data, err)
	}
	if err := <-done; err != nil || h.Deploying() != "" {
		t.Errorf("Deploy = %v, Deploying = %q afterwards", err, h.Deploying())
	}
}

func TestHostHealth(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		healthExec string
		version    string
		want       protocol.Health
	}{
		{"no health command", "", "v1", protocol.Health{Status: "ok", Version: "v1"}},
		{"health command passes", `test "$CODOMYRMEX_VERSION" = v1`, "v1", protocol.Health{Status: "ok", Version: "v1"}},
		{"health command fails", `test "$CODOMYRMEX_VERSION" = v1`, "v2", protocol.Health{Status: "error", Version: "v2"}},
		{"health command missing", "/nonexistent/check", "v1", protocol.Health{Status: "error", Version: "v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := mustHost(t, HostConfig{Exec: "true", HealthExec: tt.healthExec})
			if err := h.Deploy(context.Background(), protocol.DeployRequest{Version: tt.version}); err != nil {
				t.Fatal(err)
			}
			got, err := h.Health(context.Background())
			if err != nil || got != tt.want {
				t.Errorf("Health = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNewHostErrors(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		cfg     HostConfig
		wantErr string
	}{
		"no exec":       {HostConfig{}, "deploy command"},
		"corrupt state": {HostConfig{Exec: "true", StateFile: corrupt}, "is not valid"},
		"state is dir":  {HostConfig{Exec: "true", StateFile: dir}, "reading state file"},
	} {
		if _, err := NewHost(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want %q", name, err, tt.wantErr)
		}
	}
}

// TestHostOverProtocol drives a Host through the protocol handler and the
// provider's client, as codomyrmex-agent serve does.
func TestHostOverProtocol(t *testing.T) {
	t.Parallel()

	h := mustHost(t, HostConfig{Exec: `test "$CODOMYRMEX_VERSION" != broken || { echo "migration failed" >&2; exit 4; }`})
	srv := httptest.NewServer(protocol.NewTargetHandler(h, "tok"))
	defer srv.Close()
	c, err := protocol.NewClient(protocol.ClientConfig{Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Deploy(ctx, srv.URL, protocol.DeployRequest{Deployment: "web", Version: "v2"}); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if got, err := c.Health(ctx, srv.URL, ""); err != nil || got.Version != "v2" {
		t.Errorf("Health = %+v, %v", got, err)
	}
	err = c.Deploy(ctx, srv.URL, protocol.DeployRequest{Deployment: "web", Version: "broken"})
	var se *protocol.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusInternalServerError ||
		!strings.Contains(se.Body, "exited with status 4") || !strings.Contains(se.Body, "migration failed") {
		t.Errorf("failed deploy over HTTP: %v", err)
	}
}

// tailBuffer keeps exactly the last max bytes, whatever the sizes of the
// writes (smaller than, equal to and larger than max, around compaction).
func TestTailBuffer(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 7, 64} {
		b := &tailBuffer{max: size}
		var all []byte
		for i := range 2000 {
			p := make([]byte, rng.IntN(3*size+1))
			for j := range p {
				p[j] = byte('a' + (i+j)%26)
			}
			if n, err := b.Write(p); n != len(p) || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(p))
			}
			all = append(all, p...)
			want := all[max(0, len(all)-size):]
			if got := b.tail(); !bytes.Equal(got, want) {
				t.Fatalf("max %d, after write %d: tail %q, want %q", size, i, got, want)
			}
			if len(b.buf) > 2*size {
				t.Fatalf("max %d: holds %d bytes, more than twice max", size, len(b.buf))
			}
		}
	}
}

// A host installed before the agent: until a deploy is recorded, the
// version command says what runs, so the provider learns previous_version
// and a deploy of that version is a no-op.
func TestHostVersionExec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	current := filepath.Join(dir, "current")
	if err := os.WriteFile(current, []byte("1.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	command, logFile := recordingExec(dir)
	h := mustHost(t, HostConfig{
		Exec:        command + `; echo "$CODOMYRMEX_VERSION" > '` + current + `'`,
		VersionExec: `echo noise >&2; cat '` + current + `'`,
		StateFile:   filepath.Join(dir, "state.json"),
	})
	ctx := context.Background()
	if got, _ := h.Health(ctx); got.Version != "1.0.0" {
		t.Fatalf("Health before any deploy = %+v, want the version command's 1.0.0", got)
	}
	if err := h.Deploy(ctx, protocol.DeployRequest{Deployment: "web", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if runs := readRuns(t, logFile); len(runs) != 0 {
		t.Fatalf("a deploy of the running version ran the command: %v", runs)
	}
	if err := h.Deploy(ctx, protocol.DeployRequest{Deployment: "web", Version: "2.0.0"}); err != nil {
		t.Fatal(err)
	}
	if runs := readRuns(t, logFile); len(runs) != 1 || runs[0] != "2.0.0|1.0.0|web|" {
		t.Errorf("deploy runs %v, want 2.0.0 with previous version 1.0.0", runs)
	}
	// Once a deploy is recorded it wins over the command.
	if err := os.WriteFile(current, []byte("9.9.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.Health(ctx); got.Version != "2.0.0" {
		t.Errorf("Health after a deploy = %+v, want the recorded 2.0.0", got)
	}

	broken := mustHost(t, HostConfig{Exec: "true", VersionExec: "exit 3"})
	if got, err := broken.Health(ctx); err != nil || got.Version != "" || got.Status != protocol.HealthOK {
		t.Errorf("a failing version command: %+v, %v; want healthy with no version", got, err)
	}
}

// Versions the rule refuses answer 400 over the protocol and run nothing.
func TestHostRefusesUnsafeVersions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	command, logFile := recordingExec(dir)
	h := mustHost(t, HostConfig{Exec: command})
	srv := httptest.NewServer(protocol.NewTargetHandler(h, ""))
	defer srv.Close()
	c, err := protocol.NewClient(protocol.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, req := range []protocol.DeployRequest{
		{Version: "../../etc/passwd"},
		{Version: "1.0.0\ntouch /tmp/pwned"},
		{Version: "-rf"},
		{Version: "/opt/x"},
		{Version: strings.Repeat("9", 300)},
		{Version: "2.0.0", PreviousVersion: ptr("../1.0.0")},
	} {
		err := c.Deploy(ctx, srv.URL, req)
		var se *protocol.StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest || !strings.Contains(se.Body, "nothing was run") {
			t.Errorf("deploy of %q (previous %v): %v, want 400", req.Version, req.PreviousVersion, err)
		}
	}
	if runs := readRuns(t, logFile); len(runs) != 0 {
		t.Errorf("refused versions ran the command: %v", runs)
	}
	if err := c.Deploy(ctx, srv.URL, protocol.DeployRequest{Version: "ghcr.io/org/app:1.2.3"}); err != nil {
		t.Errorf("an image reference is refused: %v", err)
	}
}
