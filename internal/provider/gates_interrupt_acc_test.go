package provider

// Acceptance tests of gates interrupted: SIGINT before and after a gate,
// and a resume stopped by SIGINT or timeouts.update (the paths of
// gates_paths_acc_test.go).

import (
	"errors"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startGateApply starts `apply` in the background and returns once the
// router gives version pct: the stage's targets are deployed and its
// window has begun.
func startGateApply(t *testing.T, w *cliWorkdir, f *testFleet, version string, pct float64) (*exec.Cmd, *syncBuffer, <-chan error) {
	t.Helper()
	cmd, out, done := w.start("apply", "-auto-approve", "-input=false", "-no-color")
	deadline := time.Now().Add(time.Minute)
	for f.Router().Weights[version] != pct {
		select {
		case err := <-done:
			t.Fatalf("apply ended (%v) before the weight of %s reached %s:\n%s", err, version, percent(pct), tail(out.String(), 4000))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the weight of %s did not reach %s within a minute:\n%s", version, percent(pct), tail(out.String(), 4000))
		}
	}
	// Let the weights call return: the signal comes in the window.
	time.Sleep(200 * time.Millisecond)
	return cmd, out, done
}

// interruptGate sends SIGINT to the CLI's process group and waits for a
// failed exit that says the rollout was cancelled.
func interruptGate(t *testing.T, cmd *exec.Cmd, out *syncBuffer, done <-chan error) {
	t.Helper()
	if want := "rollout cancelled, no further target started"; !errorPattern(want).MatchString(sigint(t, cmd, out, done)) {
		t.Errorf("the interrupted apply does not say %q:\n%s", want, tail(out.String(), 4000))
	}
}

// TestAccGates_sigintAtGate interrupts a canary in the window of the stage
// its gate stands at, and again in the window of the stage after the gate
// once approved: each time the stage's targets go back, the weight goes
// back to what it was, no further target starts, and the saved state
// matches the fleet. Interrupted after the gate, the rollout is paused at
// the gate again: the approval withdrawn, nothing moves; approved again,
// it continues.
func TestAccGates_sigintAtGate(t *testing.T) {
	t.Parallel()
	const n = 4
	w := newCLIWorkdir(t)
	f, events := newEventFleet(t, n)
	config := func(version, interval, extra string) {
		w.writeConfig(hcl{name: "web", provider: cliProvider, body: canaryArgs(f, version, threeStageCanary(f, interval, "[{ at = 25 }]")), after: extra}.String())
	}
	config("2.0.0", "0s", `  approve = { version = "2.0.0" }`)
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if err := f.expectAll(n, "2.0.0"); err != nil {
		t.Fatal(err)
	}

	// In the window of the gate's stage, before the pause.
	config("3.0.0", "30s", "")
	mark := events.mark()
	cmd, out, done := startGateApply(t, w, f, "3.0.0", 25)
	interruptGate(t, cmd, out, done)
	if got := events.since(mark); !slices.Equal(got, []string{"deploy t1=3.0.0", "weights 3.0.0=25", "weights 3.0.0=0", "deploy t1=2.0.0"}) {
		t.Errorf("the interrupted apply called the fleet %v, want t1 deployed, 25%%, then 0%% and t1 back", got)
	}
	if err := f.expectAll(n, "2.0.0"); err != nil {
		t.Error(err)
	}
	if err := weightOf(f, "3.0.0", 0); err != nil {
		t.Error(err)
	}
	d, ok := w.localState("web")
	if !ok {
		t.Fatal("the interrupted update left no deployment in state")
	}
	if err := stateMatchesFleet(d, f, n, "3.0.0"); err != nil {
		t.Errorf("saved state after SIGINT at the gate: %v", err)
	}
	if d.Status == "paused" {
		t.Errorf("saved status %q after SIGINT before the gate was reached", d.Status)
	}

	// Reach the gate, then interrupt the resumed rollout in the next
	// stage's window.
	config("3.0.0", "0s", "")
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	w.expectPaused(25)
	config("3.0.0", "30s", `  approve = { version = "3.0.0", through = 25 }`)
	mark = events.mark()
	cmd, out, done = startGateApply(t, w, f, "3.0.0", 50)
	interruptGate(t, cmd, out, done)
	if got := events.since(mark); !slices.Equal(got, []string{"deploy t2=3.0.0", "weights 3.0.0=50", "weights 3.0.0=25", "deploy t2=2.0.0"}) {
		t.Errorf("the interrupted resume called the fleet %v, want t2 deployed, 50%%, then 25%% and t2 back", got)
	}
	want := map[string]string{"t1": "3.0.0", "t2": "2.0.0", "t3": "2.0.0", "t4": "2.0.0"}
	if err := f.expectVersions(want); err != nil {
		t.Error(err)
	}
	if err := weightOf(f, "3.0.0", 25); err != nil {
		t.Error(err)
	}
	s := w.gateState()
	if !maps.Equal(s.TargetVersions, want) || s.TrafficPercentage != 25 || s.Version != "3.0.0" {
		t.Errorf("saved %s after SIGINT past the gate, want the fleet %v, 3.0.0 at 25%%", s, want)
	}
	// Back where it was paused: the gate holds until approved again.
	w.expectPaused(25)
	config("3.0.0", "0s", "")
	for _, refresh := range []string{"-refresh=false", "-refresh=true"} {
		w.mustRun(0, nil, "plan", refresh, "-out=held.tfplan", "-input=false", "-no-color")
		if after := plannedDeployment(t, w, "held.tfplan"); len(after.ChangedTargets) != 0 || after.Status != "paused" {
			t.Errorf("plan %s with the approval withdrawn: changed_targets %v, status %q; want none, still paused", refresh, after.ChangedTargets, after.Status)
		}
	}
	mark = events.mark()
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if got := events.since(mark); len(got) > 0 {
		t.Errorf("the apply with the approval withdrawn called the fleet: %v", got)
	}
	w.expectPaused(25)
	w.mustRun(0, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	config("3.0.0", "0s", `  approve = { version = "3.0.0", through = 25 }`)
	mark = events.mark()
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if got := slices.Sorted(slices.Values(events.since(mark))); !slices.Equal(got, []string{"deploy t2=3.0.0", "deploy t3=3.0.0", "deploy t4=3.0.0", "weights 3.0.0=100", "weights 3.0.0=50"}) {
		t.Errorf("the approved apply after the interrupted one called the fleet %v", events.since(mark))
	}
	if err := f.expectAll(n, "3.0.0"); err != nil {
		t.Error(err)
	}
}

// startResumeApply starts `apply` in the background and returns once the
// CLI has begun modifying the deployment: a resume then waits for the
// measurement of the paused stage, calling nothing.
func startResumeApply(t *testing.T, w *cliWorkdir) (*exec.Cmd, *syncBuffer, <-chan error) {
	t.Helper()
	cmd, out, done := w.start("apply", "-auto-approve", "-input=false", "-no-color")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), "codomyrmex_deployment.web: Modifying") {
		select {
		case err := <-done:
			t.Fatalf("apply ended (%v) before modifying the deployment:\n%s", err, tail(out.String(), 4000))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("apply did not start modifying the deployment within a minute:\n%s", tail(out.String(), 4000))
		}
	}
	time.Sleep(time.Second)
	return cmd, out, done
}

// TestAccGates_interruptedResumeStaysPaused: an approved apply resumes a
// canary paused at 25 % and is stopped during the measurement of the
// paused stage, by SIGINT and by timeouts.update. Only a failed
// measurement abandons a release: the fleet, the weight and the pause
// stay as they were, and the message says so. Approved again, the
// rollout continues.
func TestAccGates_interruptedResumeStaysPaused(t *testing.T) {
	t.Parallel()
	const n = 4
	w := newCLIWorkdir(t)
	f, events := newEventFleet(t, n)
	wc := newWebCheck(t, always(true))
	canary := threeStageCanary(f, "0s", "[{ at = 25 }]")
	config := func(initialDelay, extra string) {
		w.writeConfig(hcl{name: "web", provider: cliProvider, body: canaryArgs(f, "2.0.0", canary), after: analysisBlock("1s", initialDelay, wc.metric(0)) + "\n" + extra}.String())
	}
	config("0s", "")
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	w.expectPaused(25)
	paused := map[string]string{"t1": "2.0.0", "t2": "1.0.0", "t3": "1.0.0", "t4": "1.0.0"}

	for _, stop := range []struct {
		name, extra string
		signal      bool
		says        string
	}{
		{"SIGINT", "", true, "rollout cancelled while measuring the paused stage, before resuming: context canceled"},
		{"timeouts.update", `  timeouts = { update = "3s" }`, false, `timeouts.update (3s) expired`},
	} {
		config("20s", `  approve = { version = "2.0.0", through = 25 }`+"\n"+stop.extra)
		mark := events.mark()
		cmd, out, done := startResumeApply(t, w)
		if stop.signal {
			if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
		}
		err := waitExit(t, done, "the interrupted resume")
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Fatalf("%s: apply %v, want a failure\n%s", stop.name, err, tail(out.String(), 4000))
		}
		output := flat(out.String())
		for _, want := range []string{stop.says, "stays paused at 25%"} {
			if !strings.Contains(output, want) {
				t.Errorf("%s: the apply does not say %q:\n%s", stop.name, want, tail(out.String(), 4000))
			}
		}
		for _, wrong := range []string{"stage 2 (50%)", "rolled back to"} {
			if strings.Contains(output, wrong) {
				t.Errorf("%s: the apply says %q:\n%s", stop.name, wrong, tail(out.String(), 4000))
			}
		}
		if got := events.since(mark); len(got) > 0 {
			t.Errorf("%s: the interrupted resume called the fleet: %v", stop.name, got)
		}
		if err := f.expectVersions(paused); err != nil {
			t.Errorf("%s: %v", stop.name, err)
		}
		if err := weightOf(f, "2.0.0", 25); err != nil {
			t.Errorf("%s: %v", stop.name, err)
		}
		s := w.expectPaused(25)
		if s.Version != "2.0.0" || strp(s.PreviousVersion) != `"1.0.0"` || s.TrafficPercentage != 25 || !maps.Equal(s.TargetVersions, paused) {
			t.Errorf("%s: saved %s, previous_version %s; want 2.0.0 paused as before", stop.name, s, strp(s.PreviousVersion))
		}
	}

	config("0s", `  approve = { version = "2.0.0", through = 25 }`)
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if err := f.expectAll(n, "2.0.0"); err != nil {
		t.Error(err)
	}
	if s := w.gateState(); s.Status != "completed" || s.TrafficPercentage != 100 {
		t.Errorf("approved again: saved %s, want completed", s)
	}
}
