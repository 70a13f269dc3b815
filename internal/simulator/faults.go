package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

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
func sleep(ctx context.Context, d time.Duration) bool { return clock.Real().Sleep(ctx, d) == nil }
