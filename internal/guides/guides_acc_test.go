package guides

// TestAccGuides runs every guide of docs/guides as written: in a fresh
// working directory, with the PATH of a newcomer who followed README (not
// the test's own): the CLI under test (TF_ACC_TERRAFORM_PATH) as
// `terraform`, `codomyrmex-agent` and the provider built from this tree
// (the provider through dev_overrides) and the tools
// `scripts/install-clis.sh links` links; each shell step in bash, the
// outputs the guide quotes checked, and nothing it started left running.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clicache"
)

// stepTimeout bounds one shell step.
const stepTimeout = 3 * time.Minute

// systemPath is the part of a newcomer's PATH the tests take from the
// system: where bash, curl and the like are. The CLI under test (as
// `terraform`) and Go come before it, as the ones the newcomer installed.
const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// newcomer is what someone has who followed README's "Try it yourself" on
// this machine: its PATH before README adds ~/.codomyrmex/bin (the CLI
// under test as `terraform`, Go, the system's directories), the directory
// README builds the provider and the agent into and
// `scripts/install-clis.sh links` linked prometheus and caddy into, and a CLI
// config file pointing both registries' source addresses at the provider.
type newcomer struct {
	path, bin, rc string
	// cache is the CLI cache install-clis.sh builds into: the one of this
	// machine, as HOME is not, in the guides.
	cache string
}

func setUp(t *testing.T) newcomer {
	t.Helper()
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || cli == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make testacc does)")
	}
	dir := t.TempDir()
	n := newcomer{bin: filepath.Join(dir, "bin")}
	cache, err := clicache.Dir()
	if err != nil {
		t.Fatal(err)
	}
	n.cache = cache
	own := filepath.Join(dir, "cli")
	if err := os.MkdirAll(own, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(cli, filepath.Join(own, "terraform")); err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	n.path = strings.Join([]string{own, filepath.Dir(goBin), systemPath}, string(os.PathListSeparator))
	for out, pkg := range map[string]string{"terraform-provider-codomyrmex": "../..", "codomyrmex-agent": "../../cmd/codomyrmex-agent"} {
		build := exec.Command("go", "build", "-o", filepath.Join(n.bin, out), pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, b)
		}
	}
	// The metrics and routing guides run `prometheus` and `caddy`: README
	// has them linked into ~/.codomyrmex/bin.
	links := exec.Command("../../scripts/install-clis.sh", "links", n.bin)
	links.Env = append(os.Environ(), "PATH="+n.path, "CODOMYRMEX_CLI_CACHE="+n.cache)
	if b, err := links.CombinedOutput(); err != nil {
		t.Fatalf("install-clis.sh links: %v\n%s", err, b)
	}
	n.rc = filepath.Join(dir, "cli.tfrc")
	config := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/codomyrmex/codomyrmex" = %q
    "registry.opentofu.org/codomyrmex/codomyrmex" = %q
  }
  direct {}
}
`, n.bin, n.bin)
	if err := os.WriteFile(n.rc, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAccGuides(t *testing.T) {
	n := setUp(t)
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
			path := n.bin + string(os.PathListSeparator) + n.path
			if name == "README" {
				// README builds and links into ~/.codomyrmex/bin itself.
				path = n.path
			}
			runGuide(t, name, work, steps, path, n)
		})
	}
	if ran == 0 {
		t.Fatal("no guide has steps to run")
	}
}

// runGuide runs steps in a fresh directory with PATH path. A guide that
// starts processes in the background (a simulated fleet) must stop them in
// its last steps; the test fails when it does not, then stops them.
func runGuide(t *testing.T, name, work string, steps []Step, path string, n newcomer) {
	env := append(os.Environ(),
		"PATH="+path, "CODOMYRMEX_CLI_CACHE="+n.cache,
		"TF_CLI_CONFIG_FILE="+n.rc, "CHECKPOINT_DISABLE=1", "HOME="+work,
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
	if left := running(groups, 15*time.Second); len(left) > 0 {
		t.Fatalf("%s.md: still running after its last step: %s; end the guide with a step that stops what it started", name, strings.Join(left, "; "))
	}
}

// running waits up to wait for the processes of groups to end, and
// describes those still running then (pid and command line). Processes
// that ended but were not reaped yet (zombies) have ended.
func running(groups []int, wait time.Duration) []string {
	in := map[int]bool{}
	for _, g := range groups {
		in[g] = true
	}
	deadline := time.Now().Add(wait)
	for {
		var left []string
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			// pid (comm) state ppid pgrp ...: comm may hold spaces.
			fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
			if len(fields) < 3 || fields[0] == "Z" {
				continue
			}
			if pgrp, err := strconv.Atoi(fields[2]); err == nil && in[pgrp] {
				cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				left = append(left, fmt.Sprintf("%d %s", pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
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

// backgroundListen finds the address of a command started in the
// background, its pid written to a file or not.
var backgroundListen = regexp.MustCompile(`(?:--listen\s+|--web\.listen-address=)(\S+)[^\n]*&(?:\s*echo \$! > \S+)?\s*$`)

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
		// Keep the scripts executable, as git does.
		fi, err := os.Stat(filepath.Join(repo, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, fi.Mode().Perm()); err != nil {
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
