package strategies

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// meter is a fake Env.Measure: verdict decides each measurement from the
// metric, the window and the measurement's number (1-based, per metric); it
// records every window it was asked about.
type meter struct {
	mu      sync.Mutex
	calls   map[int]int
	windows []Window
	verdict func(metric int, w Window, n int) (value string, passed bool)
}

func newMeter(verdict func(metric int, w Window, n int) (string, bool)) *meter {
	return &meter{calls: map[int]int{}, verdict: verdict}
}

func (m *meter) Measure(_ context.Context, metric int, w Window) Measurement {
	m.mu.Lock()
	m.calls[metric]++
	n := m.calls[metric]
	m.windows = append(m.windows, w)
	m.mu.Unlock()
	v, ok := m.verdict(metric, w, n)
	return Measurement{Value: v, Passed: ok, Threshold: "max 0.05"}
}

// phases returns the phase of every measurement of metric 0 (one per
// measurement time when there is one metric).
func (m *meter) phases() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, w := range m.windows {
		out = append(out, w.Phase)
	}
	return out
}

// analysed returns f's environment, on a fake clock and measured by m,
// and a request of targets with the errorRate analysis.
func analysed(f *fleet, targets []Target, m *meter, events *[]Event) (Env, Request) {
	env := f.env(clocktest.NewFake(epoch), events)
	env.Measure = m.Measure
	req := request(targets)
	req.Analysis = errorRate()
	return env, req
}

// passing passes every measurement.
func passing(int, Window, int) (string, bool) { return "0", true }

func errorRate() Analysis {
	return Analysis{Interval: 10 * time.Second, Metrics: []MetricLimit{{Name: "error-rate"}}}
}

// badFrom fails every measurement taken in a window whose phase starts with
// prefix; the others pass.
func badFrom(prefix string) func(int, Window, int) (string, bool) {
	return func(_ int, w Window, _ int) (string, bool) {
		if strings.HasPrefix(w.Phase, prefix) {
			return "0.2", false
		}
		return "0", true
	}
}

func TestAnalysisWindowSchedule(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		window, initial, interval time.Duration
		wantSleeps                []time.Duration
		measurements              int
	}{
		// At 10, 30, 50 and 60 s.
		"initial delay, intervals, one at the end": {60 * time.Second, 10 * time.Second, 20 * time.Second, []time.Duration{10 * time.Second, 20 * time.Second, 20 * time.Second, 10 * time.Second}, 4},
		"window of 0s measures once":               {0, 0, 20 * time.Second, nil, 1},
		"interval longer than the window":          {15 * time.Second, 0, time.Minute, []time.Duration{15 * time.Second}, 2},
		"initial delay longer than the window":     {5 * time.Second, 20 * time.Second, time.Second, []time.Duration{20 * time.Second}, 1},
		"default interval":                         {time.Minute, 0, 0, []time.Duration{30 * time.Second, 30 * time.Second}, 3},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, 1, "v1")
			clk := clocktest.NewFake(epoch)
			m := newMeter(func(int, Window, int) (string, bool) { return "0", true })
			env := f.env(clk, nil)
			env.Measure = m.Measure
			req := request(targets)
			req.HealthCheck.Enabled = false
			req.Bake = tc.window
			req.Analysis = Analysis{Interval: tc.interval, InitialDelay: tc.initial, Metrics: []MetricLimit{{Name: "m"}}}
			res := mustNew(t, NameRolling, nil).Execute(context.Background(), req, env)
			if !res.Success {
				t.Fatalf("errors %v", res.Errors)
			}
			if got := clk.Sleeps(); !slices.Equal(got, tc.wantSleeps) {
				t.Errorf("sleeps %v, want %v", got, tc.wantSleeps)
			}
			if got := len(m.phases()); got != tc.measurements {
				t.Errorf("%d measurements, want %d", got, tc.measurements)
			}
		})
	}
}

func TestAnalysisCanaryRollsBackOnMetric(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 4, "v1")
	var events []Event
	m := newMeter(badFrom("stage 1"))
	env, req := analysed(f, targets, m, &events)
	s := mustNew(t, NameCanary, func(c *Config) { c.Canary.Stages = []float64{25, 50, 100} })
	res := s.Execute(context.Background(), req, env)

	if res.Success || res.Status != StatusRolledBack || res.StoppedAt != "stage 1 (25%)" {
		t.Fatalf("status %s stopped %q errors %v", res.Status, res.StoppedAt, res.Errors)
	}
	if !errorsMention(res.Errors, "stage 1 (25%)", `metric "error-rate"`, "0.2", "max 0.05", "failure_limit 0", "targets running v2: t1", "rolled back to v1") {
		t.Errorf("errors %v do not name the stage, metric, value, threshold and targets", res.Errors)
	}
	wantWeights := []string{"weights v2 25", "weights v2 0"}
	if got := f.calls("weights"); !slices.Equal(got, wantWeights) {
		t.Errorf("weights calls %v, want %v", got, wantWeights)
	}
	if f.version("t1") != "v1" || len(f.deployed("v2")) != 1 {
		t.Errorf("t1 runs %s, deployed %v", f.version("t1"), f.deployed("v2"))
	}
	last := res.LastMeasurements()
	if len(last) != 1 || last[0].Metric != "error-rate" || last[0].Value != "0.2" || last[0].Passed || last[0].Phase != "stage 1 (25%)" || !last[0].At.Equal(epoch) {
		t.Errorf("last measurements %+v", last)
	}
	var logged bool
	for _, e := range events {
		if e.Level == LevelInfo && strings.Contains(e.Message, "metric error-rate = 0.2 (max 0.05): failed") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("the measurement was not logged at INFO: %v", events)
	}
}

func TestAnalysisWindows(t *testing.T) {
	t.Parallel()
	t.Run("canary measures every stage and the bake", func(t *testing.T) {
		t.Parallel()
		f, targets := newFleet(t, 4, "v1")
		m := newMeter(passing)
		env, req := analysed(f, targets, m, nil)
		s := mustNew(t, NameCanary, func(c *Config) { c.Canary.Stages = []float64{25, 50, 100}; c.Canary.StageInterval = 0 })
		res := s.Execute(context.Background(), req, env)
		if !res.Success {
			t.Fatalf("errors %v", res.Errors)
		}
		want := []string{"stage 1 (25%)", "stage 2 (50%)", "bake"}
		if got := m.phases(); !slices.Equal(got, want) {
			t.Errorf("windows %v, want %v", got, want)
		}
		var pcts []float64
		var stages []string
		for _, w := range m.windows {
			pcts = append(pcts, w.Percentage)
			stages = append(stages, w.Stage)
			if w.Deployment != "web" || w.Version != "v2" || w.PreviousVersion != "v1" {
				t.Errorf("window %+v does not carry the placeholders", w)
			}
		}
		if !slices.Equal(pcts, []float64{25, 50, 100}) || !slices.Equal(stages, []string{"1", "2", "bake"}) {
			t.Errorf("percentages %v stages %v", pcts, stages)
		}
	})
	t.Run("rolling measures in every batch_delay and the bake", func(t *testing.T) {
		t.Parallel()
		f, targets := newFleet(t, 3, "v1")
		m := newMeter(passing)
		env, req := analysed(f, targets, m, nil)
		res := mustNew(t, NameRolling, func(c *Config) { c.Rolling.BatchDelay = 0 }).Execute(context.Background(), req, env)
		if !res.Success {
			t.Fatalf("errors %v", res.Errors)
		}
		if got, want := m.phases(), []string{"batch 1/3", "batch 2/3", "bake"}; !slices.Equal(got, want) {
			t.Errorf("windows %v, want %v", got, want)
		}
	})
	t.Run("rolling failure in a batch_delay stops before the next batch", func(t *testing.T) {
		t.Parallel()
		f, targets := newFleet(t, 3, "v1")
		env, req := analysed(f, targets, newMeter(badFrom("batch 2")), nil)
		res := mustNew(t, NameRolling, nil).Execute(context.Background(), req, env)
		if res.Status != StatusRolledBack || res.StoppedAt != "batch 2/3" {
			t.Fatalf("status %s stopped %q errors %v", res.Status, res.StoppedAt, res.Errors)
		}
		if got := f.deployed("v2"); !slices.Equal(got, []string{"t1", "t2"}) {
			t.Errorf("deployed %v, want t1, t2 only", got)
		}
		if f.version("t1") != "v1" || f.version("t2") != "v1" {
			t.Errorf("not rolled back: t1 %s t2 %s", f.version("t1"), f.version("t2"))
		}
	})
	t.Run("no analysis: windows only wait", func(t *testing.T) {
		t.Parallel()
		f, targets := newFleet(t, 2, "v1")
		clk := clocktest.NewFake(epoch)
		env := f.env(clk, nil)
		req := request(targets)
		req.HealthCheck.Enabled = false
		req.Bake = time.Minute
		res := mustNew(t, NameRolling, func(c *Config) { c.Rolling.BatchDelay = 5 * time.Second }).Execute(context.Background(), req, env)
		if !res.Success || res.Measurements != nil {
			t.Fatalf("errors %v measurements %v", res.Errors, res.Measurements)
		}
		if got, want := clk.Sleeps(), []time.Duration{5 * time.Second, time.Minute}; !slices.Equal(got, want) {
			t.Errorf("sleeps %v, want %v", got, want)
		}
	})
}

func TestAnalysisFailureLimit(t *testing.T) {
	t.Parallel()
	// A bake of 30s at 10s intervals measures 4 times (0, 10, 20, 30 s).
	for _, tc := range []struct {
		limit, failing int
		dryRun         bool
		wantOK         bool
	}{
		{limit: 0, failing: 1, wantOK: false},
		{limit: 1, failing: 1, wantOK: true},
		{limit: 1, failing: 2, wantOK: false},
		{limit: 3, failing: 3, wantOK: true},
		{limit: 0, failing: 4, dryRun: true, wantOK: true},
	} {
		t.Run(fmt.Sprintf("limit %d failing %d dry_run %t", tc.limit, tc.failing, tc.dryRun), func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, 1, "v1")
			m := newMeter(func(_ int, _ Window, n int) (string, bool) {
				if n <= tc.failing {
					return "0.2", false
				}
				return "0", true
			})
			env, req := analysed(f, targets, m, nil)
			req.Bake = 30 * time.Second
			req.Analysis.Metrics[0].FailureLimit = tc.limit
			req.Analysis.DryRun = tc.dryRun
			res := mustNew(t, NameRolling, nil).Execute(context.Background(), req, env)
			if res.Success != tc.wantOK {
				t.Fatalf("success %t, want %t: %v", res.Success, tc.wantOK, res.Errors)
			}
			if tc.wantOK && len(m.phases()) != 4 {
				t.Errorf("%d measurements, want 4", len(m.phases()))
			}
			if !tc.wantOK && len(m.phases()) != tc.limit+1 {
				t.Errorf("%d measurements, want the rollout to stop at the %d-th failure", len(m.phases()), tc.limit+1)
			}
		})
	}
}

func TestAnalysisBakeBlueGreenSwitchesBack(t *testing.T) {
	t.Parallel()
	f, targets := blueGreenFleet(t, "v1")
	env, req := analysed(f, targets, newMeter(badFrom("bake")), nil)
	req.ActiveSlot = SlotBlue
	req.Bake = time.Minute
	res := mustNew(t, NameBlueGreen, nil).Execute(context.Background(), req, env)
	if res.Status != StatusRolledBack || res.StoppedAt != "bake" || res.ActiveSlot != SlotBlue {
		t.Fatalf("status %s stopped %q active %s errors %v", res.Status, res.StoppedAt, res.ActiveSlot, res.Errors)
	}
	if got, want := f.calls("switch"), []string{"switch green v2", "switch blue v1"}; !slices.Equal(got, want) {
		t.Errorf("switch calls %v, want %v", got, want)
	}
	wantRunning(t, f, "v1", "g1", "g2", "g3")
}

func TestAnalysisBakeFeatureFlagRestoresTheFlag(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v1")
	env, req := analysed(f, targets, newMeter(badFrom("bake")), nil)
	req.Bake = time.Minute
	s := mustNew(t, NameFeatureFlag, func(c *Config) { c.FeatureFlag = FeatureFlagConfig{FlagName: "f", InitialRollout: 20} })
	res := s.Execute(context.Background(), req, env)
	if res.Status != StatusRolledBack || res.TrafficPercentage != 0 {
		t.Fatalf("status %s traffic %g errors %v", res.Status, res.TrafficPercentage, res.Errors)
	}
	if got, want := f.calls("publish"), []string{"publish 20", "publish 0"}; !slices.Equal(got, want) {
		t.Errorf("publish calls %v, want %v", got, want)
	}
}

func TestAnalysisCancelledDuringBake(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v1")
	clk := clocktest.NewFake(epoch)
	ctx := cancelAtSleep(t, clk, time.Minute)
	env := f.env(clk, nil)
	m := newMeter(func(int, Window, int) (string, bool) { return "0", true })
	env.Measure = m.Measure
	req := request(targets)
	req.HealthCheck.Enabled = false
	req.Bake = time.Minute
	req.Analysis = Analysis{Interval: time.Minute, Metrics: []MetricLimit{{Name: "m"}}, InitialDelay: time.Minute}
	res := mustNew(t, NameRolling, func(c *Config) { c.Rolling.BatchSize = 2 }).Execute(ctx, req, env)
	if res.Success || res.StoppedAt != "bake (cancelled)" || res.Status != StatusRolledBack {
		t.Fatalf("status %s stopped %q errors %v", res.Status, res.StoppedAt, res.Errors)
	}
	if len(m.phases()) != 0 {
		t.Errorf("measured %v after the cancellation", m.phases())
	}
	if f.version("t1") != "v1" || f.version("t2") != "v1" {
		t.Errorf("fleet not restored: %s %s", f.version("t1"), f.version("t2"))
	}
}

func TestMinHealthy(t *testing.T) {
	t.Parallel()
	base := HealthCheck{Enabled: true, Interval: time.Second, Timeout: 5 * time.Second, ExpectVersion: true, MinHealthy: 10 * time.Second}
	t.Run("healthy for min_healthy", func(t *testing.T) {
		t.Parallel()
		f, targets := newFleet(t, 1, "v1")
		env := holdSlot(t, f.env(clocktest.NewFake(epoch), nil).withDefaults())
		r := deployAndWait(context.Background(), env, base, targets[0], "v2", "v1")
		if r.err != nil || r.version != "v2" {
			t.Fatalf("got %q, %v", r.version, r.err)
		}
		if got := f.healthCalls["t1"]; got != 11 {
			t.Errorf("%d health calls, want 11 (one healthy poll at 0 s and one every second up to 10 s)", got)
		}
	})
	t.Run("a flap inside min_healthy is unhealthy", func(t *testing.T) {
		t.Parallel()
		f, targets := newFleet(t, 1, "v1")
		env := holdSlot(t, f.env(clocktest.NewFake(epoch), nil).withDefaults())
		health := env.Poll
		if health == nil {
			health = env.Health
		}
		n := 0
		env.Poll = func(ctx context.Context, tg Target) (string, error) {
			n++
			if n == 4 {
				return "", fmt.Errorf("connection refused")
			}
			return health(ctx, tg)
		}
		r := deployAndWait(context.Background(), env, base, targets[0], "v2", "v1")
		if r.err == nil || !strings.Contains(r.err.Error(), "healthy, then unhealthy") || !strings.Contains(r.err.Error(), "min_healthy 10s") {
			t.Fatalf("err = %v, want a flap within min_healthy", r.err)
		}
	})
	// min_healthy shorter than one interval, or not a multiple of it: the
	// check that completes it is taken at min_healthy, not at the next
	// interval (nor one interval early).
	for _, c := range []struct {
		name       string
		minHealthy time.Duration
		sleeps     []time.Duration
	}{
		{"below one interval", 500 * time.Millisecond, []time.Duration{500 * time.Millisecond}},
		{"between two intervals", 1500 * time.Millisecond, []time.Duration{time.Second, 500 * time.Millisecond}},
		{"one interval", time.Second, []time.Duration{time.Second}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, 1, "v1")
			clk := clocktest.NewFake(epoch)
			env := holdSlot(t, f.env(clk, nil).withDefaults())
			hc := base
			hc.MinHealthy = c.minHealthy
			r := deployAndWait(context.Background(), env, hc, targets[0], "v2", "v1")
			if r.err != nil {
				t.Fatalf("err = %v", r.err)
			}
			if got := clk.Sleeps(); !slices.Equal(got, c.sleeps) {
				t.Errorf("slept %v between health checks, want %v", got, c.sleeps)
			}
			if got, want := f.healthCalls["t1"], len(c.sleeps)+1; got != want {
				t.Errorf("%d health calls, want %d", got, want)
			}
		})
		t.Run(c.name+": a failure at the last check is unhealthy", func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, 1, "v1")
			env := holdSlot(t, f.env(clocktest.NewFake(epoch), nil).withDefaults())
			health := env.Poll
			n := 0
			env.Poll = func(ctx context.Context, tg Target) (string, error) {
				if n++; n%2 == 0 {
					return "", fmt.Errorf("connection refused")
				}
				return health(ctx, tg)
			}
			hc := base
			hc.MinHealthy = c.minHealthy
			r := deployAndWait(context.Background(), env, hc, targets[0], "v2", "v1")
			if r.err == nil {
				t.Fatalf("a target alternating healthy and unhealthy counted as healthy with min_healthy %s", c.minHealthy)
			}
			if strings.Contains(r.err.Error(), "within min_healthy") && len(c.sleeps) == 1 && c.sleeps[0] == c.minHealthy {
				t.Errorf("err = %v: the failed check was the one at min_healthy, not within it", r.err)
			}
		})
	}
	t.Run("timeout counts to the first healthy poll only", func(t *testing.T) {
		t.Parallel()
		f, targets := newFleet(t, 1, "v1")
		f.healthyAfter["t1"] = 3
		env := holdSlot(t, f.env(clocktest.NewFake(epoch), nil).withDefaults())
		hc := base
		hc.Timeout = 4 * time.Second
		r := deployAndWait(context.Background(), env, hc, targets[0], "v2", "v1")
		if r.err != nil {
			t.Fatalf("err = %v: min_healthy must not count against timeout", r.err)
		}
	})
}
