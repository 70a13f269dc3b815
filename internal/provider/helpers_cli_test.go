package provider

// Helpers of the tests that drive the real CLI (TF_ACC_TERRAFORM_PATH) as a
// process, against a provider binary built for the test and installed
// through dev_overrides: interruption, secrets, saved plans, the
// model-based test.

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
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// A hard link to the binary built once for the whole run (a copy where
	// links are refused): every working directory has its own bin/.
	built := providerBinary(t)
	if err := os.Link(built, filepath.Join(bin, "terraform-provider-codomyrmex")); err != nil {
		copyFile(t, built, filepath.Join(bin, "terraform-provider-codomyrmex"), 0o755)
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

// builtProvider is the provider binary of this test run, built once by
// providerBinary into a directory TestMain removes.
var builtProvider struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// providerBinary builds the provider from this checkout the first time it is
// called and returns the binary's path.
func providerBinary(t *testing.T) string {
	t.Helper()
	builtProvider.once.Do(func() {
		// Outlives the test that builds it: TestMain removes it after the run.
		dir, err := os.MkdirTemp("", "codomyrmex-provider-*") //nolint:usetesting // shared by every test of the run
		if err != nil {
			builtProvider.err = err
			return
		}
		builtProvider.dir = dir
		builtProvider.path = filepath.Join(dir, "terraform-provider-codomyrmex")
		build := exec.Command("go", "build", "-o", builtProvider.path, "../..")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			builtProvider.err = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if builtProvider.err != nil {
		t.Fatalf("building the provider: %v", builtProvider.err)
	}
	return builtProvider.path
}

// copyFile copies src to dst with mode perm.
func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, perm); err != nil {
		t.Fatal(err)
	}
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
	return exited(w.t, ctx, cmd.Run(), out.String(), w.cli+" "+strings.Join(args, " "))
}

// exited is the output and exit code of a CLI run that ended with err; a
// run that did not exit by itself (it did not start, or ctx ended it)
// fails the test.
func exited(t *testing.T, ctx context.Context, err error, out, what string) (string, int) {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &exit) && ctx.Err() == nil:
		return out, exit.ExitCode()
	default:
		t.Fatalf("%s: %v\n%s", what, err, tail(out, 4000))
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
	attrs, tainted, ok := deploymentAttributes(t, raw, name)
	if ok {
		if err := json.Unmarshal(attrs, &d); err != nil {
			t.Fatalf("reading the deployment's attributes: %v", err)
		}
	}
	return d, tainted, ok
}

// deploymentAttributes returns the attributes of codomyrmex_deployment.name
// in the state JSON raw, and whether it is tainted; ok is false when it is
// not there.
func deploymentAttributes(t *testing.T, raw []byte, name string) (attrs json.RawMessage, tainted, ok bool) {
	t.Helper()
	if in := stateInstances(t, raw, "codomyrmex_deployment", name); len(in) > 0 {
		return in[0].Attributes, in[0].Status == "tainted", true
	}
	return nil, false, false
}

// stateInstance is one instance of a resource in the state JSON.
type stateInstance struct {
	Status     string          `json:"status"`
	Deposed    string          `json:"deposed"`
	Attributes json.RawMessage `json:"attributes"`
}

// stateInstances returns the instances of the resource typ.name in the
// state JSON raw (a state file or the output of `state pull`).
func stateInstances(t *testing.T, raw []byte, typ, name string) []stateInstance {
	t.Helper()
	var st struct {
		Resources []struct {
			Type      string          `json:"type"`
			Name      string          `json:"name"`
			Instances []stateInstance `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("reading the state: %v", err)
	}
	for _, r := range st.Resources {
		if r.Type == typ && r.Name == name {
			return r.Instances
		}
	}
	return nil
}

func (w *cliWorkdir) localState(name string) (deploymentState, bool) { //nolint:unparam // tests read better with the resource named
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

// stateFile is w's local state file; the test fails when there is none.
func (w *cliWorkdir) stateFile() []byte {
	w.t.Helper()
	return mustRead(w.t, filepath.Join(w.dir, "terraform.tfstate"))
}

// mustRead is the content of file p; the test fails when it cannot be read.
func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// sibling is another working directory next to w, driven by the same CLI
// and provider build: a second team member's checkout.
func (w *cliWorkdir) sibling(name string) *cliWorkdir {
	s := *w
	s.dir = filepath.Join(filepath.Dir(w.dir), name)
	return &s
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// start runs the CLI with args in the background, stopped at cliTimeout:
// its output goes to out, its exit to done.
func (w *cliWorkdir) start(args ...string) (cmd *exec.Cmd, out *syncBuffer, done <-chan error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	w.t.Cleanup(cancel)
	out = &syncBuffer{}
	cmd = w.command(ctx, nil, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	exit := make(chan error, 1)
	go func() { exit <- cmd.Wait() }()
	return cmd, out, exit
}
