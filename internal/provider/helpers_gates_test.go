package provider

// Helpers of the gate tests: a fleet that logs deploys, weights and
// switches in order, the CLI configuration and what the CLI saved or
// planned.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// eventLog records, in the order the fleet received them, the deploys
// ("deploy t1=1.0.0"), router weights ("weights 2.0.0=25") and switches
// ("switch green=2.0.0") of a fleet.
type eventLog struct {
	record[string]
	rejectMu sync.Mutex
	// reject, when set, makes the fleet answer 503 to the calls whose
	// event it returns true for (they are logged all the same).
	reject func(event string) bool
}

func (l *eventLog) add(e string) bool {
	l.record.add(e)
	l.rejectMu.Lock()
	defer l.rejectMu.Unlock()
	return l.reject != nil && l.reject(e)
}

// rejectWith sets reject.
func (l *eventLog) rejectWith(fn func(event string) bool) {
	l.rejectMu.Lock()
	defer l.rejectMu.Unlock()
	l.reject = fn
}

// newEventFleet is newTestFleet(t, n, "1.0.0") behind a handler that logs
// its deploys, weights and switches.
func newEventFleet(t *testing.T, n int) (*testFleet, *eventLog) {
	t.Helper()
	log := &eventLog{}
	f := serveFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: n, InitialVersion: "1.0.0"}), func(h http.Handler) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			event := ""
			if r.Method == http.MethodPut {
				body := peekBody(r)
				var b struct {
					Version    string  `json:"version"`
					Percentage float64 `json:"percentage"`
					Slot       string  `json:"slot"`
				}
				_ = json.Unmarshal(body, &b)
				switch p := r.URL.Path; {
				case p == "/router/v1/weights":
					event = fmt.Sprintf("weights %s=%s", b.Version, percent(b.Percentage))
				case p == "/router/v1/switch":
					event = fmt.Sprintf("switch %s=%s", b.Slot, b.Version)
				case strings.HasPrefix(p, "/t/") && strings.HasSuffix(p, "/v1/deploy"):
					id := strings.TrimSuffix(strings.TrimPrefix(p, "/t/"), "/v1/deploy")
					event = fmt.Sprintf("deploy %s=%s", id, b.Version)
				}
			}
			if event != "" && log.add(event) {
				http.Error(w, `{"error": "rejected by the test"}`, http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		}
	})
	return f, log
}

// expectRollbackOrder checks events: first the weights of version to 0,
// then exactly one deploy of previous to each of ids (in any order), and
// nothing else.
func expectRollbackOrder(events []string, version, previous string, ids []string) error {
	want := []string{fmt.Sprintf("weights %s=0", version)}
	var deploys []string
	for _, id := range ids {
		deploys = append(deploys, fmt.Sprintf("deploy %s=%s", id, previous))
	}
	if len(events) != len(deploys)+1 || events[0] != want[0] {
		return fmt.Errorf("fleet calls %v, want %q first, then the deploys %v", events, want[0], deploys)
	}
	got := slices.Sorted(slices.Values(events[1:]))
	if !slices.Equal(got, slices.Sorted(slices.Values(deploys))) {
		return fmt.Errorf("fleet calls after %q: %v, want the deploys %v", want[0], events[1:], deploys)
	}
	return nil
}

// weightsAbove lists the weights events of version above most.
func weightsAbove(events []string, version string, most float64) []string {
	var out []string
	for _, e := range events {
		rest, isWeights := strings.CutPrefix(e, "weights "+version+"=")
		if pct, err := strconv.ParseFloat(rest, 64); isWeights && err == nil && pct > most {
			out = append(out, e)
		}
	}
	return out
}

// cliGateState is what the CLI tests read of the saved deployment beyond
// deploymentState.
type cliGateState struct {
	deploymentState
	PausedAt          *float64 `json:"paused_at"`
	ResumeAt          *string  `json:"resume_at"`
	TrafficPercentage float64  `json:"traffic_percentage"`
}

// gateState reads the saved deployment "web".
func (w *cliWorkdir) gateState() cliGateState {
	w.t.Helper()
	attrs, _, ok := deploymentAttributes(w.t, w.stateFile(), "web")
	if !ok {
		w.t.Fatal("no deployment web in state")
	}
	var s cliGateState
	if err := json.Unmarshal(attrs, &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (s cliGateState) String() string {
	pa, ra := "null", "null"
	if s.PausedAt != nil {
		pa = percent(*s.PausedAt)
	}
	if s.ResumeAt != nil {
		ra = *s.ResumeAt
	}
	return fmt.Sprintf("status %q, version %q, paused_at %s, resume_at %s, traffic %s, target_versions %v",
		s.Status, s.Version, pa, ra, percent(s.TrafficPercentage), s.TargetVersions)
}

// expectPaused fails the test unless the saved deployment "web" is
// paused at at.
func (w *cliWorkdir) expectPaused(at float64) cliGateState {
	w.t.Helper()
	s := w.gateState()
	if s.Status != "paused" || s.PausedAt == nil || *s.PausedAt != at {
		w.t.Fatalf("saved %s, want paused at %s", s, percent(at))
	}
	return s
}

// plannedAfter is what `show -json` of a saved plan says the deployment
// will be.
type plannedAfter struct {
	ChangedTargets []string `json:"changed_targets"`
	Status         string   `json:"status"`
}

// plannedDeployment reads the planned values of codomyrmex_deployment.web
// from the saved plan file.
func plannedDeployment(t *testing.T, w *cliWorkdir, file string) plannedAfter {
	t.Helper()
	raw := w.mustRun(0, nil, "show", "-json", file)
	var shown struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				After plannedAfter `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(raw), &shown); err != nil {
		t.Fatalf("show -json %s: %v\n%s", file, err, tail(raw, 2000))
	}
	for _, rc := range shown.ResourceChanges {
		if rc.Address == "codomyrmex_deployment.web" {
			return rc.Change.After
		}
	}
	t.Fatalf("the plan %s has no change of codomyrmex_deployment.web:\n%s", file, tail(raw, 2000))
	return plannedAfter{}
}

// flat joins the words of a CLI's output with single spaces.
func flat(out string) string { return strings.Join(strings.Fields(out), " ") }
