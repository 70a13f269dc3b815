package strategies

import (
	"context"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// TestAnalysisFailureMessage: a metric failure counts its measurements in
// good English and says the threshold once: not again after a value whose
// note says it ("above max 0.05"), nor after a reading with no value (no
// data, Prometheus unreachable), where it explains nothing.
func TestAnalysisFailureMessage(t *testing.T) {
	t.Parallel()
	r := &run{
		req: Request{Version: "2.1.0", Targets: []Target{{ID: "t1"}, {ID: "t2"}}},
		res: &Result{Outcomes: map[string]*TargetOutcome{"t1": {ID: "t1", Version: "2.1.0", Healthy: true}, "t2": {ID: "t2", Version: "2.0.0"}}},
	}
	above := Measurement{Value: "0.2", Threshold: "max 0.05", Note: "above max 0.05"}
	unreachable := Measurement{Threshold: "max 0.05", Note: "prometheus at http://127.0.0.1:9 unreachable or failed: connection refused"}
	notNumber := Measurement{Value: "n/a", Threshold: "max 0.05", Note: "not a number"}
	for _, tc := range []struct {
		name   string
		failed []Measurement
		want   string
	}{
		{"one value above", []Measurement{above},
			`stage 1 (25%): analysis failed: metric "error-rate" failed 1 measurement (failure_limit 0): 0.2 (above max 0.05); targets running 2.1.0: t1`},
		{"two unreachable", []Measurement{unreachable, unreachable},
			`failed 2 measurements (failure_limit 0): ` + unreachable.Note + `, ` + unreachable.Note + `; targets running 2.1.0: t1`},
		{"a value the note does not compare", []Measurement{notNumber},
			`failed 1 measurement (failure_limit 0): n/a (not a number); required max 0.05; targets running 2.1.0: t1`},
	} {
		got := r.analysisFailure("stage 1 (25%)", MetricLimit{Name: "error-rate"}, tc.failed).Error()
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		if strings.Count(got, "max 0.05") > 1 {
			t.Errorf("%s: the threshold is said more than once: %s", tc.name, got)
		}
	}
}

// TestNOf: counts read as English: 1 target, 2 targets, 0 targets.
func TestNOf(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 targets", 1: "1 target", 2: "2 targets"} {
		if got := nOf(n, "target"); got != want {
			t.Errorf("nOf(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestTargetFailedEventNamesTheTarget: the progress line of a failed
// target says which target and where, not only "target failed".
func TestTargetFailedEventNamesTheTarget(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v1")
	f.deployErr["t2"] = errBoom
	var events []Event
	mustNew(t, NameRolling, nil).Execute(context.Background(), request(targets), f.env(clocktest.NewFake(epoch), &events))
	for _, e := range events {
		if e.Level == LevelError && e.TargetID == "t2" {
			if !strings.Contains(e.Message, "target t2 failed") {
				t.Errorf("error event %q does not name the target", e.Message)
			}
			return
		}
	}
	t.Errorf("no error event for t2 in %+v", events)
}
