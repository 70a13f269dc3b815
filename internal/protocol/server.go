package protocol

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
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

// FlagStore keeps flag documents by name.
type FlagStore interface {
	Put(ctx context.Context, f Flag) error
	// Get returns false when there is no flag of that name.
	Get(ctx context.Context, name string) (Flag, bool, error)
	// Delete removes the flag; deleting a missing flag is not an error.
	Delete(ctx context.Context, name string) error
}

// NewTargetHandler serves PUT /v1/deploy and GET /v1/health relative to
// its mount point (mount it with http.StripPrefix). When token is not
// empty every call must carry "Authorization: Bearer <token>". The health
// answer is always 200 with the backend's document: its status says
// whether the target is healthy.
func NewTargetHandler(b TargetBackend, token string) http.Handler {
	return &protocolHandler{token: token, routes: []route{
		{path: deployPath, methods: map[string]http.HandlerFunc{
			http.MethodPut: func(w http.ResponseWriter, r *http.Request) {
				var req DeployRequest
				if !decodeRequest(w, r, &req) {
					return
				}
				if req.Version == "" {
					writeError(w, http.StatusBadRequest, "version is required")
					return
				}
				if err := b.Deploy(r.Context(), req); err != nil {
					writeError(w, http.StatusInternalServerError, fmt.Sprintf("deploying version %q: %v", req.Version, err))
					return
				}
				writeJSON(w, http.StatusOK, map[string]string{"version": req.Version})
			},
		}},
		{path: DefaultHealthPath, methods: map[string]http.HandlerFunc{
			http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
				h, err := b.Health(r.Context())
				if err != nil {
					writeError(w, http.StatusInternalServerError, "health check failed: "+err.Error())
					return
				}
				writeJSON(w, http.StatusOK, h)
			},
		}},
	}}
}

// NewRouterHandler serves PUT /v1/switch and PUT /v1/weights relative to
// its mount point.
func NewRouterHandler(b RouterBackend, token string) http.Handler {
	return &protocolHandler{token: token, routes: []route{
		{path: switchPath, methods: map[string]http.HandlerFunc{
			http.MethodPut: func(w http.ResponseWriter, r *http.Request) {
				var req SwitchRequest
				if !decodeRequest(w, r, &req) {
					return
				}
				if req.Slot != "blue" && req.Slot != "green" {
					writeError(w, http.StatusBadRequest, fmt.Sprintf(`slot must be "blue" or "green", got %q`, req.Slot))
					return
				}
				if req.Version == "" {
					writeError(w, http.StatusBadRequest, "version is required")
					return
				}
				if err := b.Switch(r.Context(), req); err != nil {
					writeError(w, http.StatusInternalServerError, "switching: "+err.Error())
					return
				}
				writeJSON(w, http.StatusOK, req)
			},
		}},
		{path: weightsPath, methods: map[string]http.HandlerFunc{
			http.MethodPut: func(w http.ResponseWriter, r *http.Request) {
				var req WeightsRequest
				if !decodeRequest(w, r, &req) {
					return
				}
				if req.Version == "" {
					writeError(w, http.StatusBadRequest, "version is required")
					return
				}
				if !(req.Percentage >= 0 && req.Percentage <= 100) {
					writeError(w, http.StatusBadRequest, fmt.Sprintf("percentage must be in [0, 100], got %v", req.Percentage))
					return
				}
				if err := b.SetWeights(r.Context(), req); err != nil {
					writeError(w, http.StatusInternalServerError, "setting weights: "+err.Error())
					return
				}
				writeJSON(w, http.StatusOK, req)
			},
		}},
	}}
}

// NewFlagHandler serves PUT, GET and DELETE /v1/flags/{name} relative to
// its mount point. GET of a missing flag answers 404; DELETE answers 204
// whether or not the flag existed.
func NewFlagHandler(s FlagStore, token string) http.Handler {
	return &protocolHandler{token: token, routes: []route{
		{path: flagsPath, prefix: true, methods: map[string]http.HandlerFunc{
			http.MethodPut: func(w http.ResponseWriter, r *http.Request) {
				name := flagName(r)
				var f Flag
				if !decodeRequest(w, r, &f) {
					return
				}
				if f.Flag == "" {
					f.Flag = name
				}
				if f.Flag != name {
					writeError(w, http.StatusBadRequest, fmt.Sprintf("document is for flag %q but the path names %q", f.Flag, name))
					return
				}
				if !slices.Contains(flagStates, f.State) {
					writeError(w, http.StatusBadRequest, fmt.Sprintf("state must be one of %s, got %q", strings.Join(flagStates, ", "), f.State))
					return
				}
				if !(f.Percentage >= 0 && f.Percentage <= 100) {
					writeError(w, http.StatusBadRequest, fmt.Sprintf("percentage must be in [0, 100], got %v", f.Percentage))
					return
				}
				if err := s.Put(r.Context(), f); err != nil {
					writeError(w, http.StatusInternalServerError, fmt.Sprintf("storing flag %q: %v", name, err))
					return
				}
				writeJSON(w, http.StatusOK, f)
			},
			http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
				name := flagName(r)
				f, ok, err := s.Get(r.Context(), name)
				switch {
				case err != nil:
					writeError(w, http.StatusInternalServerError, fmt.Sprintf("reading flag %q: %v", name, err))
				case !ok:
					writeError(w, http.StatusNotFound, fmt.Sprintf("flag %q not found", name))
				default:
					writeJSON(w, http.StatusOK, f)
				}
			},
			http.MethodDelete: func(w http.ResponseWriter, r *http.Request) {
				name := flagName(r)
				if err := s.Delete(r.Context(), name); err != nil {
					writeError(w, http.StatusInternalServerError, fmt.Sprintf("deleting flag %q: %v", name, err))
					return
				}
				w.WriteHeader(http.StatusNoContent)
			},
		}},
	}}
}

// flagStates are the states of a flag document.
var flagStates = []string{"pending", "active", "paused", "completed", "aborted"}

// flagName is the {name} of /v1/flags/{name}; route matching guarantees it
// is one non-empty segment.
func flagName(r *http.Request) string {
	return strings.TrimPrefix(r.URL.Path, flagsPath)
}

type route struct {
	path string
	// prefix routes match path + one non-empty segment.
	prefix  bool
	methods map[string]http.HandlerFunc
}

func (rt route) match(p string) bool {
	if !rt.prefix {
		return p == rt.path
	}
	rest, ok := strings.CutPrefix(p, rt.path)
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// protocolHandler routes by path, then checks the token, then the method,
// so that an unauthenticated caller learns nothing but the path layout.
type protocolHandler struct {
	token  string
	routes []route
}

func (h *protocolHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := slices.IndexFunc(h.routes, func(rt route) bool { return rt.match(r.URL.Path) })
	if i < 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no protocol endpoint at %q", r.URL.Path))
		return
	}
	if !authorized(r, h.token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="codomyrmex"`)
		writeError(w, http.StatusUnauthorized, "missing or invalid bearer token")
		return
	}
	fn, ok := h.routes[i].methods[r.Method]
	if !ok {
		allowed := make([]string, 0, len(h.routes[i].methods))
		for m := range h.routes[i].methods {
			allowed = append(allowed, m)
		}
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed, use %s", r.Method, strings.Join(allowed, " or ")))
		return
	}
	fn(w, r)
}

func authorized(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// decodeRequest reads one JSON object of at most MaxBodyBytes into v, or
// answers 400/413 and returns false.
func decodeRequest(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB")
		return false
	}
	writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status line is out; a failed write can only mean the client left.
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
