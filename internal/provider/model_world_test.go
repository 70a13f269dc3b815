package provider

// The world of TestAccModel_randomSequences beyond the simulated fleet
// itself: every call logged as it arrives (so that the driver can
// interrupt the CLI at a chosen point of an apply), and the web check its
// analysis measures, whose answers the driver controls.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify/notifytest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// modelCheckPath is where the model's web check is served, next to the
// fleet; modelEventsPath the receiver of the deployment's notifications.
const (
	modelCheckPath  = "/_model/check"
	modelEventsPath = "/_model/events"
)

// modelEvent is one call as the world received it, before any fault or
// hang acted on it.
type modelEvent struct {
	Kind    string // simulator.CallDeploy, CallWeights, CallSwitch, CallFlagPut, or "check"
	Target  string // deploy: the fleet target
	Version string // deploy, weights, switch, check
	Stage   string // check: the window ({{stage}})
	Pct     float64
	At      time.Time
}

func (e modelEvent) String() string {
	switch e.Kind {
	case simulator.CallDeploy:
		return fmt.Sprintf("deploy %s=%s", e.Target, e.Version)
	case simulator.CallWeights:
		return fmt.Sprintf("weights %s=%v", e.Version, e.Pct)
	case "check":
		return fmt.Sprintf("check %s stage %s", e.Version, e.Stage)
	default:
		return e.Kind + " " + e.Version
	}
}

// modelWorld logs the calls and answers the web check.
type modelWorld struct {
	mu     sync.Mutex
	events []modelEvent
	// The web check answers {"ok": false} for the versions in fail, after
	// hang (or when the caller goes away).
	fail map[string]bool
	hang time.Duration
	// deployHangs delays deploys of a version before the fleet sees them.
	deployHangs map[string]time.Duration
	// notices receives the deployment's notifications.
	notices *notifytest.Receiver
}

// newModelFleet is newTestFleet behind a handler that logs every call as
// it arrives and serves the web check at modelCheckPath.
func newModelFleet(t *testing.T, n int, initial string) (*testFleet, *modelWorld) {
	t.Helper()
	f := simulator.NewFleet(simulator.FleetConfig{Targets: n, InitialVersion: initial})
	w := &modelWorld{fail: map[string]bool{}, deployHangs: map[string]time.Duration{}, notices: notifytest.Handler(t)}
	h := f.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case modelCheckPath:
			w.serveCheck(rw, r)
			return
		case modelEventsPath:
			w.notices.ServeHTTP(rw, r)
			return
		}
		if e, ok := eventOf(r); ok {
			if hang := w.add(e); hang > 0 && !sleepCtx(r.Context(), hang) {
				return
			}
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	return &testFleet{Fleet: f, URL: srv.URL}, w
}

// eventOf reads what a fleet call is about; the body is put back.
func eventOf(r *http.Request) (modelEvent, bool) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		return modelEvent{}, false
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	var b struct {
		Version    string  `json:"version"`
		Percentage float64 `json:"percentage"`
	}
	_ = json.Unmarshal(body, &b)
	switch p := r.URL.Path; {
	case p == "/router/v1/weights":
		return modelEvent{Kind: simulator.CallWeights, Version: b.Version, Pct: b.Percentage}, true
	case p == "/router/v1/switch":
		return modelEvent{Kind: simulator.CallSwitch, Version: b.Version}, true
	case strings.HasPrefix(p, "/flags/"):
		return modelEvent{Kind: simulator.CallFlagPut, Pct: b.Percentage}, true
	case strings.HasPrefix(p, "/t/") && strings.HasSuffix(p, "/v1/deploy"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, "/t/"), "/v1/deploy")
		return modelEvent{Kind: simulator.CallDeploy, Target: id, Version: b.Version}, true
	}
	return modelEvent{}, false
}

// add logs e and returns how long it is to hang.
func (w *modelWorld) add(e modelEvent) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	e.At = time.Now()
	w.events = append(w.events, e)
	if e.Kind == simulator.CallDeploy {
		return w.deployHangs[e.Version]
	}
	return 0
}

// setDeployHang makes deploys of version wait hang (0: not any more).
func (w *modelWorld) setDeployHang(version string, hang time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if hang == 0 {
		delete(w.deployHangs, version)
		return
	}
	w.deployHangs[version] = hang
}

// calm ends every hang; a failing check still fails.
func (w *modelWorld) calm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.deployHangs)
	w.hang = 0
}

// sleepCtx waits d and reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	return clock.Real().Sleep(ctx, d) == nil
}

func (w *modelWorld) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.events)
}

// since returns the events after mark.
func (w *modelWorld) since(mark int) []modelEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]modelEvent(nil), w.events[mark:]...)
}

// setCheck makes the web check fail for the versions in fail and answer
// after hang.
func (w *modelWorld) setCheck(fail []string, hang time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.fail)
	for _, v := range fail {
		w.fail[v] = true
	}
	w.hang = hang
}

func (w *modelWorld) serveCheck(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e := modelEvent{Kind: "check", Version: q.Get("v"), Stage: q.Get("stage"), At: time.Now()}
	w.mu.Lock()
	w.events = append(w.events, e)
	ok, hang := !w.fail[e.Version], w.hang
	w.mu.Unlock()
	if hang > 0 && !sleepCtx(r.Context(), hang) {
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(rw, `{"ok": %t}`, ok)
}
