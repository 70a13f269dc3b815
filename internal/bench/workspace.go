package bench

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
	"strconv"
	"strings"
	"time"
)

// mainTF is the benchmark's configuration: one deployment over the targets
// of targets.auto.tfvars.json, every knob a variable so that one workspace
// serves both the batched rollout and the sequential baseline.
const mainTF = `terraform {
  required_providers {
    codomyrmex = { source = "codomyrmex/codomyrmex" }
  }
}

variable "targets" {
  type = list(object({ id = string, address = string }))
}
variable "app_version" { type = string }
variable "batch_size" { type = number }
variable "batch_delay" { type = string }
variable "max_concurrency" { type = number }
variable "health_interval" { type = string }

provider "codomyrmex" {
  max_concurrency = var.max_concurrency
}

resource "codomyrmex_deployment" "fleet" {
  name    = "bench"
  version = var.app_version
  targets = var.targets
  rolling = {
    batch_size  = var.batch_size
    batch_delay = var.batch_delay
  }
  health_check = {
    interval = var.health_interval
  }
}
`

// cliConfig points the CLI at pluginDir for the provider under both
// registry hosts: no registry, no init.
func cliConfig(pluginDir string) string {
	var b strings.Builder
	b.WriteString("provider_installation {\n  dev_overrides {\n")
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		fmt.Fprintf(&b, "    %q = %q\n", host+"/codomyrmex/codomyrmex", pluginDir)
	}
	b.WriteString("  }\n  direct {}\n}\n")
	return b.String()
}

// targetsJSON is the tfvars file listing n targets of f.
func targetsJSON(n int, address func(i int) string) ([]byte, error) {
	type target struct {
		ID      string `json:"id"`
		Address string `json:"address"`
	}
	targets := make([]target, n)
	for i := range targets {
		targets[i] = target{ID: "t" + strconv.Itoa(i+1), Address: address(i + 1)}
	}
	return json.MarshalIndent(map[string]any{"targets": targets}, "", " ")
}

// rollout is the value of the variables of one plan.
type rollout struct {
	Version        string
	BatchSize      int
	BatchDelay     time.Duration
	MaxConcurrency int
	HealthInterval time.Duration
}

func (r rollout) vars() []string {
	return []string{
		"-var", "app_version=" + r.Version,
		"-var", "batch_size=" + strconv.Itoa(r.BatchSize),
		"-var", "batch_delay=" + r.BatchDelay.String(),
		"-var", "max_concurrency=" + strconv.Itoa(r.MaxConcurrency),
		"-var", "health_interval=" + r.HealthInterval.String(),
	}
}

// workspace is one configuration directory and the way to run the CLI in it.
type workspace struct {
	dir     string
	cli     string
	env     []string // the CLI's whole environment
	usageOn bool     // the provider is wrapped and reports its usage
	logs    string
	// profiles, when set, gets one directory of CPU profiles per command.
	profiles string
}

// newWorkspace writes the configuration for n targets of f into dir.
func newWorkspace(dir, cli string, env []string, usageOn bool, n int, address func(int) string) (*workspace, error) {
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	tfvars, err := targetsJSON(n, address)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(mainTF), 0o644); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "targets.auto.tfvars.json"), tfvars, 0o644); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	return &workspace{dir: dir, cli: cli, env: env, usageOn: usageOn, logs: filepath.Join(dir, "logs")}, nil
}

// CLICPU is the CPU time of the CLI itself: everything but the provider.
// It is known only when the provider was wrapped.
func (m Measure) CLICPU() time.Duration {
	if m.Provider.Processes == 0 {
		return 0
	}
	return max(m.CPU-m.Provider.CPU, 0)
}

// Measure is one timed CLI command.
type Measure struct {
	Command  string
	Wall     time.Duration
	Provider Usage // zero when the provider was not wrapped
	// CPU is the CPU time of the CLI and of every process it started and
	// waited for, provider processes included.
	CPU      time.Duration
	Calls    map[string]int // target calls the fleet received meanwhile
	ExitCode int
}

// run runs the CLI with args in the workspace, timing it, and returns an
// error naming the command and its log when it exits with a code not in
// okCodes (default: 0 only).
func (w *workspace) run(ctx context.Context, name string, okCodes []int, args ...string) (Measure, error) {
	m := Measure{Command: strings.Join(append([]string{filepath.Base(w.cli)}, args...), " ")}
	logPath := filepath.Join(w.logs, name+".log")
	usagePath := filepath.Join(w.logs, name+".usage")
	logFile, err := os.Create(logPath)
	if err != nil {
		return m, fmt.Errorf("%s: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, w.cli, args...)
	cmd.Dir = w.dir
	cmd.Env = append(append([]string{}, w.env...), EnvUsageFile+"="+usagePath)
	if w.profiles != "" {
		dir := filepath.Join(w.profiles, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return m, fmt.Errorf("%s: %w", name, err)
		}
		cmd.Env = append(cmd.Env, EnvProfileDir+"="+dir)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	err = cmd.Run()
	m.Wall = time.Since(start)
	if cmd.ProcessState != nil {
		m.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		m.ExitCode = exit.ExitCode()
	default:
		return m, fmt.Errorf("%s: running %s: %w", name, w.cli, err)
	}
	if m.ExitCode != 0 && !slices.Contains(okCodes, m.ExitCode) {
		return m, fmt.Errorf("%s: %q exited with %d:\n%s", name, m.Command, m.ExitCode, tail(logPath, 30))
	}
	if w.usageOn {
		if m.Provider, err = ReadUsage(usagePath); err != nil {
			return m, fmt.Errorf("%s: %w", name, err)
		}
	}
	return m, nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// deploymentState is the part of the saved state the benchmark checks.
type deploymentState struct {
	Version        string `json:"version"`
	Status         string `json:"status"`
	TargetsUpdated int    `json:"targets_updated"`
	DurationMs     int64  `json:"duration_ms"`
}

// readState reads the deployment's attributes from the workspace's local
// state file.
func (w *workspace) readState() (deploymentState, error) {
	var st deploymentState
	data, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err != nil {
		return st, fmt.Errorf("reading the state: %w", err)
	}
	var file struct {
		Resources []struct {
			Type      string `json:"type"`
			Instances []struct {
				Attributes json.RawMessage `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return st, fmt.Errorf("decoding the state: %w", err)
	}
	for _, r := range file.Resources {
		if r.Type == "codomyrmex_deployment" && len(r.Instances) == 1 {
			if err := json.Unmarshal(r.Instances[0].Attributes, &st); err != nil {
				return st, fmt.Errorf("decoding the deployment's state: %w", err)
			}
			return st, nil
		}
	}
	return st, errors.New("the state holds no codomyrmex_deployment")
}

// firstLine is the first line of a command's output, for versions.
func firstLine(out []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(out), []byte("\n"))
	return string(line)
}
