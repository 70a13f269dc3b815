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
	"syscall"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
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
}

// run prints the base URL as the first line of stdout and logs the
// address it bound as the first log line, serves until ctx is done
// (reloading the credentials on SIGHUP), then shuts down gracefully.
func (s server) run(ctx context.Context, stdout io.Writer) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.addr, err)
	}
	bound := ln.Addr().String()
	base := baseURL(ln.Addr(), s.tls != nil)
	if _, err := fmt.Fprintln(stdout, base); err != nil {
		ln.Close()
		return fmt.Errorf("printing the listen address: %w", err)
	}
	msg, attrs := s.started(base)
	s.logger.Info(msg, append([]any{"address", bound, "url", base, "token_required", s.authenticated}, attrs...)...)
	if !s.authenticated && (s.unauthenticated || !isLoopback(bound)) {
		s.logger.Warn("serving without a token (--allow-unauthenticated): anyone who can reach the address may call the agent", "address", bound)
	}

	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: readHeaderTimeout}
	if s.tls != nil {
		srv.TLSConfig = s.tls.config()
	}
	served := make(chan error, 1)
	go func() {
		if s.tls != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
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
func (s server) reload() {
	attrs, err := s.creds.reload()
	if err != nil {
		s.logger.Error("reloading the credentials failed; a file that failed keeps its previous content", append(attrs, "error", err)...)
		return
	}
	s.logger.Info("reloaded the credentials", attrs...)
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
