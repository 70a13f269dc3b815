package provider

// Interruption tests drive the real CLI (TF_ACC_TERRAFORM_PATH) as a
// process, so that it can be signalled mid-rollout: SIGINT must stop the
// rollout with no new target started and save a state that matches the
// fleet; SIGKILL must leave nothing that the next apply cannot converge
// from on its own.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// cliTimeout bounds every CLI run of these tests.
const cliTimeout = 2 * time.Minute

// cliWorkdir is a working directory driven by the real CLI against a
// provider binary built for the test and installed through dev_overrides.
type cliWorkdir struct {
	t      *testing.T
	cli    string
	dir    string
	source string
	env    []string
}

// newCLIWorkdir skips the test unless acceptance tests are on, then builds
// the provider and prepares a working directory whose CLI config points the
// provider's source address at it.
func newCLIWorkdir(t *testing.T) *cliWorkdir {
	t.Helper()
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || cli == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make testacc does)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-codomyrmex"), "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	w := &cliWorkdir{t: t, cli: cli, dir: filepath.Join(dir, "work"), source: host + "/codomyrmex/codomyrmex"}
	rc := filepath.Join(dir, "cli.tfrc")
	writeFile(t, rc, fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", w.source, bin))
	w.env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	return w
}

// writeConfig writes main.tf: the required_providers block, then body.
func (w *cliWorkdir) writeConfig(body string) {
	w.t.Helper()
	writeFile(w.t, filepath.Join(w.dir, "main.tf"), fmt.Sprintf(`terraform {
  required_providers {
    codomyrmex = { source = %q }
  }
}
%s`, w.source, body))
}

// command prepares a CLI run in its own process group, so that the test
// can kill the CLI together with the provider it started.
func (w *cliWorkdir) command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, w.cli, args...)
	cmd.Dir = w.dir
	cmd.Env = append(slices.Clone(w.env), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Should the context expire, take the provider down with the CLI.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// run runs the CLI to the end and returns its combined output and exit code.
func (w *cliWorkdir) run(env []string, args ...string) (string, int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := w.command(ctx, env, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit) && ctx.Err() == nil:
		return out.String(), exit.ExitCode()
	default:
		w.t.Fatalf("%s %s: %v\n%s", w.cli, strings.Join(args, " "), err, tail(out.String(), 4000))
		return "", -1
	}
}

// mustRun runs the CLI and fails the test unless it exits with want.
func (w *cliWorkdir) mustRun(want int, env []string, args ...string) string {
	w.t.Helper()
	out, code := w.run(env, args...)
	if code != want {
		w.t.Fatalf("%s %s exited %d, want %d:\n%s", w.cli, strings.Join(args, " "), code, want, tail(out, 6000))
	}
	return out
}

// deploymentState is codomyrmex_deployment.<name> as saved in the local
// state file.
type deploymentState struct {
	Version         string            `json:"version"`
	PreviousVersion *string           `json:"previous_version"`
	Status          string            `json:"status"`
	TargetVersions  map[string]string `json:"target_versions"`
	ChangedTargets  []string          `json:"changed_targets"`
}

// readDeployment reads the deployment from the state JSON in raw (a state
// file or the output of `state pull`); ok is false when it is not there.
func readDeployment(t *testing.T, raw []byte, name string) (d deploymentState, tainted, ok bool) { //nolint:unparam // tainted documents the state read
	t.Helper()
	var st struct {
		Resources []struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			Instances []struct {
				Status     string          `json:"status"`
				Attributes json.RawMessage `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("reading the state: %v", err)
	}
	for _, r := range st.Resources {
		if r.Type != "codomyrmex_deployment" || r.Name != name || len(r.Instances) == 0 {
			continue
		}
		if err := json.Unmarshal(r.Instances[0].Attributes, &d); err != nil {
			t.Fatalf("reading the deployment's attributes: %v", err)
		}
		return d, r.Instances[0].Status == "tainted", true
	}
	return d, false, false
}

func (w *cliWorkdir) localState(name string) (deploymentState, bool) {
	w.t.Helper()
	raw, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if errors.Is(err, os.ErrNotExist) {
		return deploymentState{}, false
	}
	if err != nil {
		w.t.Fatal(err)
	}
	d, _, ok := readDeployment(w.t, raw, name)
	return d, ok
}

// stateMatchesFleet compares target_versions with what the fleet runs and
// checks the saved version is honest: the configured one only when every
// target runs it.
func stateMatchesFleet(d deploymentState, f *testFleet, n int, configured string) error {
	fleet := f.Versions()
	var problems []string
	all := true
	for _, id := range ids(n) {
		if fleet[id] != configured {
			all = false
		}
		if got, ok := d.TargetVersions[id]; !ok || got != fleet[id] {
			problems = append(problems, fmt.Sprintf("target_versions[%s] = %q, the target runs %q", id, got, fleet[id]))
		}
	}
	if !all && d.Version == configured {
		problems = append(problems, fmt.Sprintf("state claims version %q which not every target runs", configured))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// interruptConfig is a rolling deployment of var.app_version, one target
// per batch, with short bounded timeouts.
func interruptConfig(f *testFleet, n int) string {
	return fmt.Sprintf(`
variable "app_version" {
  type = string
}

provider "codomyrmex" {
  request_timeout = "2s"
  retries         = 0
}

resource "codomyrmex_deployment" "web" {
  name         = "web"
  version      = var.app_version
  targets      = %s
  rolling      = { batch_size = 1, batch_delay = "0s" }
  health_check = { interval = "10ms", timeout = "2s" }
}
`, f.targets(n, ""))
}

// startSlowApply sets every call about version to hang for hang, starts
// `apply` of version in the background and returns once the fleet has
// accepted `after` deploys of it.
func startSlowApply(t *testing.T, w *cliWorkdir, f *testFleet, version string, hang time.Duration, after int) (*exec.Cmd, *syncBuffer, <-chan error) {
	t.Helper()
	f.SetFault("*", simulator.Fault{Hang: hang, FailVersion: version})
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	t.Cleanup(cancel)
	out := &syncBuffer{}
	cmd := w.command(ctx, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version="+version)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for f.deploysOf(version) < after {
		select {
		case err := <-done:
			t.Fatalf("apply ended (%v) before %d deploys of %s:\n%s", err, after, version, tail(out.String(), 4000))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d deploys of %s within a minute:\n%s", after, version, tail(out.String(), 4000))
		}
	}
	return cmd, out, done
}

// syncBuffer is a bytes.Buffer that the CLI's output goroutines and the
// test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func waitExit(t *testing.T, done <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(cliTimeout):
		t.Fatalf("%s did not exit", what)
		return nil
	}
}

// TestAccInterrupt_sigintStopsRollout sends SIGINT to `apply` while the
// second of six targets is being updated: no further target starts, the
// touched ones are rolled back, the apply fails saying it was cancelled,
// and the saved state matches the fleet. The next apply converges.
func TestAccInterrupt_sigintStopsRollout(t *testing.T) {
	t.Parallel()
	const n = 6
	w := newCLIWorkdir(t)
	f := newTestFleet(t, n, "1.0.0")
	w.writeConfig(interruptConfig(f, n))
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0")

	cmd, out, done := startSlowApply(t, w, f, "3.0.0", 400*time.Millisecond, 2)
	accepted := f.deploysOf("3.0.0")
	// Ctrl-C in a terminal signals the whole foreground process group: the
	// CLI and the provider it started.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := waitExit(t, done, "apply after SIGINT")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("apply after SIGINT: %v, want a failure\n%s", err, tail(out.String(), 4000))
	}
	output := out.String()
	for _, want := range []string{"rollout cancelled, no further target started", "Rolled back to previous_version"} {
		if !errorPattern(want).MatchString(output) {
			t.Errorf("the apply's output does not say %q:\n%s", want, tail(output, 4000))
		}
	}

	// At most the call in flight at the signal completed; later targets
	// were never started.
	order := f.deployOrder("3.0.0")
	if len(order) > accepted+1 {
		t.Errorf("deploys of 3.0.0: %v; %d had been accepted at SIGINT, so at most one more may follow", order, accepted)
	}
	if !slices.Equal(order, ids(len(order))) {
		t.Errorf("deploys of 3.0.0 %v are not in list order", order)
	}
	if err := f.expectAll(n, "2.0.0"); err != nil {
		t.Errorf("after the rollback: %v", err)
	}
	d, ok := w.localState("web")
	if !ok {
		t.Fatal("the interrupted update left no deployment in state")
	}
	if err := stateMatchesFleet(d, f, n, "3.0.0"); err != nil {
		t.Errorf("saved state after SIGINT: %v", err)
	}

	// The next apply converges, and then there is nothing left to do.
	f.ClearFaults()
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=3.0.0")
	if err := f.expectAll(n, "3.0.0"); err != nil {
		t.Error(err)
	}
	w.mustRun(0, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-var", "app_version=3.0.0")
	w.mustRun(0, nil, "destroy", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=3.0.0")
}

// TestAccInterrupt_sigkillResumes kills `apply` (and the provider it
// started) with SIGKILL in the middle of an update, so that nothing is
// saved. The next apply, with no state surgery, refreshes the fleet,
// deploys exactly the targets that do not run the version yet, and
// converges.
func TestAccInterrupt_sigkillResumes(t *testing.T) {
	t.Parallel()
	const n = 6
	w := newCLIWorkdir(t)
	f := newTestFleet(t, n, "1.0.0")
	w.writeConfig(interruptConfig(f, n))
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0")

	cmd, out, done := startSlowApply(t, w, f, "3.0.0", 400*time.Millisecond, 3)
	// The runner dies with everything it started, the provider too, at
	// once: a provider outliving the CLI could finish a deploy after the
	// fleet is read below.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = waitExit(t, done, "apply after SIGKILL")
	t.Logf("killed apply after:\n%s", tail(out.String(), 1500))

	f.ClearFaults()
	before := f.Versions()
	var missing []string
	for _, id := range ids(n) {
		if before[id] != "3.0.0" {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 || len(missing) == n {
		t.Fatalf("the kill left the fleet at %v: the test needs a half-done rollout", before)
	}
	deploys := len(f.Deploys())

	// No unlock, no state edit: just apply again.
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=3.0.0")
	var resumed []string
	for _, d := range f.Deploys()[deploys:] {
		resumed = append(resumed, d.Target+"="+d.Version)
	}
	var want []string
	for _, id := range missing {
		want = append(want, id+"=3.0.0")
	}
	if !slices.Equal(resumed, want) {
		t.Errorf("the resuming apply deployed %v, want exactly the targets not at 3.0.0: %v", resumed, want)
	}
	if err := f.expectAll(n, "3.0.0"); err != nil {
		t.Error(err)
	}
	d, ok := w.localState("web")
	if !ok {
		t.Fatal("no deployment in state after the resuming apply")
	}
	if err := stateMatchesFleet(d, f, n, "3.0.0"); err != nil {
		t.Error(err)
	}
	if d.Version != "3.0.0" || d.PreviousVersion == nil || *d.PreviousVersion != "2.0.0" || d.Status != "completed" {
		t.Errorf("state after resuming: version %q, previous_version %v, status %q; want 3.0.0, 2.0.0, completed", d.Version, d.PreviousVersion, d.Status)
	}
	w.mustRun(0, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-var", "app_version=3.0.0")
	w.mustRun(0, nil, "destroy", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=3.0.0")
	if err := f.expectAll(n, "2.0.0"); err != nil {
		t.Errorf("destroy did not roll back to 2.0.0: %v", err)
	}
}

// sibling is another working directory next to w, driven by the same CLI
// and provider build: a second team member's checkout.
func (w *cliWorkdir) sibling(name string) *cliWorkdir {
	s := *w
	s.dir = filepath.Join(filepath.Dir(w.dir), name)
	return &s
}
