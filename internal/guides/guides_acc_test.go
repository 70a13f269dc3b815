package guides

// TestAccGuides runs every guide of docs/guides as written: in a fresh
// working directory, with the CLI under test (TF_ACC_TERRAFORM_PATH) as
// `terraform` on PATH, `codomyrmex-agent` and the provider built from this
// tree (the provider through dev_overrides, as README says), each shell step
// in bash, and the outputs the guide quotes checked.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/caddytest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/promtest"
)

// stepTimeout bounds one shell step.
const stepTimeout = 3 * time.Minute

// tools builds the provider and the agent into a directory that also holds
// `terraform` (the CLI under test), and returns it with a CLI config file
// pointing both registries' source addresses at the provider.
func tools(t *testing.T) (bin, rc string) {
	t.Helper()
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || cli == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make testacc does)")
	}
	dir := t.TempDir()
	bin = filepath.Join(dir, "bin")
	for out, pkg := range map[string]string{"terraform-provider-codomyrmex": "../..", "codomyrmex-agent": "../../cmd/codomyrmex-agent"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bin, out), pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, b)
		}
	}
	if err := os.Symlink(cli, filepath.Join(bin, "terraform")); err != nil {
		t.Fatal(err)
	}
	// The metrics guide runs the Prometheus that install-clis.sh built.
	prom, err := promtest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(prom, filepath.Join(bin, "prometheus")); err != nil {
		t.Fatal(err)
	}
	// The routing guide runs the Caddy that install-clis.sh built.
	caddy, err := caddytest.Binary()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(caddy, filepath.Join(bin, "caddy")); err != nil {
		t.Fatal(err)
	}
	rc = filepath.Join(dir, "cli.tfrc")
	config := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/codomyrmex/codomyrmex" = %q
    "registry.opentofu.org/codomyrmex/codomyrmex" = %q
  }
  direct {}
}
`, bin, bin)
	if err := os.WriteFile(rc, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, rc
}

func TestAccGuides(t *testing.T) {
	bin, rc := tools(t)
	paths, err := filepath.Glob("../../docs/guides/*.md")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no guides found: %v", err)
	}
	// README's "Try it yourself" runs in a copy of the repository, as after
	// its git clone, and so do the guides that say so.
	paths = append(paths, "../../README.md")
	ran := 0
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		steps, err := Parse(string(text))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(steps) == 0 {
			continue
		}
		ran++
		name := strings.TrimSuffix(filepath.Base(p), ".md")
		t.Run(name, func(t *testing.T) {
			work := t.TempDir()
			if name == "README" || InRepository(string(text)) {
				copyRepository(t, "../..", work)
			}
			runGuide(t, name, work, steps, bin, rc)
		})
	}
	if ran == 0 {
		t.Fatal("no guide has steps to run")
	}
}

// runGuide runs steps in a fresh directory. Processes a step leaves in the
// background (a simulated fleet) are stopped at the end.
func runGuide(t *testing.T, name, work string, steps []Step, bin, rc string) {
	env := append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "HOME="+work,
		"TF_ACC=", "TF_LOG=", "TF_LOG_PATH=")
	// A fresh HOME, but Go's caches of this machine: a step that builds
	// must not download and compile everything again.
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", v, err)
		}
		env = append(env, v+"="+strings.TrimSpace(string(out)))
	}
	var groups []int
	t.Cleanup(func() {
		for _, pgid := range groups {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	})
	// The shell's exported variables and working directory carry from one
	// step to the next, as in a terminal.
	session := t.TempDir()
	prelude := fmt.Sprintf(`[ -f %[1]s/env ] && . %[1]s/env
[ -f %[1]s/cwd ] && cd "$(cat %[1]s/cwd)"
trap 'export -p > %[1]s/env; pwd > %[1]s/cwd' EXIT
`, session)
	var last, lastCmd string
	for i, s := range steps {
		where := fmt.Sprintf("%s.md line %d", name, s.Line)
		switch s.Kind {
		case KindFile:
			p := filepath.Join(work, s.Arg)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(s.Body), 0o644); err != nil {
				t.Fatal(err)
			}
		case KindRun:
			out, code, pgid := runStep(t, work, env, prelude+s.Body)
			groups = append(groups, pgid)
			if code != s.Exit {
				t.Fatalf("%s: step %d exited %d, want %d:\n$ %s\n%s", where, i+1, code, s.Exit, s.Body, tail(out))
			}
			waitListening(t, s.Body, where)
			last, lastCmd = out, s.Body
		case KindOutput:
			if missing, ok := Matches(last, s.Body); !ok {
				t.Fatalf("%s: the output of\n$ %s\ndoes not show %q:\n%s", where, lastCmd, missing, tail(last))
			}
		case KindSkip:
			t.Logf("%s: not run: %s", where, s.Arg)
		}
	}
}

// runStep runs a shell step with bash -e in its own process group, with
// "yes" for every confirmation prompt, and returns the combined output,
// the exit status and the process group (background jobs stay in it). The
// output goes to a file, not a pipe: a background job outlives the step
// and must not lose its stdout.
func runStep(t *testing.T, dir string, env []string, script string) (string, int, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	out, err := os.CreateTemp(t.TempDir(), "step-*.out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	// Every prompt reads "yes". A file, not a pipe: each command of the step
	// reads (and buffers) its own share, and a background job holding it
	// open does not keep the step from ending.
	yes, err := os.CreateTemp(t.TempDir(), "yes-*")
	if err != nil {
		t.Fatal(err)
	}
	defer yes.Close()
	if _, err := yes.WriteString(strings.Repeat("yes\n", 1<<16)); err != nil {
		t.Fatal(err)
	}
	if _, err := yes.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = yes
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Run()
	text, rerr := os.ReadFile(out.Name())
	if rerr != nil {
		t.Fatal(rerr)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(text), 0, cmd.Process.Pid
	case errors.As(err, &exit) && ctx.Err() == nil:
		return string(text), exit.ExitCode(), cmd.Process.Pid
	default:
		t.Fatalf("$ %s\n%v\n%s", script, err, tail(string(text)))
		return "", -1, 0
	}
}

var backgroundListen = regexp.MustCompile(`(?:--listen\s+|--web\.listen-address=)(\S+)[^\n]*&\s*$`)

// waitListening waits until the addresses that background commands of the
// step listen on accept connections, as a person would before the next step.
func waitListening(t *testing.T, script, where string) {
	t.Helper()
	for _, line := range strings.Split(script, "\n") {
		m := backgroundListen.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", m[1], time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: nothing listens on %s: %v", where, m[1], err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// copyRepository copies the files git tracks in repo into dir.
func copyRepository(t *testing.T, repo, dir string) {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("listing the repository: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(repo, name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func tail(s string) string {
	const n = 6000
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
