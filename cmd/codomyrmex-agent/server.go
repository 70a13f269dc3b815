package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const readHeaderTimeout = 10 * time.Second

// busyBackend is a backend whose command in progress the shutdown waits
// for: *agent.Host (a deploy), *agent.Router (a switch or weights call).
type busyBackend interface {
	// Deploying names what runs, "" when nothing does.
	Deploying() string
	// Idle waits until nothing runs.
	Idle(ctx context.Context) error
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
