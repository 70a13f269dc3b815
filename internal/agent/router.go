package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// Environment variables a router command receives, besides EnvDeployment
// and EnvVersion.
const (
	// EnvAction is ActionSwitch or ActionWeights.
	EnvAction = "CODOMYRMEX_ACTION"
	// EnvSlot is the slot a switch sends traffic to: blue or green.
	EnvSlot = "CODOMYRMEX_SLOT"
	// EnvPercentage is the share of traffic, in [0, 100], that weights
	// send to the version ("25", "2.5").
	EnvPercentage = "CODOMYRMEX_PERCENTAGE"
)

// Router actions, the values of EnvAction.
const (
	ActionSwitch  = "switch"
	ActionWeights = "weights"
)

// RouterEnv names the variables a router command gets.
func RouterEnv() []string {
	return []string{EnvAction, EnvDeployment, EnvVersion, EnvSlot, EnvPercentage}
}

// RouterConfig configures a Router.
type RouterConfig struct {
	// Exec is the command that moves traffic, run with "sh -c" for every
	// switch and weights call.
	Exec string
	// StateFile remembers what was last applied to each deployment across
	// restarts; "" keeps it in memory only.
	StateFile string
	// ExecTimeout bounds a command; 0 means no limit.
	ExecTimeout time.Duration
	// Versions decides which versions a call may pass to Exec; the zero
	// value is the default rule.
	Versions VersionRule
	// Logger receives what the router does; nil discards it.
	Logger *slog.Logger
	// KillGrace is how long a stopped or failed command's processes get
	// between SIGTERM and SIGKILL (default and at most KillGrace).
	KillGrace time.Duration
	// Metrics, when set, count the calls and show the weights applied.
	Metrics *RouterMetrics
}

// Route is what a router last applied to one deployment: a switch (Slot
// and Version) or weights (Weights).
type Route struct {
	Slot    string `json:"slot,omitempty"`
	Version string `json:"version,omitempty"`
	// Weights maps the version of the last weights call to its share of
	// the deployment's traffic, in percent; the rest goes to the targets
	// that run another version.
	Weights   map[string]float64 `json:"weights,omitempty"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// RouterState is the answer of GET /v1/state.
type RouterState struct {
	Deployments map[string]Route `json:"deployments"`
}

// routerFile is the state file's content: the routes, and the last calls.
type routerFile struct {
	Deployments map[string]Route `json:"deployments"`
	History     []CallRecord     `json:"history,omitempty"`
}

// Router is the protocol.RouterBackend that runs a command of the
// operator's (which drives a load balancer) for every call.
type Router struct {
	cfg RouterConfig
	log *slog.Logger
	// busy holds one token while a command runs: one call at a time, and a
	// waiting caller can still give up with its context.
	busy chan struct{}
	stopper

	// saveMu orders the state file's writes: each writes the state as it
	// is when it takes the lock, so the last write has the latest state.
	saveMu sync.Mutex

	mu         sync.RWMutex
	routes     map[string]Route
	history    []CallRecord
	inProgress string // the call whose command runs, "" when none

	// trace, when a test sets it, is told each step of a state file write.
	trace func(step, path string)
}

var (
	_ protocol.RouterBackend     = (*Router)(nil)
	_ protocol.RouterStateReader = (*Router)(nil)
)

// NewRouter returns a Router that remembers the routes recorded in
// cfg.StateFile, or none when the file does not exist yet.
func NewRouter(cfg RouterConfig) (*Router, error) {
	if strings.TrimSpace(cfg.Exec) == "" {
		return nil, errors.New("a router command (exec) is required")
	}
	r := &Router{cfg: cfg, log: loggerOrDiscard(cfg.Logger), busy: make(chan struct{}, 1), routes: map[string]Route{}, stopper: newStopper()}
	var st routerFile
	found, err := readState(cfg.StateFile, &st, "no routes")
	if err != nil {
		return nil, err
	}
	if !found {
		return r, nil
	}
	if st.Deployments != nil {
		r.routes = st.Deployments
	}
	r.history = st.History
	for d, route := range r.routes {
		cfg.Metrics.setRoute(d, route)
	}
	return r, nil
}

// Switch runs the command with CODOMYRMEX_ACTION=switch and records the
// slot once it succeeded.
func (r *Router) Switch(ctx context.Context, req protocol.SwitchRequest) error {
	return r.apply(ctx, routerCall{deployment: req.Deployment, route: Route{Slot: req.Slot, Version: req.Version}})
}

// SetWeights runs the command with CODOMYRMEX_ACTION=weights and records
// the weights once it succeeded.
func (r *Router) SetWeights(ctx context.Context, req protocol.WeightsRequest) error {
	return r.apply(ctx, routerCall{deployment: req.Deployment, route: Route{Weights: map[string]float64{req.Version: req.Percentage}}})
}

// apply runs the command for one call, one call at a time, and records its
// route once it succeeded. Every call is recorded in the history, counted
// and logged once, with the caller ctx names.
func (r *Router) apply(ctx context.Context, c routerCall) (err error) {
	start := time.Now()
	var output string
	// The call lock is released once the call is recorded: Idle then means
	// the state file is written.
	held := false
	defer func() {
		err = r.finish(ctx, "router call", c, start, output, err, true)
		if held {
			r.release()
		}
	}()
	if err := checkDeployment(c.deployment); err != nil {
		return &protocol.RequestError{Msg: "refused, nothing was run: " + err.Error()}
	}
	if err := r.cfg.Versions.Check(c.version()); err != nil {
		return &protocol.RequestError{Msg: "refused, nothing was run: " + err.Error()}
	}
	if err := r.acquire(ctx); err != nil {
		return err
	}
	held = true
	if output, err = r.run(ctx, c); err != nil {
		return err
	}
	c.route.UpdatedAt = time.Now().UTC()
	r.mu.Lock()
	r.routes[c.deployment] = c.route
	r.mu.Unlock()
	r.cfg.Metrics.setRoute(c.deployment, c.route)
	return nil
}

// finish records a call in the history and the state file (when record is
// set: the runs of Reapply are not calls), then counts and logs it: INFO
// when it succeeded, WARN when it was refused, ERROR when it failed (with
// the tail of the command's output). It returns the call's error: a route
// the state file cannot record fails, since a restart would forget it.
func (r *Router) finish(ctx context.Context, msg string, c routerCall, start time.Time, output string, err error, record bool) error {
	if record {
		call := newCallRecord(ctx, c.action(), c.deployment, c.version(), start, err)
		if c.route.Slot != "" {
			call.Slot = c.route.Slot
		} else {
			p := c.route.Weights[c.version()]
			call.Percentage = &p
		}
		if saveErr := r.record(call); saveErr != nil {
			if err == nil {
				err = fmt.Errorf("the %s is applied but a restart would forget it: %w", c.describe(), saveErr)
				r.mu.Lock()
				last := &r.history[len(r.history)-1]
				last.Result, last.Error = ResultFailed, firstLine(err.Error())
				r.mu.Unlock()
			} else {
				r.log.Error("the state file does not record the last call", "error", saveErr)
			}
		}
	}

	result := resultOf(err)
	r.cfg.Metrics.count(c.action(), result)
	attrs := []any{"action", c.action(), "deployment", c.deployment, "version", c.version()}
	if c.route.Slot != "" {
		attrs = append(attrs, "slot", c.route.Slot)
	} else {
		attrs = append(attrs, "percentage", c.route.Weights[c.version()])
	}
	attrs = append(attrs, "result", result, "duration", time.Since(start).Round(time.Millisecond), "caller", protocol.CallerOf(ctx))
	switch result {
	case ResultSucceeded:
		r.log.Info(msg, attrs...)
	case ResultRefused:
		r.log.Warn(msg, append(attrs, "error", err.Error())...)
	default:
		attrs = append(attrs, "error", firstLine(err.Error()))
		if output != "" {
			attrs = append(attrs, "output", output)
		}
		r.log.Error(msg, attrs...)
	}
	return err
}

// record adds a call to the history and writes the state file.
func (r *Router) record(call CallRecord) error {
	r.mu.Lock()
	r.history = appendHistory(r.history, call)
	r.mu.Unlock()
	return r.saveState()
}

// History returns the last calls, oldest first.
func (r *Router) History() History {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return History{Calls: slices.Clone(r.history)}
}

// Reapply runs the command again for the route recorded for each
// deployment, one at a time and in turn with the calls: the load balancer
// gets again what the router last applied, computed from what the targets
// run now. That restores weights a load balancer lost (a restart or reload
// that forgets runtime changes), and gives traffic back to hosts that a
// rollback put back on the previous version after their weight went to 0.
// The routes are not changed; failures are logged and returned together.
// It stops between deployments once ctx is done.
func (r *Router) Reapply(ctx context.Context) error {
	r.mu.RLock()
	deployments := slices.Sorted(maps.Keys(r.routes))
	r.mu.RUnlock()
	var errs []error
	for _, d := range deployments {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := r.acquire(ctx); err != nil {
			return errors.Join(append(errs, err)...)
		}
		// Read under the token: a call that ran while this one waited
		// recorded the route to apply.
		r.mu.RLock()
		c := routerCall{deployment: d, route: r.routes[d]}
		r.mu.RUnlock()
		start := time.Now()
		var output string
		err := r.cfg.Versions.Check(c.version())
		if err != nil {
			err = fmt.Errorf("not applying the %s again: %w", c.describe(), err)
		} else {
			output, err = r.run(ctx, c)
		}
		err = r.finish(ctx, "router reapply", c, start, output, err, false)
		r.release()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Router) acquire(ctx context.Context) error {
	select {
	case r.busy <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the router call in progress: %w", ctx.Err())
	}
}

func (r *Router) release() { <-r.busy }

// run runs the command for c; the caller holds the token. Like a deploy,
// the command is not tied to ctx: a caller that gives up must not leave
// the load balancer half configured, and its retry runs the command again
// once this one is done. It is stopped at its timeout and by Stop. A
// failed command's output tail comes back for the log line.
func (r *Router) run(ctx context.Context, c routerCall) (string, error) {
	what := c.describe()
	if err := r.stopped(); err != nil {
		return "", fmt.Errorf("not running the %s: %w", what, err)
	}
	execCtx, cancel := commandContext(ctx, r.stopping, true, r.cfg.ExecTimeout)
	defer cancel()
	r.setInProgress(what)
	defer r.setInProgress("")
	r.log.Debug("router command started", "call", what)
	res := command{line: r.cfg.Exec, env: c.env(), grace: r.cfg.KillGrace}.run(execCtx)
	if res.err != nil {
		how := res.describe(execCtx, r.cfg.ExecTimeout)
		return res.out.logTail(), fmt.Errorf("router command for the %s %s%s", what, how, res.out.lastLines(outputTailLines))
	}
	return "", nil
}

// checkDeployment refuses a deployment name no command should get.
func checkDeployment(d string) error {
	switch {
	case d == "":
		return errors.New("deployment is required")
	case strings.ContainsFunc(d, unicode.IsControl):
		return fmt.Errorf("deployment %q holds a control character", d)
	}
	return nil
}

func (r *Router) setInProgress(what string) {
	r.mu.Lock()
	r.inProgress = what
	r.mu.Unlock()
}

// Deploying describes the call whose command is running, "" when none is
// (the name matches Host's: the agent's shutdown waits for either).
func (r *Router) Deploying() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.inProgress
}

// Idle waits until no command runs (its route recorded), or until ctx is
// done.
func (r *Router) Idle(ctx context.Context) error { return waitFree(ctx, r.busy) }

// State returns a copy of what was last applied to each deployment.
func (r *Router) State() RouterState {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.stateLocked()
}

// RouterState is State for GET /v1/state.
func (r *Router) RouterState(context.Context) (any, error) {
	return r.State(), nil
}

// stateLocked copies the routes; r.mu must be held.
func (r *Router) stateLocked() RouterState {
	st := RouterState{Deployments: make(map[string]Route, len(r.routes))}
	for d, route := range r.routes {
		route.Weights = maps.Clone(route.Weights)
		st.Deployments[d] = route
	}
	return st
}

// saveState writes the routes and the history as they are now.
func (r *Router) saveState() error {
	if r.cfg.StateFile == "" {
		return nil
	}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.RLock()
	data, err := json.MarshalIndent(routerFile{Deployments: r.stateLocked().Deployments, History: r.history}, "", "  ")
	r.mu.RUnlock()
	if err != nil {
		return err
	}
	return writeState(r.cfg.StateFile, append(data, '\n'), r.trace)
}
