package flags

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

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
	// Logger gets one line per write or delete; nil discards them.
	Logger *slog.Logger
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
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mux.Handle("/", protocol.NewFlagHandlerWithTokens(observedStore{Store: s, m: cfg.Metrics, log: logger}, cfg.Tokens))
	return mux
}

// observedStore counts and logs the writes that reach the store: one line
// per write or delete, with the caller the context names. Refused writes
// (a missing token, a bad document) never reach it: the server counts
// them with Metrics.RefusedWrite and logs them.
type observedStore struct {
	*Store
	m   *Metrics
	log *slog.Logger
}

func (o observedStore) Put(ctx context.Context, f protocol.Flag) error {
	start := time.Now()
	err := o.Store.Put(ctx, f)
	o.record(ctx, "flag write", f.Flag, start, err, "state", f.State, "stage", f.Stage, "percentage", f.Percentage)
	return err
}

func (o observedStore) Delete(ctx context.Context, name string) error {
	start := time.Now()
	err := o.Store.Delete(ctx, name)
	o.record(ctx, "flag delete", name, start, err)
	return err
}

func (o observedStore) record(ctx context.Context, msg, name string, start time.Time, err error, attrs ...any) {
	protocol.MarkLogged(ctx)
	attrs = append([]any{"flag", name}, attrs...)
	attrs = append(attrs, "duration", time.Since(start).Round(time.Millisecond), "caller", protocol.CallerOf(ctx))
	if err != nil {
		o.m.write(WriteFailed)
		o.log.Error(msg, append(attrs, "result", WriteFailed, "error", err.Error())...)
		return
	}
	o.m.write(WriteSucceeded)
	o.log.Info(msg, append(attrs, "result", WriteSucceeded)...)
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
