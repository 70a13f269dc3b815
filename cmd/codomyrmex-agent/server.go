package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

const readHeaderTimeout = 10 * time.Second

// busyBackend is a backend whose command in progress the shutdown waits
// for: *agent.Host (a deploy), *agent.Router (a switch or weights call).
type busyBackend interface {
	// Deploying names what runs, "" when nothing does.
	Deploying() string
	// Idle waits until nothing runs.
	Idle(ctx context.Context) error
	// Stop ends the commands in progress and refuses new ones.
	Stop()
}

// server serves a mode's handler until its context is done, then shuts
// down.
type server struct {
	// mode is what GET /v1/info and the Codomyrmex-Agent header name.
	mode    string
	addr    string
	handler http.Handler
	tls     *tlsSource
	// creds are read again on SIGHUP.
	creds credentials
	// authenticated says whether calls need a token.
	authenticated bool
	// unauthenticated is --allow-unauthenticated: warned about at start
	// when no token is required.
	unauthenticated bool
	// grace is how long calls in flight get once the context is done.
	grace time.Duration
	// host, when set, is waited for: a deploy (or router command) in
	// progress gets grace to finish and be recorded; then, or at a second
	// signal, its command is ended and its call answered as failed.
	host   busyBackend
	logger *slog.Logger
	// started is the first log line: what the mode serves at base.
	started func(base string) (msg string, attrs []any)

	// metrics is where the mode registers its metrics, next to the Go
	// and process collectors; gatherer, when set, is served instead.
	metrics  *prometheus.Registry
	gatherer prometheus.Gatherer
	// tokens protect /metrics and the mode's extra endpoints on the main
	// listener, as the protocol calls.
	tokens *protocol.Tokens
	// openMetrics serves /metrics on the main listener without a token.
	openMetrics bool
	// extra are the mode's endpoints besides its protocol handler (GET
	// /v1/history), behind tokens.
	extra map[string]http.Handler
	// metricsAddr, when set, is a listener of its own for /metrics,
	// /healthz and /readyz, without a token.
	metricsAddr string
	ready       atomic.Bool
}

// run prints the base URL as the first line of stdout and logs the
// address it bound as the first log line, serves until ctx is done
// (reloading the credentials on SIGHUP), then shuts down gracefully.
func (s *server) run(ctx context.Context, stdout io.Writer) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.addr, err)
	}
	var metricsLn net.Listener
	if s.metricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", s.metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listening on --metrics-listen %s: %w", s.metricsAddr, err)
		}
	}
	bound := ln.Addr().String()
	base := baseURL(ln.Addr(), s.tls != nil)
	if _, err := fmt.Fprintln(stdout, base); err != nil {
		ln.Close()
		if metricsLn != nil {
			metricsLn.Close()
		}
		return fmt.Errorf("printing the listen address: %w", err)
	}
	msg, attrs := s.started(base)
	first := []any{"address", bound, "url", base, "token_required", s.authenticated}
	if metricsLn != nil {
		first = append(first, "metrics_address", metricsLn.Addr().String())
	}
	s.logger.Info(msg, append(first, attrs...)...)
	if !s.authenticated && (s.unauthenticated || !isLoopback(bound)) {
		s.logger.Warn("serving without a token (--allow-unauthenticated): anyone who can reach the address may call the agent", "address", bound)
	}

	// What net/http logs (a TLS handshake that failed) goes to the logger.
	errorLog := slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)
	srv := &http.Server{Handler: s.mux(), ReadHeaderTimeout: readHeaderTimeout, ErrorLog: errorLog}
	if s.tls != nil {
		srv.TLSConfig = s.tls.config()
	}
	served := make(chan error, 2)
	go func() {
		if s.tls != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	if metricsLn != nil {
		metricsSrv := &http.Server{Handler: s.metricsMux(), ReadHeaderTimeout: readHeaderTimeout, ErrorLog: errorLog}
		go func() { served <- metricsSrv.Serve(metricsLn) }()
		// Last to stop: /readyz says the agent is stopping while it drains.
		defer metricsSrv.Close()
	}
	s.ready.Store(true)
serving:
	for {
		select {
		case err := <-served:
			return fmt.Errorf("serving on %s: %w", base, err)
		case <-hup:
			s.reload()
		case <-ctx.Done():
			break serving
		}
	}

	s.ready.Store(false)
	// From here a second signal means: stop now.
	now, stopNow := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopNow()
	if s.host != nil {
		if what := s.host.Deploying(); what != "" {
			s.logger.Info("stopping once the command in progress is done, or at --shutdown-timeout; signal again to stop it now",
				"running", what, "shutdown_timeout", s.grace)
		}
	}
	graceCtx, cancel := context.WithTimeout(now, s.grace)
	defer cancel()
	err = srv.Shutdown(graceCtx)
	// A router's reapply runs outside any call.
	idle := s.host == nil || s.host.Idle(graceCtx) == nil
	if err == nil && idle {
		return nil
	}

	// The grace is over, or a second signal came: the commands still
	// running are ended, and the calls waiting for them answered.
	var stopped string
	if s.host != nil {
		stopped = s.host.Deploying()
		if stopped != "" {
			s.logger.Warn("stopping the command in progress: SIGTERM to its process group, SIGKILL if it outlives the grace",
				"running", stopped, "grace", agent.KillGrace)
		}
		s.host.Stop()
	}
	finalCtx, cancelFinal := context.WithTimeout(context.Background(), agent.KillGrace+2*time.Second)
	defer cancelFinal()
	if s.host != nil {
		_ = s.host.Idle(finalCtx)
	}
	if err = srv.Shutdown(finalCtx); err != nil {
		srv.Close()
	}
	if stopped != "" {
		return fmt.Errorf("stopped before the %s was done: its command was ended and its call answered as failed", stopped)
	}
	if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// reload reads the token files and the TLS files again (SIGHUP). The
// connections open stay open.
func (s *server) reload() {
	attrs, err := s.creds.reload()
	if err != nil {
		s.logger.Error("reloading the credentials failed; a file that failed keeps its previous content", append(attrs, "error", err)...)
		return
	}
	s.logger.Info("reloaded the credentials", attrs...)
}

// mux serves the agent's own endpoints next to the mode's handler:
// /healthz and /readyz (no token, no command run), /metrics (behind the
// tokens, unless openMetrics), GET /v1/info and the extra endpoints (behind
// the tokens); every answer names the agent in the Codomyrmex-Agent header.
func (s *server) mux() http.Handler {
	mux := http.NewServeMux()
	s.handleHealth(mux)
	metrics := s.metricsHandler()
	if !s.openMetrics {
		metrics = requireTokens(s.tokens, metrics)
	}
	mux.Handle("GET /metrics", metrics)
	mux.Handle("GET /v1/info", requireTokens(s.tokens, protocol.InfoHandler(s.info())))
	for pattern, h := range s.extra {
		mux.Handle(pattern, requireTokens(s.tokens, h))
	}
	mux.Handle("/", s.handler)
	return protocol.WithAgentHeader(s.info(), mux)
}

// info is what the agent is: GET /v1/info.
func (s *server) info() protocol.Info {
	return protocol.Info{Name: "codomyrmex-agent", Version: version, Protocol: protocol.Version, Mode: s.mode}
}

// metricsMux is the --metrics-listen listener's: /metrics, /healthz and
// /readyz, without a token.
func (s *server) metricsMux() http.Handler {
	mux := http.NewServeMux()
	s.handleHealth(mux)
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		protocol.WriteError(w, http.StatusNotFound, fmt.Sprintf("the metrics listener serves /metrics, /healthz and /readyz, not %q", r.URL.Path))
	})
	return mux
}

// handleHealth serves /healthz (the process serves) and /readyz (its
// state is loaded and it is not stopping).
func (s *server) handleHealth(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		protocol.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			protocol.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "stopping"})
			return
		}
		protocol.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

func (s *server) metricsHandler() http.Handler {
	g := s.gatherer
	if g == nil {
		g = s.metrics
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelError)})
}

// serveCalls makes handler, the protocol calls of serve or router, what
// srv serves: observed (refused counts a call the handler refused), one
// log line per request with --verbose, and GET /v1/history answering the
// last calls.
func (srv *server) serveCalls(handler http.Handler, verbose bool, refused func(*http.Request), history func() agent.History) {
	srv.handler = observe(handler, srv.logger, refused)
	if verbose {
		srv.handler = logRequests(srv.handler, srv.logger)
	}
	srv.extra = map[string]http.Handler{"GET /v1/history": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		protocol.WriteJSON(w, http.StatusOK, history())
	})}
}

// requireTokens answers 401 to a call without one of tokens.
func requireTokens(tokens *protocol.Tokens, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !tokens.Authorized(r) {
			protocol.WriteUnauthorized(w)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// newRegistry is a registry with the Go and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
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
