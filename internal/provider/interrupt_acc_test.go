package provider

// Interruption tests drive the real CLI (TF_ACC_TERRAFORM_PATH) as a
// process, so that it can be signalled mid-rollout: SIGINT must stop the
// rollout with no new target started and save a state that matches the
// fleet; SIGKILL must leave nothing that the next apply cannot converge
// from on its own.

import (
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestAccInterrupt_sigintStopsRollout sends SIGINT to `apply` while the
// second of six targets is being updated: no further target starts, the
// touched ones are rolled back, the apply fails saying it was cancelled,
// and the saved state matches the fleet. The next apply converges.
func TestAccInterrupt_sigintStopsRollout(t *testing.T) {
	t.Parallel()
	const n = 6
	w, f := appliedOneByOne(t, n)

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
	w, f := appliedOneByOne(t, n)

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
