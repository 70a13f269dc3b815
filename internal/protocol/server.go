package protocol

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

// TargetBackend is what a target does; NewTargetHandler puts it on HTTP.
type TargetBackend interface {
	// Deploy runs req.Version. A repeat of the running version must be a
	// no-op that succeeds.
	Deploy(ctx context.Context, req DeployRequest) error
	// Health reports the running version and whether it is healthy
	// (Status "ok"). An error answers 500.
	Health(ctx context.Context) (Health, error)
}

// RouterBackend is a traffic router for blue/green and canary rollouts.
type RouterBackend interface {
	Switch(ctx context.Context, req SwitchRequest) error
	SetWeights(ctx context.Context, req WeightsRequest) error
}

// RouterStateReader is a RouterBackend that can tell what it last applied:
// NewRouterHandler then also serves GET /v1/state with that document, for
// people and scripts (the provider never reads it).
type RouterStateReader interface {
	RouterState(ctx context.Context) (any, error)
}

// FlagStore keeps flag documents by name.
type FlagStore interface {
	Put(ctx context.Context, f Flag) error
	// Get returns false when there is no flag of that name.
	Get(ctx context.Context, name string) (Flag, bool, error)
	// Delete removes the flag; deleting a missing flag is not an error.
	Delete(ctx context.Context, name string) error
}

// RequestError is a request a backend refuses as it stands (a version it
// does not accept): the handler answers 400 with its message, and nothing
// was run.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

// writeBackendError answers a backend's error: 400 with its own message
// for a RequestError (which says what was refused), 500 with what failed
// otherwise.
func writeBackendError(w http.ResponseWriter, what string, err error) {
	var re *RequestError
	if errors.As(err, &re) {
		WriteError(w, http.StatusBadRequest, re.Msg)
		return
	}
	WriteError(w, http.StatusInternalServerError, what+": "+err.Error())
}

// NewTargetHandler serves PUT /v1/deploy and GET /v1/health relative to
// its mount point (mount it with http.StripPrefix). When token is not
// empty every call must carry "Authorization: Bearer <token>". The health
// answer is always 200 with the backend's document: its status says
// whether the target is healthy.
func NewTargetHandler(b TargetBackend, token string) http.Handler {
	return NewTargetHandlerWithTokens(b, NewTokens(token))
}

// NewTargetHandlerWithTokens is NewTargetHandler accepting any of tokens,
// which may change while it serves.
func NewTargetHandlerWithTokens(b TargetBackend, tokens *Tokens) http.Handler {
	return newProtocolMux(tokens, []endpoint{
		{path: deployPath, methods: map[string]http.HandlerFunc{
			http.MethodPut: put(func(req *DeployRequest) string { return versionRequired(req.Version) }, b.Deploy,
				func(req DeployRequest) string { return fmt.Sprintf("deploying version %q", req.Version) },
				func(req DeployRequest) any { return map[string]string{"version": req.Version} }),
		}},
		{path: DefaultHealthPath, methods: map[string]http.HandlerFunc{
			http.MethodGet: get(b.Health, "health check failed"),
		}},
	})
}

// NewRouterHandler serves PUT /v1/switch and PUT /v1/weights relative to
// its mount point, and GET /v1/state when b is a RouterStateReader.
func NewRouterHandler(b RouterBackend, token string) http.Handler {
	return NewRouterHandlerWithTokens(b, NewTokens(token))
}

// NewRouterHandlerWithTokens is NewRouterHandler accepting any of tokens,
// which may change while it serves.
func NewRouterHandlerWithTokens(b RouterBackend, tokens *Tokens) http.Handler {
	endpoints := []endpoint{
		{path: switchPath, methods: map[string]http.HandlerFunc{
			http.MethodPut: put(func(req *SwitchRequest) string {
				if req.Slot != strategies.SlotBlue && req.Slot != strategies.SlotGreen {
					return fmt.Sprintf(`slot must be %q or %q, got %q`, strategies.SlotBlue, strategies.SlotGreen, req.Slot)
				}
				return versionRequired(req.Version)
			}, b.Switch, func(SwitchRequest) string { return "switching" }, func(req SwitchRequest) any { return req }),
		}},
		{path: weightsPath, methods: map[string]http.HandlerFunc{
			http.MethodPut: put(func(req *WeightsRequest) string {
				if msg := versionRequired(req.Version); msg != "" {
					return msg
				}
				if !(req.Percentage >= 0 && req.Percentage <= 100) {
					return fmt.Sprintf("percentage must be in [0, 100], got %v", req.Percentage)
				}
				return ""
			}, b.SetWeights, func(WeightsRequest) string { return "setting weights" }, func(req WeightsRequest) any { return req }),
		}},
	}
	if sr, ok := b.(RouterStateReader); ok {
		endpoints = append(endpoints, endpoint{path: routerStatePath, methods: map[string]http.HandlerFunc{
			http.MethodGet: get(sr.RouterState, "reading the router state"),
		}})
	}
	return newProtocolMux(tokens, endpoints)
}

// versionRequired is what is wrong with a request's version: "" when
// nothing.
func versionRequired(version string) string {
	if version == "" {
		return "version is required"
	}
	return ""
}

// put serves a PUT whose body is a T: check says what is wrong with the
// request (400, "" when nothing), apply carries it out (what names it in a
// 500), and the answer is reply(req).
func put[T any](check func(*T) string, apply func(context.Context, T) error, what func(T) string, reply func(T) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req T
		if !ReadJSON(w, r, &req, false) {
			return
		}
		if msg := check(&req); msg != "" {
			WriteError(w, http.StatusBadRequest, msg)
			return
		}
		if err := apply(r.Context(), req); err != nil {
			writeBackendError(w, what(req), err)
			return
		}
		WriteJSON(w, http.StatusOK, reply(req))
	}
}

// get serves a GET answering what read returns; its error is a 500
// prefixed with what.
func get[T any](read func(context.Context) (T, error), what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := read(r.Context())
		if err != nil {
			WriteError(w, http.StatusInternalServerError, what+": "+err.Error())
			return
		}
		WriteJSON(w, http.StatusOK, v)
	}
}

// NewFlagHandler serves PUT, GET and DELETE /v1/flags/{name} relative to
// its mount point. A PUT stores the document only when ValidateFlag accepts
// it (400 otherwise). GET of a missing flag answers 404; DELETE answers 204
// whether or not the flag existed.
func NewFlagHandler(s FlagStore, token string) http.Handler {
	return NewFlagHandlerWithTokens(s, NewTokens(token))
}

// NewFlagHandlerWithTokens is NewFlagHandler accepting any of tokens,
// which may change while it serves.
func NewFlagHandlerWithTokens(s FlagStore, tokens *Tokens) http.Handler {
	return newProtocolMux(tokens, []endpoint{
		{path: flagsPath + "{name}", methods: map[string]http.HandlerFunc{
			http.MethodPut: func(w http.ResponseWriter, r *http.Request) {
				name := flagName(r)
				var f Flag
				if !ReadJSON(w, r, &f, false) {
					return
				}
				if f.Flag == "" {
					f.Flag = name
				}
				if f.Flag != name {
					WriteError(w, http.StatusBadRequest, fmt.Sprintf("document is for flag %q but the path names %q", f.Flag, name))
					return
				}
				if err := ValidateFlag(f); err != nil {
					WriteError(w, http.StatusBadRequest, err.Error())
					return
				}
				if err := s.Put(r.Context(), f); err != nil {
					WriteError(w, http.StatusInternalServerError, fmt.Sprintf("storing flag %q: %v", name, err))
					return
				}
				WriteJSON(w, http.StatusOK, f)
			},
			http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
				name := flagName(r)
				f, ok, err := s.Get(r.Context(), name)
				switch {
				case err != nil:
					WriteError(w, http.StatusInternalServerError, fmt.Sprintf("reading flag %q: %v", name, err))
				case !ok:
					WriteError(w, http.StatusNotFound, fmt.Sprintf("flag %q not found", name))
				default:
					WriteJSON(w, http.StatusOK, f)
				}
			},
			http.MethodDelete: func(w http.ResponseWriter, r *http.Request) {
				name := flagName(r)
				if err := s.Delete(r.Context(), name); err != nil {
					WriteError(w, http.StatusInternalServerError, fmt.Sprintf("deleting flag %q: %v", name, err))
					return
				}
				w.WriteHeader(http.StatusNoContent)
			},
		}},
	})
}

// flagName is the {name} of /v1/flags/{name}: one non-empty segment.
func flagName(r *http.Request) string {
	return r.PathValue("name")
}

// endpoint is a path pattern of http.ServeMux and its handlers by method.
type endpoint struct {
	path    string
	methods map[string]http.HandlerFunc
}

// newProtocolMux routes with http.ServeMux method patterns. The order of
// the answers is documented in the target protocol guide: an unknown path
// is 404, then a missing or wrong token 401 (so an unauthenticated caller
// learns the path layout, which is public, and nothing else), then a method
// the endpoint does not serve 405 with Allow. Every error is a JSON
// document {"error": "..."}.
func newProtocolMux(tokens *Tokens, endpoints []endpoint) http.Handler {
	mux := http.NewServeMux()
	for _, e := range endpoints {
		allowed := slices.Sorted(maps.Keys(e.methods))
		for m, fn := range e.methods {
			mux.HandleFunc(m+" "+e.path, fn)
		}
		mux.HandleFunc(e.path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed, use %s", r.Method, strings.Join(allowed, " or ")))
		})
	}
	const unknown = "/"
	mux.HandleFunc(unknown, func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no protocol endpoint at %q", r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != unknown && !tokens.Authorized(r) {
			WriteUnauthorized(w)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// WriteUnauthorized answers 401 for a missing or wrong bearer token.
func WriteUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="codomyrmex"`)
	WriteError(w, http.StatusUnauthorized, "missing or invalid bearer token")
}

// Tokens is the set of bearer tokens a handler accepts: several at once
// let a token be replaced without downtime (the new one is added, the
// clients move to it, the old one is removed), and the set may be replaced
// while the handler serves. An empty set, or a nil *Tokens, accepts every
// call.
type Tokens struct {
	set atomic.Pointer[[]string]
}

// NewTokens returns the set of the non-empty tokens given.
func NewTokens(tokens ...string) *Tokens {
	t := &Tokens{}
	t.Replace(tokens...)
	return t
}

// Replace makes the non-empty tokens given the accepted ones.
func (t *Tokens) Replace(tokens ...string) {
	set := make([]string, 0, len(tokens))
	for _, tok := range tokens {
		if tok != "" {
			set = append(set, tok)
		}
	}
	t.set.Store(&set)
}

// Required reports whether a call must carry a token.
func (t *Tokens) Required() bool { return t != nil && len(*t.set.Load()) > 0 }

// Accepts reports whether token is one of the set (or the set is empty).
// Every token of the set is compared, in constant time for its content.
func (t *Tokens) Accepts(token string) bool {
	if !t.Required() {
		return true
	}
	match := 0
	for _, want := range *t.set.Load() {
		match |= subtle.ConstantTimeCompare([]byte(token), []byte(want))
	}
	return match == 1
}

// Authorized reports whether r carries "Authorization: Bearer <token>"
// with a token of the set (or the set is empty).
func (t *Tokens) Authorized(r *http.Request) bool {
	if !t.Required() {
		return true
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && t.Accepts(got)
}

// Call is what a server knows of the call a backend serves: who made it,
// for the backend's log line and history, and whether a backend already
// logged it (the server logs the calls none did, refused ones included).
type Call struct {
	// Caller is the caller's address (host:port).
	Caller string
	logged atomic.Bool
}

type serverCallKey struct{}

// WithCall returns ctx carrying c.
func WithCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, serverCallKey{}, c)
}

// CallFrom returns the Call ctx carries, or nil.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(serverCallKey{}).(*Call)
	return c
}

// CallerOf is the caller's address of the call ctx carries, "" without one.
func CallerOf(ctx context.Context) string {
	if c := CallFrom(ctx); c != nil {
		return c.Caller
	}
	return ""
}

// MarkLogged records that a backend logged the call ctx carries.
func MarkLogged(ctx context.Context) {
	if c := CallFrom(ctx); c != nil {
		c.logged.Store(true)
	}
}

// Logged reports whether a backend logged the call.
func (c *Call) Logged() bool { return c != nil && c.logged.Load() }

// ReadJSON reads one JSON object of at most MaxBodyBytes into v, or answers
// 400/413 and returns false. With strict, a field v does not have is an
// error (the simulator's control endpoints: a typo in a script should not
// pass silently).
func ReadJSON(w http.ResponseWriter, r *http.Request, v any, strict bool) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteError(w, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB")
		return false
	}
	WriteError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
	return false
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status line is out; a failed write can only mean the client left.
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers status with {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}
