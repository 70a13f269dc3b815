// Package simulator is a fleet in one process: N targets, a router and a
// flag service in memory, speaking protocol v1 (codomyrmex-agent simulate,
// the provider's acceptance tests and the benchmarks), with faults to
// inject and control endpoints under /_sim.
package simulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// Kinds of call counted by Fleet.Calls.
const (
	CallDeploy     = "deploy"
	CallHealth     = "health"
	CallSwitch     = "switch"
	CallWeights    = "weights"
	CallFlagPut    = "flag_put"
	CallFlagGet    = "flag_get"
	CallFlagDelete = "flag_delete"
)

// FleetConfig configures a simulated fleet.
type FleetConfig struct {
	// Targets is the number of targets, with ids t1 … tN.
	Targets int
	// InitialVersion is what every target runs at the start.
	InitialVersion string
	// Latency delays every target call.
	Latency time.Duration
	// Token, when set, is required as a bearer token by every protocol
	// call (not by the /_sim endpoints).
	Token string
	// Tokens, when set, replaces Token: any of them is accepted, and the
	// set may change while the fleet serves (codomyrmex-agent simulate
	// reloads its token file on SIGHUP).
	Tokens *protocol.Tokens
	// Seed, when not zero, adds up to ±10 % of deterministic jitter to
	// Latency.
	Seed int64
}

// DeployRecord is one accepted deploy call.
type DeployRecord struct {
	Target          string    `json:"target"`
	Version         string    `json:"version"`
	PreviousVersion string    `json:"previous_version"`
	Deployment      string    `json:"deployment"`
	Strategy        string    `json:"strategy"`
	At              time.Time `json:"at"`
}

// RouterState is what the simulated router was last told.
type RouterState struct {
	ActiveSlot string `json:"active_slot"`
	Version    string `json:"version"`
	// Weights maps a version to its traffic percentage.
	Weights  map[string]float64 `json:"weights"`
	Switches int                `json:"switches"`
}

// Fleet simulates N targets at /t/<id>, a router at /router and a flag
// service at /flags, in memory. It is safe for concurrent use.
type Fleet struct {
	cfg     FleetConfig
	ids     []string
	targets map[string]*simTarget
	handler http.Handler

	mu     sync.Mutex
	faults map[string]Fault // by target id, "*" for all
	// faultBase is len(deploys) when each fault was set: FailAfterDeploys
	// counts from there.
	faultBase  map[string]int
	deploys    []DeployRecord
	calls      map[string]int
	router     RouterState
	routes     map[string]protocol.RouterRoute // by deployment, for GET /router/v1/state
	flags      map[string]protocol.Flag
	routerDown bool
	flagsDown  bool
	authSeen   map[string]bool
	authOrder  []string
	rng        *rand.Rand
}

// simTarget is one simulated target; its mutable fields are guarded by
// fleet.mu.
type simTarget struct {
	fleet   *Fleet
	id      string
	handler http.Handler

	version     string
	deployment  string // of the last deploy, for the traffic's labels
	healthCalls int
}

// NewFleet returns a fleet where every target runs cfg.InitialVersion.
func NewFleet(cfg FleetConfig) *Fleet {
	f := &Fleet{
		cfg:       cfg,
		targets:   make(map[string]*simTarget, max(cfg.Targets, 0)),
		faults:    map[string]Fault{},
		faultBase: map[string]int{},
		calls:     map[string]int{},
		flags:     map[string]protocol.Flag{},
		authSeen:  map[string]bool{},
		router:    RouterState{Weights: map[string]float64{}},
		routes:    map[string]protocol.RouterRoute{},
	}
	if cfg.Seed != 0 {
		f.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)>>32))
	}
	tokens := cfg.Tokens
	if tokens == nil {
		tokens = protocol.NewTokens(cfg.Token)
	}
	for i := 1; i <= cfg.Targets; i++ {
		t := &simTarget{fleet: f, id: "t" + strconv.Itoa(i), version: cfg.InitialVersion}
		t.handler = protocol.NewTargetHandlerWithTokens(t, tokens)
		f.ids = append(f.ids, t.id)
		f.targets[t.id] = t
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/t/", f.serveTarget)
	mux.Handle("/router/", f.service("/router", &f.routerDown, "router", protocol.NewRouterHandlerWithTokens(simRouter{f}, tokens)))
	mux.Handle("/flags/", f.service("/flags", &f.flagsDown, "flag service", protocol.NewFlagHandlerWithTokens(simFlags{f}, tokens)))
	mux.HandleFunc("GET /_sim/state", f.serveState)
	mux.HandleFunc("POST /_sim/fault", f.serveFault)
	mux.HandleFunc("POST /_sim/version", f.serveVersion)
	f.handler = mux
	return f
}

// Handler serves the whole fleet.
func (f *Fleet) Handler() http.Handler { return f.handler }

// TargetIDs returns t1 … tN in order.
func (f *Fleet) TargetIDs() []string { return append([]string(nil), f.ids...) }

// Versions returns the running version of every target.
func (f *Fleet) Versions() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]string, len(f.targets))
	for id, t := range f.targets {
		out[id] = t.version
	}
	return out
}

// SetVersion changes what target id runs behind the provider's back
// (drift). Unknown ids are ignored.
func (f *Fleet) SetVersion(id, version string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.targets[id]; ok {
		t.version = version
	}
}

// Deploys returns every accepted (2xx) deploy call in order, including
// no-op repeats of the running version.
func (f *Fleet) Deploys() []DeployRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]DeployRecord(nil), f.deploys...)
}

// Calls counts received calls by kind (CallDeploy, CallHealth, …),
// whatever their answer.
func (f *Fleet) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// Router returns the router's state.
func (f *Fleet) Router() RouterState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.routerLocked()
}

func (f *Fleet) routerLocked() RouterState {
	r := f.router
	r.Weights = maps.Clone(f.router.Weights)
	return r
}

// Flag returns the flag document name, if published.
func (f *Fleet) Flag(name string) (protocol.Flag, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl, ok := f.flags[name]
	return cloneFlag(fl), ok
}

// SeenAuthorization returns the distinct non-empty Authorization headers
// received, in the order first seen.
func (f *Fleet) SeenAuthorization() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.authOrder...)
}

func cloneFlag(fl protocol.Flag) protocol.Flag {
	fl.Stages = append([]float64(nil), fl.Stages...)
	return fl
}

// observe counts a call and remembers its Authorization header.
func (f *Fleet) observe(kind string, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if kind != "" {
		f.calls[kind]++
	}
	if auth := r.Header.Get("Authorization"); auth != "" && !f.authSeen[auth] {
		f.authSeen[auth] = true
		f.authOrder = append(f.authOrder, auth)
	}
}

func (f *Fleet) latency() time.Duration {
	d := f.cfg.Latency
	if d <= 0 || f.rng == nil {
		return d
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Duration(float64(d) * (0.9 + 0.2*f.rng.Float64()))
}

// serveTarget answers /t/<id>/…: latency, then the faults that act at
// the HTTP level, then the protocol handler.
func (f *Fleet) serveTarget(w http.ResponseWriter, r *http.Request) {
	id, sub, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/t/"), "/")
	t, ok := f.targets[id]
	if !ok {
		protocol.WriteError(w, http.StatusNotFound, fmt.Sprintf("no simulated target %q (ids are t1 … t%d)", id, len(f.ids)))
		return
	}
	var kind string
	switch "/" + sub {
	case "/v1/deploy":
		kind = CallDeploy
	case protocol.DefaultHealthPath:
		kind = CallHealth
	}
	f.observe(kind, r)
	// Read the body before waiting: net/http only notices that a client
	// went away (and cancels r.Context) once the body has been consumed.
	if err := bufferBody(r); errors.Is(err, errBodyTooLarge) {
		protocol.WriteError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	} else if err != nil {
		protocol.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !sleep(r.Context(), f.latency()) {
		return
	}
	if kind != "" && !f.injectFault(w, r, t, kind) {
		return
	}
	http.StripPrefix("/t/"+id, t.handler).ServeHTTP(w, r)
}

// Deploy implements protocol.TargetBackend for one simulated target.
func (t *simTarget) Deploy(_ context.Context, req protocol.DeployRequest) error {
	f := t.fleet
	f.mu.Lock()
	defer f.mu.Unlock()
	fault, base := f.faultAndBaseLocked(t.id)
	if accepted := len(f.deploys) - base; fault.FailAfterDeploys > 0 && fault.appliesTo(req.Version) && accepted >= fault.FailAfterDeploys {
		return fmt.Errorf("simulated failure on %s: the fleet accepted %d deploys since the fault was set", t.id, accepted)
	}
	rec := DeployRecord{Target: t.id, Version: req.Version, Deployment: req.Deployment, Strategy: req.Strategy, At: time.Now()}
	if req.PreviousVersion != nil {
		rec.PreviousVersion = *req.PreviousVersion
	}
	f.deploys = append(f.deploys, rec)
	t.version = req.Version // a repeat of the running version changes nothing
	t.deployment = req.Deployment
	return nil
}

// Health implements protocol.TargetBackend for one simulated target.
func (t *simTarget) Health(context.Context) (protocol.Health, error) {
	f := t.fleet
	f.mu.Lock()
	defer f.mu.Unlock()
	h := protocol.Health{Status: protocol.HealthOK, Version: t.version}
	fault := f.faultLocked(t.id)
	if !fault.appliesTo(t.version) {
		return h, nil
	}
	if fault.ReportVersion != "" {
		h.Version = fault.ReportVersion
	}
	if fault.NoVersion {
		h.Version = ""
	}
	if fault.Unhealthy {
		h.Status = protocol.HealthError
	}
	if fault.FlapEvery > 0 {
		n := t.healthCalls
		t.healthCalls++
		if (n/fault.FlapEvery)%2 == 1 {
			h.Status = protocol.HealthError
		}
	}
	return h, nil
}

// bufferBody replaces the body with an in-memory copy that GetBody can
// read again.
func bufferBody(r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, protocol.MaxBodyBytes+1))
	r.Body.Close()
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	if len(body) > protocol.MaxBodyBytes {
		return errBodyTooLarge
	}
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Body, _ = r.GetBody()
	return nil
}

var errBodyTooLarge = errors.New("request body exceeds 1 MiB")
