package provider

// Helpers of the tests that interrupt the CLI: a background apply, its
// output, SIGINT, and what state and the fleet must show afterwards.

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testproc"
)

// appliedOneByOne is a CLI workdir whose deployment "web" of
// var.app_version over n targets, one at a time, is applied at 2.0.0.
func appliedOneByOne(t *testing.T, n int) (*cliWorkdir, *testFleet) {
	t.Helper()
	w := newCLIWorkdir(t)
	f := newTestFleet(t, n, "1.0.0")
	w.writeConfig(hcl{vars: []string{"app_version"}, name: "web", provider: cliProvider, body: rollingArgs(f, n, 1, "var.app_version")}.String())
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0")
	return w, f
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
type syncBuffer = testproc.SyncBuffer

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
