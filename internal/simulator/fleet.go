// Package simulator is a fleet in one process: N targets, a router and a
// flag service in memory, speaking protocol v1 (codomyrmex-agent simulate,
// the provider's acceptance tests and the benchmarks), with faults to
// inject and control endpoints under /_sim.
package simulator

import (
	"bytes"
	"context"
	"encoding/json"
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

// Fault makes a simulated target misbehave.
type Fault struct {
	// DeployStatus, when not zero, is the status every deploy answers.
	DeployStatus int `json:"deploy_status,omitempty"`
	// HealthStatus, when not zero, is the status every health call answers.
	HealthStatus int `json:"health_status,omitempty"`
	// Unhealthy makes health answer 200 {"status":"error"}.
	Unhealthy bool `json:"unhealthy,omitempty"`
	// ReportVersion is the version health reports instead of the running one.
	ReportVersion string `json:"report_version,omitempty"`
	// NoVersion makes health answer {"status":"ok"} without a version, like
	// a target whose health check knows nothing about versions.
	NoVersion bool `json:"no_version,omitempty"`
	// FailVersion limits the fault to deploys of this version and to
	// health calls while it runs ("" = always).
	FailVersion string `json:"fail_version,omitempty"`
	// Hang delays the answer of deploy and health calls (timeouts).
	Hang time.Duration `json:"-"`
	// CloseConnection closes deploy and health connections without an answer.
	CloseConnection bool `json:"close_connection,omitempty"`
	// RedirectTo answers deploy and health calls with a 307 to this URL.
	RedirectTo string `json:"redirect_to,omitempty"`
	// FlapEvery makes health alternate every N calls: N healthy, N
	// unhealthy, and so on.
	FlapEvery int `json:"flap_every,omitempty"`
	// FailAfterDeploys lets deploys succeed until the fleet has accepted
	// this many since the fault was set (all targets together), then
	// answers 500.
	FailAfterDeploys int `json:"fail_after_deploys,omitempty"`
}

// MarshalJSON writes Hang as a duration string ("2s").
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault // without methods, to avoid recursion
	out := struct {
		plain
		Hang string `json:"hang,omitempty"`
	}{plain: plain(f)}
	if f.Hang != 0 {
		out.Hang = f.Hang.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads Hang as a duration string ("2s").
func (f *Fault) UnmarshalJSON(data []byte) error {
	type plain Fault
	var in struct {
		plain
		Hang string `json:"hang"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*f = Fault(in.plain)
	if in.Hang != "" {
		d, err := time.ParseDuration(in.Hang)
		if err != nil {
			return fmt.Errorf("hang: %w", err)
		}
		f.Hang = d
	}
	return nil
}

// appliesTo reports whether the fault is active for a call about version.
func (f Fault) appliesTo(version string) bool {
	return f.FailVersion == "" || f.FailVersion == version
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

// SetFault sets the fault of target id, or of every target without its
// own fault when id is "*". The zero Fault clears it.
func (f *Fleet) SetFault(id string, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// A new fault starts its flapping and deploy counts afresh.
	for tid, t := range f.targets {
		if tid == id || id == "*" {
			t.healthCalls = 0
		}
	}
	if fault == (Fault{}) {
		delete(f.faults, id)
		delete(f.faultBase, id)
		return
	}
	f.faults[id] = fault
	f.faultBase[id] = len(f.deploys)
}

// ClearFaults removes every fault.
func (f *Fleet) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.faults)
	clear(f.faultBase)
}

// SetRouterDown makes the router answer 503.
func (f *Fleet) SetRouterDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routerDown = down
}

// SetFlagsDown makes the flag service answer 503.
func (f *Fleet) SetFlagsDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flagsDown = down
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

func (f *Fleet) faultLocked(id string) Fault {
	fault, _ := f.faultAndBaseLocked(id)
	return fault
}

// faultAndBaseLocked returns the fault of target id and how many deploys
// the fleet had accepted when it was set.
func (f *Fleet) faultAndBaseLocked(id string) (Fault, int) {
	if fault, ok := f.faults[id]; ok {
		return fault, f.faultBase[id]
	}
	return f.faults["*"], f.faultBase["*"]
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

// injectFault acts out the HTTP-level part of t's fault and reports
// whether the call should still reach the protocol handler.
func (f *Fleet) injectFault(w http.ResponseWriter, r *http.Request, t *simTarget, kind string) bool {
	f.mu.Lock()
	fault, version := f.faultLocked(t.id), t.version
	f.mu.Unlock()
	if fault == (Fault{}) {
		return true
	}
	if kind == CallDeploy {
		version = peekVersion(r)
	}
	if !fault.appliesTo(version) {
		return true
	}
	if !sleep(r.Context(), fault.Hang) {
		return false
	}
	switch {
	case fault.CloseConnection:
		closeConnection(w)
	case fault.RedirectTo != "":
		http.Redirect(w, r, fault.RedirectTo, http.StatusTemporaryRedirect)
	case kind == CallDeploy && fault.DeployStatus != 0:
		protocol.WriteError(w, fault.DeployStatus, fmt.Sprintf("simulated deploy failure of %s on %s", version, t.id))
	case kind == CallHealth && fault.HealthStatus != 0:
		protocol.WriteError(w, fault.HealthStatus, fmt.Sprintf("simulated health failure on %s", t.id))
	default:
		return true
	}
	return false
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

// peekVersion reads the version of a deploy body buffered by bufferBody,
// leaving r.Body unread for the protocol handler.
func peekVersion(r *http.Request) string {
	body, err := r.GetBody()
	if err != nil {
		return ""
	}
	var req struct {
		Version string `json:"version"`
	}
	_ = json.NewDecoder(body).Decode(&req) // a bad body is the protocol handler's 400
	return req.Version
}

// closeConnection drops the connection without an answer.
func closeConnection(w http.ResponseWriter) {
	// ResponseController sees through wrappers such as request loggers.
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	// HTTP/2 cannot hijack; aborting the handler resets the stream.
	panic(http.ErrAbortHandler)
}

// sleep waits d and reports false when the caller went away first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
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

// service mounts a router or flag service handler under prefix, counting
// calls and answering 503 while *down.
func (f *Fleet) service(prefix string, down *bool, name string, h http.Handler) http.Handler {
	h = http.StripPrefix(prefix, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.observe(serviceCallKind(strings.TrimPrefix(r.URL.Path, prefix), r.Method), r)
		f.mu.Lock()
		isDown := *down
		f.mu.Unlock()
		if isDown {
			protocol.WriteError(w, http.StatusServiceUnavailable, "simulated outage of the "+name)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func serviceCallKind(path, method string) string {
	switch {
	case path == "/v1/switch":
		return CallSwitch
	case path == "/v1/weights":
		return CallWeights
	case strings.HasPrefix(path, "/v1/flags/"):
		switch method {
		case http.MethodPut:
			return CallFlagPut
		case http.MethodGet:
			return CallFlagGet
		case http.MethodDelete:
			return CallFlagDelete
		}
	}
	return ""
}

// simRouter is the fleet's protocol.RouterBackend.
type simRouter struct{ f *Fleet }

func (r simRouter) Switch(_ context.Context, req protocol.SwitchRequest) error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.f.router.ActiveSlot = req.Slot
	r.f.router.Version = req.Version
	r.f.router.Switches++
	return nil
}

func (r simRouter) SetWeights(_ context.Context, req protocol.WeightsRequest) error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.f.router.Weights[req.Version] = req.Percentage
	return nil
}

// simFlags is the fleet's protocol.FlagStore.
type simFlags struct{ f *Fleet }

func (s simFlags) Put(_ context.Context, fl protocol.Flag) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.flags[fl.Flag] = cloneFlag(fl)
	return nil
}

func (s simFlags) Get(_ context.Context, name string) (protocol.Flag, bool, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	fl, ok := s.f.flags[name]
	return cloneFlag(fl), ok, nil
}

func (s simFlags) Delete(_ context.Context, name string) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	delete(s.f.flags, name)
	return nil
}

// simState is the body of GET /_sim/state.
type simState struct {
	Targets    map[string]string        `json:"targets"`
	Router     RouterState              `json:"router"`
	Flags      map[string]protocol.Flag `json:"flags"`
	Calls      map[string]int           `json:"calls"`
	Deploys    []DeployRecord           `json:"deploys"`
	Faults     map[string]Fault         `json:"faults"`
	RouterDown bool                     `json:"router_down"`
	FlagsDown  bool                     `json:"flags_down"`
}

func (f *Fleet) serveState(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	st := simState{
		Targets:    make(map[string]string, len(f.targets)),
		Router:     f.routerLocked(),
		Flags:      maps.Clone(f.flags),
		Calls:      maps.Clone(f.calls),
		Deploys:    append([]DeployRecord{}, f.deploys...),
		Faults:     maps.Clone(f.faults),
		RouterDown: f.routerDown,
		FlagsDown:  f.flagsDown,
	}
	for id, t := range f.targets {
		st.Targets[id] = t.version
	}
	f.mu.Unlock()
	protocol.WriteJSON(w, http.StatusOK, st)
}

// serveFault takes {"target": "t1" or "*", "fault": {...}} to set a fault
// (an empty fault clears it), or {"clear": true} to clear them all.
func (f *Fleet) serveFault(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Target string `json:"target"`
		Fault  Fault  `json:"fault"`
		Clear  bool   `json:"clear"`
	}
	if !protocol.ReadJSON(w, r, &req, true) {
		return
	}
	switch {
	case req.Clear:
		f.ClearFaults()
	case req.Target == "*" || f.targets[req.Target] != nil:
		f.SetFault(req.Target, req.Fault)
	default:
		protocol.WriteError(w, http.StatusNotFound, fmt.Sprintf(`no simulated target %q (use an id or "*")`, req.Target))
		return
	}
	f.mu.Lock()
	faults := maps.Clone(f.faults)
	f.mu.Unlock()
	protocol.WriteJSON(w, http.StatusOK, faults)
}

// serveVersion takes {"target": "t1", "version": "v0"} to simulate drift.
func (f *Fleet) serveVersion(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Target  string `json:"target"`
		Version string `json:"version"`
	}
	if !protocol.ReadJSON(w, r, &req, true) {
		return
	}
	if f.targets[req.Target] == nil {
		protocol.WriteError(w, http.StatusNotFound, fmt.Sprintf("no simulated target %q", req.Target))
		return
	}
	f.SetVersion(req.Target, req.Version)
	protocol.WriteJSON(w, http.StatusOK, req)
}
