// Command codomyrmex-agent is the target side of the codomyrmex provider.
//
//	codomyrmex-agent serve --listen :8080 --exec 'deploy.sh'
//	codomyrmex-agent router --listen :7070 --exec 'set-weights.sh'
//	codomyrmex-agent flags --listen :7077 --data-dir /var/lib/codomyrmex/flags
//	codomyrmex-agent simulate --targets 50 --listen 127.0.0.1:7070
//
// serve runs a deploy command on the machine it runs on; router runs a
// command for every traffic call, in front of a load balancer; flags is a
// durable flag service that also answers OpenFeature remote evaluations;
// simulate serves an in-memory fleet, router and flag service for demos,
// tests and benchmarks. All print their base URL as the first line of
// stdout and shut down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const (
	readHeaderTimeout = 10 * time.Second
	// shutdownTimeout lets in-flight calls, deploys included, finish.
	shutdownTimeout = 30 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage:
  codomyrmex-agent serve --exec CMD [--listen :8080] [--health-exec CMD] [--state-file PATH]
                         [--version-exec CMD] [--version-pattern REGEX]
                         [--token-file PATH] [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
                         [--exec-timeout 30m] [--shutdown-timeout 30s] [-v]
  codomyrmex-agent router --exec CMD [--listen :7070] [--state-file PATH] [--version-pattern REGEX]
                          [--token-file PATH] [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
                          [--exec-timeout 1m] [--reapply-interval 0] [--shutdown-timeout 30s] [-v]
  codomyrmex-agent simulate [--targets 3] [--listen 127.0.0.1:7070] [--initial-version V] [--latency 0s]
                            [--seed 0] [--token-file PATH] [--fail-target IDS [--fail-version V]]
                            [--unhealthy-version V] [--rps 0] [--error-rate V=RATE] [--version-latency V=D] [-v]
  codomyrmex-agent flags --data-dir DIR [--listen :7077] [--token-file PATH] [--ofrep-token-file PATH]
                         [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--shutdown-timeout 30s] [-v]
  codomyrmex-agent --version

Run "codomyrmex-agent serve -h", "codomyrmex-agent router -h", "codomyrmex-agent flags -h" or
"codomyrmex-agent simulate -h" for the flags.
`

// wantsHelp reports whether args ask for help, which then goes to stdout:
// "codomyrmex-agent serve --help | less" should work.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "--h":
			return true
		case "--":
			return false
		}
	}
	return false
}

// flagSet is a subcommand's flag set: help to stdout, errors to stderr.
func flagSet(name string, args []string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	return fs
}

// versionValues is a repeatable VERSION=VALUE flag.
type versionValues map[string]string

func (v versionValues) String() string { return fmt.Sprint(map[string]string(v)) }

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

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := flag.NewFlagSet("codomyrmex-agent", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { fmt.Fprint(top.Output(), usage) }
	if len(args) > 0 && wantsHelp(args[:1]) {
		top.SetOutput(stdout)
	}
	showVersion := top.Bool("version", false, "print the version and exit")
	if err := top.Parse(args); err != nil {
		return usageExit(err)
	}
	if *showVersion {
		fmt.Fprintln(stdout, "codomyrmex-agent", version)
		return exitOK
	}
	if top.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch cmd, rest := top.Arg(0), top.Args()[1:]; cmd {
	case "serve":
		err = serve(ctx, rest, stdout, stderr)
	case "router":
		err = router(ctx, rest, stdout, stderr)
	case "simulate":
		err = simulate(ctx, rest, stdout, stderr)
	case "flags":
		err = flagsCommand(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "codomyrmex-agent", version)
	default:
		fmt.Fprintf(stderr, "codomyrmex-agent: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	var uerr usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &uerr):
		if !uerr.printed {
			fmt.Fprintln(stderr, "codomyrmex-agent:", err)
		}
		return exitUsage
	default:
		fmt.Fprintln(stderr, "codomyrmex-agent:", err)
		return exitError
	}
}

func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// usageError is a bad command line (exit status 2). printed is set when
// the flag package already told the user.
type usageError struct {
	error
	printed bool
}

func usagef(format string, args ...any) error { return usageError{error: fmt.Errorf(format, args...)} }

// parseFlags parses a subcommand's flags; flag errors are already printed.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{error: err, printed: true}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("serve", args, stdout, stderr)
	listen := fs.String("listen", ":8080", "address to listen on")
	execCmd := fs.String("exec", "", "deploy command (required), run with sh -c and "+strings.Join(agent.DeployEnv(), ", ")+
		" in its environment; a non-zero exit fails the deploy")
	healthExec := fs.String("health-exec", "", "health command, run with sh -c and "+agent.EnvVersion+
		" (the running version) in its environment for every health call; a non-zero exit reports status error")
	stateFile := fs.String("state-file", "codomyrmex-agent.state.json", `file remembering the running version across restarts ("" keeps it in memory)`)
	versionExec := fs.String("version-exec", "", "command printing the version the host runs (first line of stdout), used until a deploy is recorded: "+
		"adopts a host whose application was installed without the agent, so the first apply knows what to roll back to")
	versionPattern := fs.String("version-pattern", "", "regular expression (RE2) a version must match in full, replacing the default rule "+
		"(at most 256 bytes, no '..' path segment, no leading '-' or '/'); control characters are always refused")
	tokenFile := fs.String("token-file", "", "file holding the bearer token every call must carry")
	tlsCert := fs.String("tls-cert", "", "PEM certificate file; serves HTTPS with --tls-key")
	tlsKey := fs.String("tls-key", "", "PEM private key file for --tls-cert")
	tlsClientCA := fs.String("tls-client-ca", "", "PEM CA certificate file: with --tls-cert, every caller must present a client certificate it signed (mutual TLS)")
	execTimeout := fs.Duration("exec-timeout", 30*time.Minute, "longest a deploy command may run (0 = no limit)")
	shutdown := fs.Duration("shutdown-timeout", shutdownTimeout,
		"on SIGTERM, how long calls in flight get to finish; a deploy in progress is always seen through (signal again to stop at once)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*execCmd) == "" {
		return usagef("serve: --exec is required")
	}
	tlsCfg, err := serverTLS("serve", *tlsCert, *tlsKey, *tlsClientCA)
	if err != nil {
		return err
	}
	if *shutdown < 0 {
		return usagef("serve: --shutdown-timeout must not be negative")
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	versions, err := agent.NewVersionRule(*versionPattern)
	if err != nil {
		return usagef("serve: --version-pattern: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	host, err := agent.NewHost(agent.HostConfig{
		Exec: *execCmd, HealthExec: *healthExec, StateFile: *stateFile,
		ExecTimeout: *execTimeout, Logger: logger,
		VersionExec: *versionExec, Versions: versions,
	})
	if err != nil {
		return err
	}
	handler := protocol.NewTargetHandler(host, token)
	if *verbose {
		handler = logRequests(handler, logger)
	}
	srv := server{addr: *listen, handler: handler, tls: tlsCfg, grace: *shutdown, host: host, logger: logger}
	return srv.run(ctx, stdout, func(base string) {
		logger.Info("serving the target protocol", "url", base, "running_version", host.Version(), "token_required", token != "")
	})
}

func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("simulate", args, stdout, stderr)
	targets := fs.Int("targets", 3, "number of simulated targets, t1 … tN (at least 1)")
	listen := fs.String("listen", "127.0.0.1:7070", "address to listen on (port 0 picks a free one)")
	initialVersion := fs.String("initial-version", "", "version every target runs at the start")
	latency := fs.Duration("latency", 0, "delay added to every target call")
	tokenFile := fs.String("token-file", "", "file holding the bearer token every protocol call must carry")
	failTargets := fs.String("fail-target", "", `comma-separated target ids (or "*") whose deploys answer 500`)
	failVersion := fs.String("fail-version", "", "with --fail-target: only deploys of this version fail")
	unhealthyVersion := fs.String("unhealthy-version", "", `targets running this version report status "error"`)
	seed := fs.Int64("seed", 0, "seed of the latency jitter (0 = no jitter) and of the synthetic traffic")
	rps := fs.Float64("rps", 0, "synthetic requests per second, spread over the targets by the router's weights and counted at /metrics (0 = none)")
	errorRates := versionValues{}
	fs.Var(errorRates, "error-rate", "VERSION=RATE: share of that version's synthetic requests that answer 500, in [0, 1] (repeatable)")
	versionLatency := versionValues{}
	fs.Var(versionLatency, "version-latency", "VERSION=DURATION: latency of that version's synthetic requests (repeatable; others take 20ms)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *targets < 1 {
		return usagef("simulate: --targets must be at least 1, got %d", *targets)
	}
	if *latency < 0 {
		return usagef("simulate: --latency must not be negative")
	}
	if *failVersion != "" && *failTargets == "" {
		return usagef("simulate: --fail-version needs --fail-target")
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}

	fleet := simulator.NewFleet(simulator.FleetConfig{
		Targets: *targets, InitialVersion: *initialVersion, Latency: *latency, Token: token, Seed: *seed,
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

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", load.Handler())
	mux.Handle("/", fleet.Handler())
	var handler http.Handler = mux
	if *verbose {
		handler = logRequests(handler, logger)
	}
	srv := server{addr: *listen, handler: handler, grace: shutdownTimeout, logger: logger}
	return srv.run(ctx, stdout, func(base string) {
		last := "none"
		if *targets > 0 {
			last = base + "/t/t" + strconv.Itoa(*targets)
		}
		logger.Info("simulating a fleet", "targets", *targets, "first", base+"/t/t1", "last", last,
			"router", base+"/router", "flags", base+"/flags", "state", base+"/_sim/state", "metrics", base+"/metrics",
			"initial_version", *initialVersion, "token_required", token != "")
	})
}

// readToken reads the bearer token file of --token-file; "" means no token.
func readToken(path string) (string, error) { return readTokenFlag("--token-file", path) }

// readTokenFlag reads the bearer token file a flag names; "" means no token.
func readTokenFlag(flagName, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", flagName, err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("%s %s is empty", flagName, path)
	}
	if strings.ContainsAny(token, "\r\n") {
		return "", fmt.Errorf("%s %s holds more than one line", flagName, path)
	}
	return token, nil
}

// serverTLS reads the --tls-cert, --tls-key and --tls-client-ca of
// command: nil when there is no certificate.
func serverTLS(command, cert, key, clientCA string) (*tls.Config, error) {
	if (cert == "") != (key == "") {
		return nil, usagef("%s: --tls-cert and --tls-key go together", command)
	}
	if clientCA != "" && cert == "" {
		return nil, usagef("%s: --tls-client-ca needs --tls-cert and --tls-key", command)
	}
	if cert == "" {
		return nil, nil
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("loading --tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	if clientCA == "" {
		return cfg, nil
	}
	pemCA, err := os.ReadFile(clientCA)
	if err != nil {
		return nil, fmt.Errorf("reading --tls-client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCA) {
		return nil, fmt.Errorf("--tls-client-ca %s holds no PEM certificate", clientCA)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	return cfg, nil
}

// server serves a handler until its context is done, then shuts down.
type server struct {
	addr    string
	handler http.Handler
	tls     *tls.Config
	// grace is how long calls in flight get once the context is done.
	grace time.Duration
	// host, when set, is waited for: a deploy (or router command) in
	// progress finishes and is recorded before the process exits, however
	// long it takes, unless a second signal says to stop at once.
	host   busyBackend
	logger *slog.Logger
}

// run prints the base URL as the first line of stdout, serves until ctx is
// done, then shuts down gracefully.
func (s server) run(ctx context.Context, stdout io.Writer, started func(base string)) error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.addr, err)
	}
	base := baseURL(ln.Addr(), s.tls != nil)
	if _, err := fmt.Fprintln(stdout, base); err != nil {
		ln.Close()
		return fmt.Errorf("printing the listen address: %w", err)
	}
	started(base)

	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: readHeaderTimeout, TLSConfig: s.tls}
	served := make(chan error, 1)
	go func() {
		if s.tls != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", base, err)
	case <-ctx.Done():
	}

	// From here a second signal means: stop now.
	now, stopNow := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopNow()
	if s.host != nil {
		if v := s.host.Deploying(); v != "" {
			s.logger.Info("stopping once the deploy in progress is done; signal again to stop now", "version", v)
		}
	}
	graceCtx, cancel := context.WithTimeout(now, s.grace)
	defer cancel()
	err = srv.Shutdown(graceCtx)
	if s.host != nil {
		if idleErr := s.host.Idle(now); idleErr != nil {
			v := s.host.Deploying()
			srv.Close()
			return fmt.Errorf("stopped during the deploy of %q: the state file may not record it", v)
		}
		if err != nil {
			// The deploy's own call may still be writing its answer.
			finalCtx, cancel := context.WithTimeout(now, time.Second)
			defer cancel()
			err = srv.Shutdown(finalCtx)
		}
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// baseURL is the URL clients use: an unspecified listen address (":7070")
// is reachable on the loopback address.
func baseURL(addr net.Addr, https bool) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// logRequests logs one line per request: never headers, so never the token.
func logRequests(h http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"duration", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr)
		}()
		h.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (hijacking for
// the simulator's CloseConnection fault).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
