package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// observe wraps a mode's protocol handler: the backends learn the
// caller's address from the context (protocol.Call), and log and count
// the calls they serve; a call refused (4xx but 404) before any backend
// saw it (a missing token, a request that does not parse) is logged here,
// at WARN, and counted by refused. Other calls no backend logged (reads,
// 404s) are logged at DEBUG.
func observe(h http.Handler, logger *slog.Logger, refused func(r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		call := &protocol.Call{Caller: r.RemoteAddr}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r.WithContext(protocol.WithCall(r.Context(), call)))
		if call.Logged() {
			return
		}
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start).Round(time.Millisecond), "caller", r.RemoteAddr}
		// A 404 is an answer (no such flag, no such path), not a refusal.
		if rec.status < 400 || rec.status == http.StatusNotFound {
			logger.Debug("call", attrs...)
			return
		}
		attrs = append(attrs, "error", rec.errorMessage())
		if rec.status >= 500 {
			logger.Error("call failed", attrs...)
			return
		}
		logger.Warn("call refused", attrs...)
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

// statusRecorder records an answer's status, and the start of its body
// when it is an error.
type statusRecorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

// maxErrorBody bounds what an error answer contributes to its log line.
const maxErrorBody = 1 << 10

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status >= 400 && len(r.body) < maxErrorBody {
		r.body = append(r.body, p[:min(len(p), maxErrorBody-len(r.body))]...)
	}
	return r.ResponseWriter.Write(p)
}

// errorMessage is the message of an error answer: its "error" (protocol)
// or "errorDetails" (OFREP), or its start.
func (r *statusRecorder) errorMessage() string {
	var doc struct {
		Error        string `json:"error"`
		ErrorDetails string `json:"errorDetails"`
	}
	if json.Unmarshal(r.body, &doc) == nil {
		if doc.Error != "" {
			return doc.Error
		}
		if doc.ErrorDetails != "" {
			return doc.ErrorDetails
		}
	}
	return strings.TrimSpace(strings.ToValidUTF8(string(r.body), "?"))
}

// Unwrap lets http.ResponseController reach the connection (hijacking for
// the simulator's CloseConnection fault).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
