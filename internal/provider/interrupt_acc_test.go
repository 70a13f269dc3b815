package provider

// Interruption tests drive the real CLI (TF_ACC_TERRAFORM_PATH) as a
// process, so that it can be signalled mid-rollout: SIGINT must stop the
// rollout with no new target started and save a state that matches the
// fleet; SIGKILL must leave nothing that the next apply cannot converge
// from on its own.

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

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

// startSlowApply sets every call about version to hang for hang, starts
// `apply` of version in the background and returns once the fleet has
// accepted `after` deploys of it.
func startSlowApply(t *testing.T, w *cliWorkdir, f *testFleet, version string, hang time.Duration, after int) (*exec.Cmd, *syncBuffer, <-chan error) {
	t.Helper()
	f.SetFault("*", simulator.Fault{Hang: hang, FailVersion: version})
	cmd, out, done := w.start("apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version="+version)
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
	w.writeConfig(hcl{vars: []string{"app_version"}, name: "web", provider: cliProvider, body: rollingArgs(f, n, 1, "var.app_version")}.String())
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0")

	cmd, out, done := startSlowApply(t, w, f, "3.0.0", 400*time.Millisecond, 2)
	accepted := f.deploysOf("3.0.0")
	// Ctrl-C in a terminal signals the whole foreground process group: the
	// CLI and the provider it started.
	output := sigint(t, cmd, out, done)
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
	expectRolledBack(t, w, f, n)

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
	w.writeConfig(hcl{vars: []string{"app_version"}, name: "web", provider: cliProvider, body: rollingArgs(f, n, 1, "var.app_version")}.String())
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

// sigint sends SIGINT to the CLI's process group and returns its output
// once it has exited, which must be a failure.
func sigint(t *testing.T, cmd *exec.Cmd, out *syncBuffer, done <-chan error) string {
	t.Helper()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := waitExit(t, done, "apply after SIGINT")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("apply after SIGINT: %v, want a failure\n%s", err, tail(out.String(), 4000))
	}
	return out.String()
}

// expectRolledBack checks, after an interrupted update of "web" to 3.0.0,
// that its n targets are back at 2.0.0 and that the saved state matches
// the fleet.
func expectRolledBack(t *testing.T, w *cliWorkdir, f *testFleet, n int) {
	t.Helper()
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
}
