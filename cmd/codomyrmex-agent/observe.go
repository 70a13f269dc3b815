package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// observe wraps a mode's protocol handler: the backends learn the
// caller's address from the context (protocol.Call), and a call refused
// (4xx) before any backend accounted for it (a missing token, a request
// that does not parse) is counted by refused.
func observe(h http.Handler, logger *slog.Logger, refused func(r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := &protocol.Call{Caller: r.RemoteAddr}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r.WithContext(protocol.WithCall(r.Context(), call)))
		if call.Logged() || rec.status < 400 || rec.status >= 500 {
			return
		}
		if refused != nil {
			refused(r)
		}
	})
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
