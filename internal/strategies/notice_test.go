package strategies

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// notices runs req with strategy (cfg modified by mod) and returns the
// result and each notice as "kind stage pct [targets]".
func notices(t *testing.T, f *fleet, name string, mod func(*Config), req Request, measure MeasureFunc) (*Result, []string, []Notice) {
	t.Helper()
	env := f.env(clocktest.NewFake(epoch), nil)
	env.Measure = measure
	var got []Notice
	env.Notify = func(n Notice) { got = append(got, n) }
	res := mustNew(t, name, mod).Execute(context.Background(), req, env)
	lines := make([]string, len(got))
	for i, n := range got {
		lines[i] = strings.TrimSpace(fmt.Sprintf("%s %s %s %v", n.Kind, n.Stage, formatPercent(n.Percentage), n.Targets))
		if n.Deployment != "web" || n.Version != req.Version || n.PreviousVersion != req.PreviousVersion || n.Strategy != name {
			t.Errorf("notice %d does not say what it is about: %+v", i, n)
		}
	}
	// The last notice is the status the rollout ends with.
	if len(got) == 0 || got[len(got)-1].Kind != string(res.Status) {
		t.Errorf("notices %v do not end in the status %s", lines, res.Status)
	}
	return res, lines, got
}

func TestNoticesOfARollingRollout(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 5, "v1")
	_, got, _ := notices(t, f, NameRolling, func(c *Config) { c.Rolling = RollingConfig{BatchSize: 2} }, request(targets), nil)
	want := []string{
		"started  0 [t1 t2 t3 t4 t5]",
		"stage_passed batch 1/3 40 [t1 t2]",
		"stage_passed batch 2/3 80 [t3 t4]",
		"stage_passed batch 3/3 100 [t5]",
		"completed  100 [t1 t2 t3 t4 t5]",
	}
	wantNotices(t, got, want)
}

func TestNoticesOfACanaryAtAGate(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 20, "v1")
	cfg := gatedCanary()
	_, got, last := notices(t, f, NameCanary, func(c *Config) { *c = cfg }, request(targets), nil)
	want := []string{
		"started  0 [" + strings.Join(idRange(1, 20), " ") + "]",
		"stage_passed stage 1 (5%) 5 [t1]",
		"stage_passed stage 2 (25%) 25 [t2 t3 t4 t5]",
		"paused stage 2 (25%) 25 [t1 t2 t3 t4 t5]",
	}
	wantNotices(t, got, want)
	if why := last[len(last)-1].Reason; !strings.Contains(why, `approve = { version = "v2", through = 25 }`) {
		t.Errorf("the pause does not say what opens it: %s", why)
	}
}

func TestNoticesOfAFailedCanary(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 10, "v1")
	f.unhealthy["t3@v2"] = true
	res, got, last := notices(t, f, NameCanary, func(c *Config) { c.Canary.StageInterval = 0 }, request(targets), nil)
	if res.Status != StatusRolledBack {
		t.Fatalf("status %s, errors %v", res.Status, res.Errors)
	}
	want := []string{
		"started  0 [" + strings.Join(idRange(1, 10), " ") + "]",
		"stage_passed stage 1 (10%) 10 [t1]",
		"failed stage 2 (25%) 10 [t3]",
		"rolled_back stage 2 (25%) 0 [t1 t2 t3]",
	}
	wantNotices(t, got, want)
	if why := last[2].Reason; !strings.Contains(why, "below success_threshold") {
		t.Errorf("failed does not say why: %s", why)
	}
}

func TestNoticesOfAFailedMeasurement(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 4, "v1")
	req := request(targets)
	req.Analysis = Analysis{Metrics: []MetricLimit{{Name: "error-rate"}}}
	m := newMeter(func(int, Window, int) (string, bool) { return "0.2", false })
	_, got, last := notices(t, f, NameBlueGreen, nil, withSlots(req), m.Measure)
	want := []string{
		"started  0 [t2 t4]",
		"stage_passed green slot 0 [t2 t4]",
		"measurement_failed bake 100 [t2 t4]",
		"failed bake 100 [t2 t4]",
		"rolled_back bake 0 [t2 t4]",
	}
	wantNotices(t, got, want)
	if why := last[2].Reason; why != "metric error-rate = 0.2" {
		t.Errorf("measurement_failed says %q", why)
	}
}

// withSlots puts odd targets in blue and even ones in green.
func withSlots(req Request) Request {
	req.Targets = slices.Clone(req.Targets)
	for i := range req.Targets {
		req.Targets[i].Slot = []string{SlotBlue, SlotGreen}[i%2]
	}
	req.ActiveSlot = SlotBlue
	return req
}

func TestNoticesOfARejectedRollout(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v1")
	res, got, last := notices(t, f, NameBlueGreen, nil, request(targets), nil)
	if res.Status != StatusFailed || !slices.Equal(got, []string{"failed validation 0 []"}) {
		t.Fatalf("a rollout that cannot start: %s, notices %v", res.Status, got)
	}
	if !strings.Contains(last[0].Reason, "slot") {
		t.Errorf("failed does not say why: %s", last[0].Reason)
	}
}

func TestNoticesOfARollback(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 3, "v2")
	env := f.env(clocktest.NewFake(epoch), nil)
	var got []Notice
	env.Notify = func(n Notice) { got = append(got, n) }
	req := request(targets)
	res := mustNew(t, NameRolling, nil).Rollback(context.Background(), req, env, targets[:2])
	if res.Status != StatusRolledBack || len(got) != 1 || got[0].Kind != NoticeRolledBack || !slices.Equal(got[0].Targets, []string{"t1", "t2"}) {
		t.Fatalf("a rollback: %s, notices %+v", res.Status, got)
	}
	got = nil
	req.PreviousVersion = ""
	res = mustNew(t, NameRolling, nil).Rollback(context.Background(), req, env, targets)
	if res.Status != StatusFailed || len(got) != 1 || got[0].Kind != NoticeFailed {
		t.Fatalf("a rollback without a previous version: %s, notices %+v", res.Status, got)
	}
}

func wantNotices(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("notices\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
