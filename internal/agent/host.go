// Package agent is the target side of protocol v1 on a real host: Host runs
// deploys on the machine it serves (codomyrmex-agent serve). The simulated
// fleet is package simulator.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// Environment variables a deploy command receives.
const (
	EnvVersion         = "CODOMYRMEX_VERSION"
	EnvPreviousVersion = "CODOMYRMEX_PREVIOUS_VERSION"
	EnvDeployment      = "CODOMYRMEX_DEPLOYMENT"
	EnvTargetID        = "CODOMYRMEX_TARGET_ID"
	EnvStrategy        = "CODOMYRMEX_STRATEGY"
)

// DeployEnv names the variables a deploy command gets.
func DeployEnv() []string {
	return []string{EnvVersion, EnvPreviousVersion, EnvDeployment, EnvTargetID, EnvStrategy}
}

const (
	defaultHealthTimeout = 10 * time.Second
	// outputTailBytes and outputTailLines bound what a failed command's
	// output contributes to the error the provider shows.
	outputTailBytes = 64 << 10
	outputTailLines = 20
	// logTailLines and logTailBytes bound the output a log line carries.
	logTailLines = 10
	logTailBytes = 2 << 10
)

// HostConfig configures a Host.
type HostConfig struct {
	// Exec is the deploy command, run with "sh -c".
	Exec string
	// HealthExec, when set, is run with "sh -c" for every health call; a
	// non-zero exit reports status "error".
	HealthExec string
	// StateFile remembers the running version across restarts; "" keeps it
	// in memory only.
	StateFile string
	// ExecTimeout bounds a deploy command; 0 means no limit.
	ExecTimeout time.Duration
	// HealthTimeout bounds a health command, and a version command
	// (default 10s).
	HealthTimeout time.Duration
	// VersionExec, when set, is run with "sh -c" while no deploy has been
	// recorded: the first line of its output is the version the host runs
	// (a host adopted with its application already installed).
	VersionExec string
	// Versions decides which versions a deploy may pass to Exec; the zero
	// value is the default rule.
	Versions VersionRule
	// Logger receives deploy progress; nil discards it.
	Logger *slog.Logger
	// KillGrace is how long a stopped or failed command's processes get
	// between SIGTERM and SIGKILL (default and at most KillGrace).
	KillGrace time.Duration
	// Metrics, when set, count the deploys and show the running version.
	Metrics *DeployMetrics
}

// Host is the protocol.TargetBackend of a real machine.
type Host struct {
	cfg HostConfig
	log *slog.Logger
	// deploying holds one token while a deploy runs: one deploy at a time,
	// and a waiting caller can still give up with its context.
	deploying chan struct{}
	stopper

	// saveMu orders the state file's writes: each writes the state as it
	// is when it takes the lock, so the last write has the latest state.
	saveMu sync.Mutex

	mu         sync.RWMutex
	state      hostState
	inProgress string // the version whose deploy command runs, "" when none

	// trace, when a test sets it, is told each step of a state file write.
	trace func(step, path string)
}

var _ protocol.TargetBackend = (*Host)(nil)

// hostState is the state file's content: the running version, and the
// last calls.
type hostState struct {
	Version    string       `json:"version"`
	Deployment string       `json:"deployment,omitempty"`
	DeployedAt time.Time    `json:"deployed_at"`
	History    []CallRecord `json:"history,omitempty"`
}

// NewHost returns a Host running the version recorded in cfg.StateFile, or
// no version when the file does not exist yet.
func NewHost(cfg HostConfig) (*Host, error) {
	if strings.TrimSpace(cfg.Exec) == "" {
		return nil, errors.New("a deploy command (exec) is required")
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = defaultHealthTimeout
	}
	h := &Host{cfg: cfg, log: loggerOrDiscard(cfg.Logger), deploying: make(chan struct{}, 1), stopper: newStopper()}
	var st hostState
	found, err := readState(cfg.StateFile, &st, "no version")
	if err != nil {
		return nil, err
	}
	if !found {
		return h, nil
	}
	h.state = st
	cfg.Metrics.setRunning(st.Version)
	return h, nil
}

// Version returns the running version ("" before the first deploy).
func (h *Host) Version() string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.state.Version
}

// History returns the last calls, oldest first.
func (h *Host) History() History {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return History{Calls: slices.Clone(h.state.History)}
}

// Deploy runs the deploy command for req.Version unless it already runs.
// The command is not tied to ctx: a caller that times out must not leave
// the host half deployed, and its retry finds the version running once
// the command is done. The command is stopped at its timeout and by Stop.
// Every call is counted and logged once, with the caller ctx names.
func (h *Host) Deploy(ctx context.Context, req protocol.DeployRequest) (err error) {
	rec := deployRecord{req: req, start: time.Now()}
	if req.PreviousVersion != nil {
		rec.previous = *req.PreviousVersion
	}
	// The deploy lock is released once the call is recorded: Idle then
	// means the state file is written.
	held := false
	defer func() {
		err = h.finish(ctx, &rec, err)
		if held {
			<-h.deploying
		}
	}()
	if err := h.cfg.Versions.Check(req.Version); err != nil {
		return &protocol.RequestError{Msg: "refused, nothing was run: " + err.Error()}
	}
	if req.PreviousVersion != nil && *req.PreviousVersion != "" {
		if err := h.cfg.Versions.Check(*req.PreviousVersion); err != nil {
			return &protocol.RequestError{Msg: "refused, nothing was run: previous_version: " + err.Error()}
		}
	}
	select {
	case h.deploying <- struct{}{}:
		held = true
	case <-ctx.Done():
		return fmt.Errorf("waiting for the deploy in progress: %w", ctx.Err())
	}

	running := h.running(ctx)
	if req.PreviousVersion == nil {
		rec.previous = running
	}
	if req.Version == running {
		rec.unchanged = true
		return nil
	}

	if err := h.stopped(); err != nil {
		return fmt.Errorf("not deploying version %q: %w", req.Version, err)
	}
	execCtx, cancel := commandContext(ctx, h.stopping, true, h.cfg.ExecTimeout)
	defer cancel()
	h.log.Debug("deploy started", rec.attrs(ctx)...)
	h.mu.Lock()
	h.inProgress = req.Version
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inProgress = ""
		h.mu.Unlock()
	}()
	res := command{line: h.cfg.Exec, grace: h.cfg.KillGrace, env: []string{
		EnvVersion + "=" + req.Version,
		EnvPreviousVersion + "=" + rec.previous,
		EnvDeployment + "=" + req.Deployment,
		EnvTargetID + "=" + req.TargetID,
		EnvStrategy + "=" + req.Strategy,
	}}.run(execCtx)
	h.cfg.Metrics.ran(time.Since(rec.start))
	if res.err != nil {
		how := res.describe(execCtx, h.cfg.ExecTimeout)
		rec.output = res.out.logTail()
		return fmt.Errorf("deploy command for version %q %s%s", req.Version, how, res.out.lastLines(outputTailLines))
	}

	h.mu.Lock()
	h.state.Version, h.state.Deployment, h.state.DeployedAt = req.Version, req.Deployment, time.Now().UTC()
	h.mu.Unlock()
	h.cfg.Metrics.setRunning(req.Version)
	rec.deployed = true
	return nil
}

// deployRecord is what the log line of a deploy call says.
type deployRecord struct {
	req      protocol.DeployRequest
	previous string
	start    time.Time
	// unchanged: the version already ran, nothing was run.
	unchanged bool
	// deployed: the command succeeded and the host runs the version.
	deployed bool
	// output is the tail of a failed command's output.
	output string
}

func (r *deployRecord) attrs(ctx context.Context) []any {
	return []any{
		"deployment", r.req.Deployment, "target_id", r.req.TargetID, "version", r.req.Version,
		"previous_version", r.previous, "strategy", r.req.Strategy, "caller", protocol.CallerOf(ctx),
	}
}

// finish records a deploy call in the history and the state file, then
// counts and logs it: one line each, INFO when it succeeded, WARN when it
// was refused, ERROR when it failed (with the tail of the command's
// output). It returns the call's error: a deploy the state file cannot
// record fails, since a restart would forget it.
func (h *Host) finish(ctx context.Context, rec *deployRecord, err error) error {
	call := newCallRecord(ctx, "deploy", rec.req.Deployment, rec.req.Version, rec.start, err)
	call.PreviousVersion, call.TargetID, call.Unchanged = rec.previous, rec.req.TargetID, rec.unchanged
	if saveErr := h.record(call); saveErr != nil {
		if err == nil {
			err = fmt.Errorf("version %q is deployed but a restart would forget it: %w", rec.req.Version, saveErr)
			h.mu.Lock()
			last := &h.state.History[len(h.state.History)-1]
			last.Result, last.Error = ResultFailed, firstLine(err.Error())
			h.mu.Unlock()
		} else {
			h.log.Error("the state file does not record the last call", "error", saveErr)
		}
	}

	result := resultOf(err)
	h.cfg.Metrics.count(result)
	protocol.MarkLogged(ctx)
	attrs := append(rec.attrs(ctx), "result", result, "duration", time.Since(rec.start).Round(time.Millisecond))
	switch result {
	case ResultSucceeded:
		if rec.unchanged {
			attrs = append(attrs, "unchanged", true)
		}
		h.log.Info("deploy", attrs...)
	case ResultRefused:
		h.log.Warn("deploy", append(attrs, "error", err.Error())...)
	default:
		attrs = append(attrs, "error", firstLine(err.Error()))
		if rec.output != "" {
			attrs = append(attrs, "output", rec.output)
		}
		h.log.Error("deploy", attrs...)
	}
	return err
}

// record adds a call to the history and writes the state file.
func (h *Host) record(call CallRecord) error {
	h.mu.Lock()
	h.state.History = appendHistory(h.state.History, call)
	h.mu.Unlock()
	return h.saveState()
}

// firstLine is an error message without the output tail that follows it.
func firstLine(msg string) string {
	first, _, _ := strings.Cut(msg, "; last output:")
	return first
}

// running is the version the host runs: the one last deployed, or, before
// any deploy, what VersionExec prints ("" when it fails or is not set).
func (h *Host) running(ctx context.Context) string {
	if v := h.Version(); v != "" || h.cfg.VersionExec == "" {
		return v
	}
	ctx, cancel := commandContext(ctx, h.stopping, false, h.cfg.HealthTimeout)
	defer cancel()
	// Its standard output only: what it logs to stderr is not a version.
	stdout := &tailBuffer{max: outputTailBytes}
	res := command{line: h.cfg.VersionExec, stdout: stdout, grace: h.cfg.KillGrace}.run(ctx)
	if res.err != nil {
		h.log.Warn("version command failed", "error", res.describe(ctx, h.cfg.HealthTimeout), "output", res.out.logTail())
		return ""
	}
	v, _, _ := strings.Cut(strings.TrimSpace(string(stdout.tail())), "\n")
	v = strings.TrimSpace(v)
	if err := h.cfg.Versions.Check(v); err != nil {
		h.log.Warn("version command printed no usable version", "error", err)
		return ""
	}
	// Until a deploy is recorded, what the version command says is what
	// the host runs; a deploy that ran meanwhile has the last word.
	h.mu.RLock()
	if h.state.Version == "" {
		h.cfg.Metrics.setRunning(v)
	}
	h.mu.RUnlock()
	return v
}

// Deploying returns the version whose deploy command is running, "" when
// none is.
func (h *Host) Deploying() string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.inProgress
}

// Idle waits until no deploy is in progress (its command done and the
// state file written), or until ctx is done.
func (h *Host) Idle(ctx context.Context) error { return waitFree(ctx, h.deploying) }

// Health reports the running version, healthy unless the health command
// fails.
func (h *Host) Health(ctx context.Context) (protocol.Health, error) {
	version := h.running(ctx)
	health := protocol.Health{Status: protocol.HealthOK, Version: version}
	if h.cfg.HealthExec == "" {
		return health, nil
	}
	ctx, cancel := commandContext(ctx, h.stopping, false, h.cfg.HealthTimeout)
	defer cancel()
	if res := (command{line: h.cfg.HealthExec, env: []string{EnvVersion + "=" + version}, grace: h.cfg.KillGrace}).run(ctx); res.err != nil {
		h.log.Warn("health command failed", "version", version,
			"error", res.describe(ctx, h.cfg.HealthTimeout), "output", res.out.logTail())
		health.Status = protocol.HealthError
	}
	return health, nil
}

// saveState writes the state as it is now.
func (h *Host) saveState() error {
	if h.cfg.StateFile == "" {
		return nil
	}
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	h.mu.RLock()
	data, err := json.MarshalIndent(h.state, "", "  ")
	h.mu.RUnlock()
	if err != nil {
		return err
	}
	return writeState(h.cfg.StateFile, append(data, '\n'), h.trace)
}
