package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Versions the benchmark rolls out: the fleet starts at the first.
const (
	versionInitial    = "1.0.0"
	versionBatched    = "2.0.0"
	versionSequential = "3.0.0"
	versionDelayed    = "4.0.0"
)

// Config is one benchmark run.
type Config struct {
	// RepoDir is the module root the provider and the agent are built from.
	RepoDir string
	// CLI is the tofu or terraform binary.
	CLI string
	// WorkDir holds binaries, workspaces and logs; "" means a temporary
	// directory removed at the end.
	WorkDir string
	// Fleets are the fleet sizes N, in order.
	Fleets []int
	// SequentialFleets are the sizes for which the sequential baseline
	// (batch_size 1, max_concurrency 1) also runs.
	SequentialFleets []int
	// DelayedFleets are the sizes on which one more apply runs with
	// DelayedBatchDelay between batches (the resource's default is 5s),
	// everything else as in the main apply.
	DelayedFleets     []int
	DelayedBatchDelay time.Duration
	// Latency is injected into every target call by the simulator.
	Latency        time.Duration
	BatchSize      int
	MaxConcurrency int
	BatchDelay     time.Duration
	HealthInterval time.Duration
	// ProfileDir, when set, serves the provider in process with a CPU
	// profile per provider process written there, instead of wrapping the
	// built provider (then there is no RSS or CPU figure).
	ProfileDir string
	// Log receives progress lines.
	Log io.Writer
}

// DefaultConfig is what `make bench` runs: the fleet sizes,
// B = max_concurrency = 100 and 50 ms per call, no batch delay (so the
// ratio to the ideal holds every fixed cost undiluted), the sequential
// baseline on the fleets it covers in a few minutes (5000 targets one at a
// time would take 500 s alone), and one apply of 1000 targets with the
// resource's default batch_delay of 5s.
func DefaultConfig() Config {
	return Config{
		RepoDir:           ".",
		Fleets:            []int{100, 1000, 5000},
		SequentialFleets:  []int{100, 1000},
		DelayedFleets:     []int{1000},
		DelayedBatchDelay: 5 * time.Second,
		Latency:           50 * time.Millisecond,
		BatchSize:         100,
		MaxConcurrency:    100,
		BatchDelay:        0,
		HealthInterval:    100 * time.Millisecond,
	}
}

// FleetResult is every measure taken on one fleet size.
type FleetResult struct {
	Targets int
	// Create applies the configuration at the version the fleet already
	// runs: it reads every target's version and deploys nothing.
	Create Measure
	// Plan is `plan -refresh=false` of a new version: the provider's plan
	// of N targets, with changed_targets listing all of them.
	Plan Measure
	// Apply applies that saved plan: N deploys and N health calls.
	Apply      Measure
	ApplyIdeal time.Duration
	// EngineDuration is the rollout's own duration (duration_ms in state).
	EngineDuration time.Duration
	// PlanNoChange is a default `plan` once converged: refresh, then
	// nothing to do.
	PlanNoChange Measure
	// Refresh is `apply -refresh-only`: N health calls.
	Refresh      Measure
	RefreshFloor time.Duration
	// Sequential is the baseline, when it ran on this fleet.
	Sequential *ExtraApply
	// Delayed is the apply with DelayedBatchDelay, when it ran.
	Delayed *ExtraApply
}

// ExtraApply is one more apply on the same fleet: the sequential baseline
// or the apply with batch delays.
type ExtraApply struct {
	Apply          Measure
	Ideal          time.Duration
	EngineDuration time.Duration
}

// Report is a whole run.
type Report struct {
	Config  Config
	Machine Machine
	Command string
	Fleets  []FleetResult
	Started time.Time
	Elapsed time.Duration
}

// Run builds everything, then measures each fleet size in turn.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rep := &Report{Config: cfg, Started: time.Now(), Command: commandLine(os.Args)}
	work := cfg.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "codomyrmex-bench-")
		if err != nil {
			return nil, fmt.Errorf("work directory: %w", err)
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	work, err := filepath.Abs(work)
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	b, err := prepare(ctx, cfg, work)
	if err != nil {
		return nil, err
	}
	rep.Machine = describeMachine(ctx, cfg.CLI, b.env)
	for _, n := range cfg.Fleets {
		fmt.Fprintf(cfg.Log, "== fleet of %d targets\n", n)
		res, err := b.measureFleet(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("fleet of %d targets: %w", n, err)
		}
		rep.Fleets = append(rep.Fleets, res)
	}
	rep.Machine.LoadAfter = loadAverage()
	rep.Elapsed = time.Since(rep.Started)
	return rep, nil
}

func (cfg Config) validate() error {
	var errs []error
	if cfg.CLI == "" {
		errs = append(errs, errors.New("no CLI given"))
	} else if _, err := os.Stat(cfg.CLI); err != nil {
		errs = append(errs, fmt.Errorf("CLI %s: %w (scripts/install-clis.sh tofu builds it)", cfg.CLI, err))
	}
	if len(cfg.Fleets) == 0 {
		errs = append(errs, errors.New("no fleet size given"))
	}
	for _, n := range slices.Concat(cfg.Fleets, cfg.SequentialFleets, cfg.DelayedFleets) {
		if n < 1 || n > 10000 {
			errs = append(errs, fmt.Errorf("fleet size %d is outside 1–10000", n))
		}
	}
	if cfg.BatchSize < 1 || cfg.MaxConcurrency < 1 {
		errs = append(errs, fmt.Errorf("batch size (%d) and max_concurrency (%d) must be at least 1", cfg.BatchSize, cfg.MaxConcurrency))
	}
	if cfg.Latency < 0 || cfg.BatchDelay < 0 || cfg.DelayedBatchDelay < 0 || cfg.HealthInterval <= 0 {
		errs = append(errs, errors.New("latency and batch delay must not be negative, health interval must be positive"))
	}
	return errors.Join(errs...)
}

// bench is a prepared run: binaries built, CLI environment ready.
type bench struct {
	cfg      Config
	work     string
	agent    string
	env      []string
	wrap     bool
	profiles string // absolute ProfileDir, when profiling
}

// prepare builds the provider and the agent into work, installs the
// plugin that the CLI starts (this binary, wrapping the provider), and
// writes the CLI configuration.
func prepare(ctx context.Context, cfg Config, work string) (*bench, error) {
	b := &bench{cfg: cfg, work: work, agent: filepath.Join(work, "bin", "codomyrmex-agent"), wrap: cfg.ProfileDir == ""}
	provider := filepath.Join(work, "bin", "terraform-provider-codomyrmex")
	fmt.Fprintln(cfg.Log, "building the provider and codomyrmex-agent")
	for _, build := range [][]string{{"-o", provider, "."}, {"-o", b.agent, "./cmd/codomyrmex-agent"}} {
		cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, build...)...)
		cmd.Dir = cfg.RepoDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %w\n%s", strings.Join(build, " "), err, out)
		}
	}
	// The CLI starts whatever dev_overrides points at: a copy of this
	// binary, which runs the real provider as its child.
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("locating the benchmark binary: %w", err)
	}
	pluginDir := filepath.Join(work, "plugin")
	if err := copyExecutable(self, filepath.Join(pluginDir, "terraform-provider-codomyrmex")); err != nil {
		return nil, err
	}
	rc := filepath.Join(work, "cli.tfrc")
	if err := os.WriteFile(rc, []byte(cliConfig(pluginDir)), 0o644); err != nil {
		return nil, fmt.Errorf("CLI configuration: %w", err)
	}
	b.env = append(cleanEnv(os.Environ()),
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	if b.wrap {
		b.env = append(b.env, EnvWrapProvider+"="+provider)
		return b, nil
	}
	if b.profiles, err = filepath.Abs(cfg.ProfileDir); err != nil {
		return nil, fmt.Errorf("profile directory: %w", err)
	}
	return b, nil
}

// cleanEnv drops what would make runs differ from one shell to another:
// CLI logging and extra CLI arguments.
func cleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_LOG") || strings.HasPrefix(name, "TF_CLI_ARGS") ||
			name == "TF_CLI_CONFIG_FILE" || name == "TF_INPUT" ||
			name == EnvWrapProvider || name == EnvUsageFile || name == EnvProfileDir {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func copyExecutable(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("installing the provider wrapper: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("installing the provider wrapper: %w", err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		return fmt.Errorf("installing the provider wrapper: %w", err)
	}
	return nil
}

// measureFleet starts a fleet of n targets and runs every command on it.
func (b *bench) measureFleet(ctx context.Context, n int) (FleetResult, error) {
	cfg := b.cfg
	res := FleetResult{Targets: n}
	dir := filepath.Join(b.work, "fleet-"+strconv.Itoa(n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("workspace: %w", err)
	}
	f, err := startFleet(ctx, b.agent, n, versionInitial, cfg.Latency, filepath.Join(dir, "simulate.log"))
	if err != nil {
		return res, err
	}
	defer f.stop()
	w, err := newWorkspace(dir, cfg.CLI, b.env, b.wrap, n, f.TargetAddress)
	if err != nil {
		return res, err
	}
	if b.profiles != "" {
		w.profiles = filepath.Join(b.profiles, "fleet-"+strconv.Itoa(n))
	}
	batched := rollout{Version: versionBatched, BatchSize: cfg.BatchSize, BatchDelay: cfg.BatchDelay,
		MaxConcurrency: cfg.MaxConcurrency, HealthInterval: cfg.HealthInterval}
	initial := batched
	initial.Version = versionInitial

	step := func(name string, okCodes []int, args ...string) (Measure, error) {
		before, err := f.state(ctx)
		if err != nil {
			return Measure{}, err
		}
		m, err := w.run(ctx, name, okCodes, args...)
		if err != nil {
			return m, err
		}
		after, err := f.state(ctx)
		if err != nil {
			return m, err
		}
		m.Calls = after.callsSince(before)
		usage := fmt.Sprintf("CPU %s (provider not wrapped)", m.CPU.Round(time.Millisecond))
		if m.Provider.Processes > 0 {
			usage = fmt.Sprintf("CPU: provider %8s, CLI %8s  peak RSS %4d MiB", m.Provider.CPU.Round(time.Millisecond),
				m.CLICPU().Round(time.Millisecond), m.Provider.PeakRSS>>20)
		}
		fmt.Fprintf(cfg.Log, "  %-17s %8s  %s  calls %v\n", name, m.Wall.Round(time.Millisecond), usage, m.Calls)
		return m, nil
	}
	common := []string{"-input=false", "-no-color"}

	if res.Create, err = step("create", nil, append(append([]string{"apply", "-auto-approve"}, common...), initial.vars()...)...); err != nil {
		return res, err
	}
	if res.Plan, err = step("plan", nil, append(append([]string{"plan", "-refresh=false", "-out=batched.tfplan"}, common...), batched.vars()...)...); err != nil {
		return res, err
	}
	if res.Apply, err = step("apply", nil, append(append([]string{"apply"}, common...), "batched.tfplan")...); err != nil {
		return res, err
	}
	if res.EngineDuration, err = b.checkRollout(ctx, f, w, versionBatched, res.Apply); err != nil {
		return res, err
	}
	res.ApplyIdeal = IdealApply(n, cfg.BatchSize, cfg.MaxConcurrency, cfg.Latency, cfg.Latency, cfg.BatchDelay)
	// -detailed-exitcode: 0 is what a converged fleet must give; 2 would
	// mean the provider proposes a change after a clean apply.
	if res.PlanNoChange, err = step("plan-no-change", nil, append(append([]string{"plan", "-detailed-exitcode"}, common...), batched.vars()...)...); err != nil {
		return res, err
	}
	if res.Refresh, err = step("refresh", nil, append(append([]string{"apply", "-refresh-only", "-auto-approve"}, common...), batched.vars()...)...); err != nil {
		return res, err
	}
	res.RefreshFloor = RefreshFloor(n, cfg.MaxConcurrency, cfg.Latency)

	// One more rollout on the same fleet, from a saved plan.
	extra := func(name string, r rollout, batchSize, limit int) (*ExtraApply, error) {
		if _, err := step(name+"-plan", nil, append(append([]string{"plan", "-refresh=false", "-out=" + name + ".tfplan"}, common...), r.vars()...)...); err != nil {
			return nil, err
		}
		m, err := step(name+"-apply", nil, append(append([]string{"apply"}, common...), name+".tfplan")...)
		if err != nil {
			return nil, err
		}
		engine, err := b.checkRollout(ctx, f, w, r.Version, m)
		if err != nil {
			return nil, err
		}
		ideal := IdealApply(n, batchSize, limit, cfg.Latency, cfg.Latency, r.BatchDelay)
		return &ExtraApply{Apply: m, Ideal: ideal, EngineDuration: engine}, nil
	}
	if slices.Contains(cfg.SequentialFleets, n) {
		seq := rollout{Version: versionSequential, BatchSize: 1, BatchDelay: 0, MaxConcurrency: 1, HealthInterval: cfg.HealthInterval}
		if res.Sequential, err = extra("sequential", seq, 1, 1); err != nil {
			return res, err
		}
	}
	if slices.Contains(cfg.DelayedFleets, n) {
		delayed := batched
		delayed.Version, delayed.BatchDelay = versionDelayed, cfg.DelayedBatchDelay
		if res.Delayed, err = extra("delayed", delayed, cfg.BatchSize, cfg.MaxConcurrency); err != nil {
			return res, err
		}
	}
	return res, f.alive()
}

// checkRollout verifies that an apply did its whole job: the state says
// completed at version with every target updated, every target of the
// fleet runs version, and it took one deploy and one health call per
// target. It returns the engine's own duration.
func (b *bench) checkRollout(ctx context.Context, f *fleet, w *workspace, version string, m Measure) (time.Duration, error) {
	st, err := w.readState()
	if err != nil {
		return 0, err
	}
	if st.Status != "completed" || st.Version != version || st.TargetsUpdated != f.Targets {
		return 0, fmt.Errorf("after %q the state says status %q, version %q, %d targets updated; want completed, %s, %d",
			m.Command, st.Status, st.Version, st.TargetsUpdated, version, f.Targets)
	}
	fs, err := f.state(ctx)
	if err != nil {
		return 0, err
	}
	if at := fs.countAt(version); at != f.Targets {
		return 0, fmt.Errorf("after %q %d of %d targets run %s", m.Command, at, f.Targets, version)
	}
	if m.Calls["deploy"] != f.Targets || m.Calls["health"] != f.Targets {
		return 0, fmt.Errorf("after %q the fleet saw %d deploys and %d health calls; want %d of each",
			m.Command, m.Calls["deploy"], m.Calls["health"], f.Targets)
	}
	return time.Duration(st.DurationMs) * time.Millisecond, nil
}

// commandLine is how the benchmark was run, without the temporary
// directory `go run` builds it in.
func commandLine(args []string) string {
	if len(args) == 0 {
		return "codomyrmex-bench"
	}
	return strings.Join(append([]string{filepath.Base(args[0])}, args[1:]...), " ")
}
