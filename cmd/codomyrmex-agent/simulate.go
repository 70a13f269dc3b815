package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// defineSimulate declares the flags of simulate: an in-memory fleet,
// router and flag service for demos, tests and benchmarks.
func defineSimulate(fs *flag.FlagSet) runFunc {
	shared := defineServerFlags(fs, "simulate", listenDefault{port: "7070", loopback: true})
	targets := fs.Int("targets", 3, "number of simulated targets, t1 … tN (at least 1)")
	initialVersion := fs.String("initial-version", "", "`VERSION` every target runs at the start")
	latency := fs.Duration("latency", 0, "delay added to every target call")
	failTargets := fs.String("fail-target", "", "comma-separated target `IDS` (or \"*\") whose deploys answer 500")
	failVersion := fs.String("fail-version", "", "with --fail-target: only deploys of this `VERSION` fail")
	unhealthyVersion := fs.String("unhealthy-version", "", "targets running this `VERSION` report status \"error\"")
	seed := fs.Int64("seed", 0, "seed of the latency jitter (0 = no jitter) and of the synthetic traffic")
	rps := fs.Float64("rps", 0, "synthetic requests per second, spread over the targets by the router's weights and counted at /metrics as "+simulator.RequestsSeries+" (0 = none)")
	errorRates := versionValues{}
	fs.Var(errorRates, "error-rate", "`VERSION=RATE`: share of that version's synthetic requests that answer 500, in [0, 1] (repeatable)")
	versionLatency := versionValues{}
	fs.Var(versionLatency, "version-latency", "`VERSION=DURATION`: latency of that version's synthetic requests (repeatable; others take 20ms)")
	return func(ctx context.Context, stdout, stderr io.Writer) error {
		if *targets < 1 {
			return usagef("simulate: --targets must be at least 1, got %d", *targets)
		}
		if *latency < 0 {
			return usagef("simulate: --latency must not be negative")
		}
		if *failVersion != "" && *failTargets == "" {
			return usagef("simulate: --fail-version needs --fail-target")
		}
		srv, tokens, err := shared.prepare(stderr)
		if err != nil {
			return err
		}

		fleet := simulator.NewFleet(simulator.FleetConfig{
			Targets: *targets, InitialVersion: *initialVersion, Latency: *latency, Tokens: tokens, Seed: *seed,
		})
		if *unhealthyVersion != "" {
			fleet.SetFault("*", simulator.Fault{Unhealthy: true, FailVersion: *unhealthyVersion})
		}
		if *failTargets != "" {
			known := map[string]bool{"*": true}
			for _, id := range fleet.TargetIDs() {
				known[id] = true
			}
			fault := simulator.Fault{DeployStatus: http.StatusInternalServerError, FailVersion: *failVersion}
			// One FailVersion per fault: the unhealthy version survives on a
			// failing target only when it is the same version.
			fault.Unhealthy = *unhealthyVersion != "" && *unhealthyVersion == *failVersion
			for _, id := range strings.Split(*failTargets, ",") {
				id = strings.TrimSpace(id)
				if !known[id] {
					return usagef("simulate: --fail-target %q is not a target (ids are t1 … t%d, or *)", id, *targets)
				}
				fleet.SetFault(id, fault)
			}
		}

		if *rps < 0 {
			return usagef("simulate: --rps must not be negative")
		}
		traffic, err := trafficConfig(*rps, *seed, errorRates, versionLatency)
		if err != nil {
			return err
		}
		load := simulator.NewTraffic(fleet, traffic)
		go load.Run(ctx, 100*time.Millisecond)

		srv.handler = observe(fleet.Handler(), srv.logger, nil)
		srv.gatherer = prometheus.Gatherers{srv.metrics, load.Gatherer()}
		// The synthetic traffic is for anyone to scrape, as before.
		srv.openMetrics = true
		if shared.verbose {
			srv.handler = logRequests(srv.handler, srv.logger)
		}
		srv.started = func(base string) (string, []any) {
			return "simulating a fleet", []any{"targets", *targets, "first", base + "/t/t1", "last", base + "/t/t" + strconv.Itoa(*targets),
				"router", base + "/router", "flags", base + "/flags", "state", base + "/_sim/state", "metrics", base + "/metrics",
				"initial_version", *initialVersion}
		}
		return srv.run(ctx, stdout)
	}
}

// versionValues is a repeatable VERSION=VALUE flag.
type versionValues map[string]string

func (v versionValues) String() string {
	if len(v) == 0 {
		return ""
	}
	return fmt.Sprint(map[string]string(v))
}

func (v versionValues) Set(s string) error {
	version, value, ok := strings.Cut(s, "=")
	if !ok || version == "" || value == "" {
		return fmt.Errorf("want VERSION=VALUE, got %q", s)
	}
	v[version] = value
	return nil
}

// trafficConfig reads the synthetic traffic flags of simulate.
func trafficConfig(rps float64, seed int64, errorRates, latencies versionValues) (simulator.TrafficConfig, error) {
	cfg := simulator.TrafficConfig{RPS: rps, Seed: uint64(seed), ErrorRate: map[string]float64{}, Latency: map[string]time.Duration{}}
	for version, value := range errorRates {
		r, err := strconv.ParseFloat(value, 64)
		if err != nil || !(r >= 0 && r <= 1) {
			return cfg, usagef("simulate: --error-rate %s=%s: the rate must be a number in [0, 1]", version, value)
		}
		cfg.ErrorRate[version] = r
	}
	for version, value := range latencies {
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return cfg, usagef("simulate: --version-latency %s=%s: want a duration such as 300ms", version, value)
		}
		cfg.Latency[version] = d
	}
	return cfg, nil
}
