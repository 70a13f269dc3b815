package flags

import (
	"net/http"
	"strings"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// ServiceConfig configures NewService.
type ServiceConfig struct {
	// Tokens are the bearer tokens protocol v1's flag calls
	// (PUT/GET/DELETE /v1/flags/{name}) accept; empty accepts every call.
	Tokens *protocol.Tokens
	// OFREPTokens are the tokens OFREP callers may present, as a bearer
	// token or X-API-Key; empty leaves evaluations open.
	OFREPTokens *protocol.Tokens
	// Metrics, when set, count the writes and the evaluations.
	Metrics *Metrics
}

// NewService is codomyrmex-agent flags: protocol v1's flag calls at
// /v1/flags/{name} and OFREP at /ofrep/v1/, both from s, with token sets
// that may change while it serves (a token file reloaded). It answers as
// NewHandler does.
func NewService(s *Store, cfg ServiceConfig) http.Handler {
	mux := http.NewServeMux()
	var src Source = s
	if cfg.Metrics != nil {
		src = countedSource{s, cfg.Metrics}
	}
	mux.Handle("/ofrep/", ofrepTokens(NewOFREPHandler(src, ""), cfg.OFREPTokens))
	mux.Handle("/", observeWrites(protocol.NewFlagHandlerWithTokens(s, cfg.Tokens), cfg))
	return mux
}

// observeWrites counts each write (PUT or DELETE of a flag) by its answer:
// 2xx succeeded, 4xx refused (nothing was stored), otherwise failed.
func observeWrites(h http.Handler, cfg ServiceConfig) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodPut && r.Method != http.MethodDelete) || !strings.HasPrefix(r.URL.Path, "/v1/flags/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		switch {
		case rec.status < 300:
			cfg.Metrics.write(WriteSucceeded)
		case rec.status < 500:
			cfg.Metrics.write(WriteRefused)
		default:
			cfg.Metrics.write(WriteFailed)
		}
	})
}

// statusWriter records the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// ofrepTokens puts the OFREP token check in front of an open OFREP
// handler, in NewOFREPHandler's order: an unknown path is 404 (from h),
// then a missing or wrong token 401, then h.
func ofrepTokens(h http.Handler, tokens *protocol.Tokens) http.Handler {
	known := http.NewServeMux()
	for _, p := range []string{OFREPSinglePath, OFREPBulkPath} {
		known.Handle(p, h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := known.Handler(r); pattern != "" && !ofrepAccepts(r, tokens) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="codomyrmex-ofrep"`)
			protocol.WriteJSON(w, http.StatusUnauthorized, generalError{"missing or invalid bearer token or X-API-Key"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ofrepAccepts accepts either of OFREP's authentication schemes.
func ofrepAccepts(r *http.Request, tokens *protocol.Tokens) bool {
	if !tokens.Required() {
		return true
	}
	if key := r.Header.Get("X-API-Key"); key != "" {
		return tokens.Accepts(key)
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && tokens.Accepts(got)
}
