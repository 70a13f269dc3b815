// Command codomyrmex-bench is `make bench`: it builds the provider, starts a
// simulated fleet, and times real CLI runs of apply, plan and refresh against
// it, printing a Markdown report (see internal/bench).
//
// The CLI also starts this binary as its provider plugin (dev_overrides
// points at a copy of it): then it either wraps the real provider to record
// its peak RSS and CPU time, or serves the provider in process with a CPU
// profile (-profile).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/bench"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clicache"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/provider"
)

func main() {
	switch {
	case os.Getenv(bench.EnvWrapProvider) != "":
		os.Exit(bench.RunWrapper(os.Args[1:]))
	case os.Getenv(bench.EnvProfileDir) != "":
		os.Exit(serveProfiled(os.Getenv(bench.EnvProfileDir)))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	cfg := bench.DefaultConfig()
	fs := flag.NewFlagSet("codomyrmex-bench", flag.ContinueOnError)
	fs.StringVar(&cfg.RepoDir, "repo", cfg.RepoDir, "module root the provider and codomyrmex-agent are built from")
	fs.StringVar(&cfg.CLI, "cli", defaultCLI(), "tofu or terraform binary")
	fs.StringVar(&cfg.WorkDir, "work", "", "keep binaries, workspaces and logs here (default: a temporary directory, removed)")
	fleets := fs.String("targets", joinInts(cfg.Fleets), "fleet sizes, comma-separated")
	sequential := fs.String("sequential", joinInts(cfg.SequentialFleets), "fleet sizes that also run the sequential baseline (\"\" for none)")
	delayed := fs.String("delayed", joinInts(cfg.DelayedFleets), "fleet sizes that also run an apply with -delayed-batch-delay (\"\" for none)")
	fs.DurationVar(&cfg.DelayedBatchDelay, "delayed-batch-delay", cfg.DelayedBatchDelay, "batch_delay of the -delayed apply")
	fs.DurationVar(&cfg.Latency, "latency", cfg.Latency, "latency the simulator adds to every target call")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "rolling batch_size")
	fs.IntVar(&cfg.MaxConcurrency, "max-concurrency", cfg.MaxConcurrency, "provider max_concurrency")
	fs.DurationVar(&cfg.BatchDelay, "batch-delay", cfg.BatchDelay, "rolling batch_delay")
	fs.DurationVar(&cfg.HealthInterval, "health-interval", cfg.HealthInterval, "health_check.interval")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "serve the provider in process and write CPU profiles here (no RSS figures)")
	out := fs.String("o", "", "also write the Markdown report to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var err error
	if cfg.Fleets, err = parseInts(*fleets); err != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench: -targets: %v\n", err)
		return 2
	}
	if cfg.SequentialFleets, err = parseInts(*sequential); err != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench: -sequential: %v\n", err)
		return 2
	}
	if cfg.DelayedFleets, err = parseInts(*delayed); err != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench: -delayed: %v\n", err)
		return 2
	}
	cfg.Log = os.Stderr
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench: %v\n", err)
		return 1
	}
	if err := rep.WriteMarkdown(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench: %v\n", err)
		return 1
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err == nil {
			err = rep.WriteMarkdown(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "codomyrmex-bench: writing %s: %v\n", *out, err)
			return 1
		}
	}
	return 0
}

// defaultCLI is OpenTofu from the cache scripts/install-clis.sh fills.
func defaultCLI() string {
	dir, err := clicache.Dir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "tofu-"+clicache.TofuVersion)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// serveProfiled serves the provider in this process, writing a CPU profile
// and an allocation profile named after the process id into dir.
func serveProfiled(dir string) int {
	pid := strconv.Itoa(os.Getpid())
	cpu, err := os.Create(filepath.Join(dir, "cpu-"+pid+".pprof"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench: %v\n", err)
		return 1
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench: starting the CPU profile: %v\n", err)
		return 1
	}
	serr := providerserver.Serve(context.Background(), provider.New("bench"), providerserver.ServeOpts{
		Address: "registry.terraform.io/codomyrmex/codomyrmex",
	})
	pprof.StopCPUProfile()
	if allocs, err := os.Create(filepath.Join(dir, "allocs-"+pid+".pprof")); err == nil {
		_ = pprof.Lookup("allocs").WriteTo(allocs, 0)
		allocs.Close()
	}
	if serr != nil {
		fmt.Fprintf(os.Stderr, "codomyrmex-bench: %v\n", serr)
		return 1
	}
	return 0
}
