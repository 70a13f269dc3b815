package bench

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs       int
	CPUModel   string
	GoVersion  string
	CLIVersion string
	Kernel     string
	LoadBefore string // /proc/loadavg when the run started
	LoadAfter  string
}

// describeMachine gathers what BENCHMARKS.md must say about the machine;
// the CLI runs with the benchmark's environment.
func describeMachine(ctx context.Context, cli string, env []string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), LoadBefore: loadAverage()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPUModel = strings.TrimSpace(value)
				break
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		m.GoVersion = firstLine(out)
	}
	version := exec.CommandContext(ctx, cli, "version")
	version.Env = env
	if out, err := version.Output(); err == nil {
		m.CLIVersion = firstLine(out)
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load average, or "" off Linux.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
}
