package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

func fleetSpec(strategy string, slots ...string) *deploymentSpec {
	s := &deploymentSpec{name: "web", version: "2", strategy: strategy}
	for i, slot := range slots {
		s.targets = append(s.targets, strategies.Target{ID: ids(len(slots))[i], Slot: slot})
	}
	return s
}

func TestFailureMessageNamesTargetsPhaseAndRollback(t *testing.T) {
	t.Parallel()
	spec := fleetSpec(strategies.NameRolling, "", "", "")
	spec.autoRollback = true
	res := &strategies.Result{
		Status:     strategies.StatusRolledBack,
		StoppedAt:  "batch 2/3",
		Outcomes:   map[string]*strategies.TargetOutcome{"t1": {ID: "t1", RestoredTo: "1"}, "t2": {ID: "t2", Err: errString("HTTP 500"), RestoredTo: "1"}, "t3": {ID: "t3"}},
		RolledBack: []string{"t1", "t2"},
	}
	msg := failureMessage(spec, res, "1", "")
	for _, want := range []string{`"web"`, "batch 2/3", "Failed targets: t2", `Rolled back to previous_version "1": t1, t2`} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	// A failed repair puts a drifted target back on what it ran.
	res.Outcomes["t2"].RestoredTo = "0.9"
	if msg := failureMessage(spec, res, "1", ""); !strings.Contains(msg, "Restored to the version each ran before: t1 (1), t2 (0.9)") {
		t.Errorf("failure message does not name what each target got back:\n%s", msg)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestHealthFailureTellsAnswersFromSilence: a target that answered (401,
// unhealthy, another status) is not called unreachable.
func TestHealthFailureTellsAnswersFromSilence(t *testing.T) {
	t.Parallel()
	serve := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	client, err := protocol.NewClient(protocol.ClientConfig{RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	targets := []strategies.Target{
		{ID: "t1", Address: serve(http.StatusUnauthorized, `{"error":"missing or invalid bearer token"}`)},
		{ID: "t2", Address: serve(http.StatusOK, `{"status":"error"}`)},
		{ID: "t3", Address: serve(http.StatusNotFound, `{"error":"no"}`)},
		{ID: "t4", Address: "http://127.0.0.1:1"},
		{ID: "t5", Address: serve(http.StatusOK, `{"status":"ok"}`)},
		{ID: "t6", Address: serve(http.StatusOK, `{"status":"ok","version":"1.0.0"}`)},
	}
	want := map[string]string{
		"t1": "answered unauthorized (HTTP 401: check the token)",
		"t2": `answered unhealthy (status "error")`,
		"t3": "answered HTTP 404",
		"t4": "gave no answer",
	}
	versions, errs := strategies.ReadVersions(context.Background(), targets, strategies.Env{
		Health: func(ctx context.Context, tg strategies.Target) (string, error) {
			h, err := client.Health(ctx, tg.Address, "")
			return h.Version, err
		},
	})
	for id, w := range want {
		if got := healthFailure(errs[id]); got != w {
			t.Errorf("%s: %q, want %q (error: %v)", id, got, w, errs[id])
		}
	}
	got := describeVersions(targets, versions, errs)
	const all = `1 answered HTTP 404, 1 answered unauthorized (HTTP 401: check the token), 1 answered unhealthy (status "error"), 1 answered without a version, 1 at "1.0.0", 1 gave no answer`
	if got != all {
		t.Errorf("describeVersions = %q, want %q", got, all)
	}
}

// resume_at is written as the engine decided it, in RFC 3339.
func TestPausedValuesWriteResumeAt(t *testing.T) {
	t.Parallel()
	for at, want := range map[time.Time]string{
		time.Date(2026, 12, 2, 9, 0, 1, 0, time.UTC):  "2026-12-02T09:00:01Z",
		time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC): "2026-12-02T10:00:00Z",
	} {
		pausedAt, resume := pausedValues(&strategies.Result{Status: strategies.StatusPaused, PausedAt: 50, ResumeAt: at})
		if resume.ValueString() != want || pausedAt.ValueFloat64() != 50 {
			t.Errorf("resume_at for %s = %s (paused_at %s), want %s", at, resume, pausedAt, want)
		}
	}
	if p, r := pausedValues(&strategies.Result{Status: strategies.StatusCompleted}); !p.IsNull() || !r.IsNull() {
		t.Errorf("not paused: %s %s, want nulls", p, r)
	}
}
