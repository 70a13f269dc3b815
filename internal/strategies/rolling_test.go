package strategies

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

func TestRollingBatches(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		n          int
		cfg        RollingConfig
		limit      int
		want       [][]string
		wantSleeps int
		// wantMax is the most deploys in flight, proven by holding them
		// until that many run together; 0 (uneven batches, which the
		// rendezvous cannot hold) checks the cut only.
		wantMax int
	}{
		"batch size 3 of 7": {
			n: 7, cfg: RollingConfig{BatchSize: 3, BatchDelay: 5 * time.Second},
			want:       [][]string{idRange(1, 3), idRange(4, 6), idRange(7, 7)},
			wantSleeps: 2, wantMax: 3,
		},
		"one at a time": {
			n: 3, cfg: RollingConfig{BatchSize: 1, BatchDelay: time.Second},
			want:       [][]string{{"t1"}, {"t2"}, {"t3"}},
			wantSleeps: 2, wantMax: 1,
		},
		"batch count 3 of 10": {
			n: 10, cfg: RollingConfig{BatchCount: 3},
			want: [][]string{idRange(1, 4), idRange(5, 7), idRange(8, 10)},
		},
		"batch count 4 of 9 makes 4 batches": {
			n: 9, cfg: RollingConfig{BatchCount: 4},
			want: [][]string{idRange(1, 3), idRange(4, 5), idRange(6, 7), idRange(8, 9)},
		},
		"batch count above the targets": {
			n: 2, cfg: RollingConfig{BatchCount: 5},
			want: [][]string{{"t1"}, {"t2"}},
		},
		"batch larger than the limiter": {
			n: 5, cfg: RollingConfig{BatchSize: 5}, limit: 2,
			want:    [][]string{idRange(1, 5)},
			wantMax: 2,
		},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, tc.n, "v1")
			f.gate, f.expect = tc.wantMax, tc.n
			clk := clocktest.NewFake(epoch)
			var events []Event
			env := f.env(clk, &events)
			if tc.limit > 0 {
				env.Limit = NewLimiter(tc.limit)
			}
			res := mustNew(t, NameRolling, func(c *Config) { c.Rolling = tc.cfg }).Execute(context.Background(), request(targets), env)

			if !res.Success || res.Status != StatusCompleted || res.StoppedAt != "" {
				t.Fatalf("result: success=%v status=%s stopped=%q errors=%v", res.Success, res.Status, res.StoppedAt, res.Errors)
			}
			assertBatches(t, f.deploys, tc.want)
			if !slices.Equal(res.Order, idRange(1, tc.n)) {
				t.Errorf("Order = %v, want list order", res.Order)
			}
			if got := f.maxConcurrent(); tc.wantMax > 0 && got != tc.wantMax {
				t.Errorf("max deploys in flight = %d, want %d", got, tc.wantMax)
			}
			sleeps := clk.Sleeps()
			if len(sleeps) != tc.wantSleeps {
				t.Errorf("sleeps = %v, want %d batch delays", sleeps, tc.wantSleeps)
			}
			for _, d := range sleeps {
				if d != tc.cfg.BatchDelay {
					t.Errorf("slept %s, want batch_delay %s", d, tc.cfg.BatchDelay)
				}
			}
			if res.TargetsUpdated != tc.n || res.TargetsFailed != 0 || res.TrafficPercentage != 100 {
				t.Errorf("updated=%d failed=%d traffic=%v", res.TargetsUpdated, res.TargetsFailed, res.TrafficPercentage)
			}
			for _, tg := range targets {
				if o := res.Outcomes[tg.ID]; !o.Attempted || !o.Healthy || o.Version != "v2" || !strings.HasPrefix(o.Phase, "batch ") {
					t.Errorf("outcome %+v", o)
				}
			}
			infos := 0
			for _, e := range events {
				if e.Level == LevelInfo && strings.HasPrefix(e.Phase, "batch ") {
					infos++
				}
			}
			if infos < len(tc.want) {
				t.Errorf("%d batch INFO events for %d batches", infos, len(tc.want))
			}
		})
	}
}

func TestRollingFailures(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		n            int
		cfg          RollingConfig
		setup        func(f *fleet)
		autoRollback bool
		prev         string
		wantSuccess  bool
		wantStatus   Status
		wantStopped  string
		wantDeployed []string // v2 deploys
		wantRolled   []string // targets restored to v1
		wantV1Calls  []string // v1 deploy calls, when not wantRolled
		wantFailed   int
		wantErrs     []string // each must appear in some error
	}{
		"deploy error stops the rollout": {
			n: 9, cfg: RollingConfig{BatchSize: 3},
			setup:        func(f *fleet) { f.deployErr["t5"] = errBoom },
			wantStatus:   StatusFailed,
			wantStopped:  "batch 2/3",
			wantDeployed: idRange(1, 6),
			wantFailed:   1,
			wantErrs:     []string{"batch 2/3", "t5", "boom", "auto_rollback is off"},
		},
		"auto rollback restores every touched target": {
			n: 9, cfg: RollingConfig{BatchSize: 3}, autoRollback: true, prev: "v1",
			setup:        func(f *fleet) { f.deployErr["t5@v2"] = errBoom },
			wantStatus:   StatusRolledBack,
			wantStopped:  "batch 2/3",
			wantDeployed: idRange(1, 6),
			wantRolled:   idRange(1, 6),
			wantFailed:   1,
			wantErrs:     []string{"batch 2/3", "t5", "rolled back to v1", "t1, t2, t3, t4, t5, t6"},
		},
		"health timeout": {
			n: 4, cfg: RollingConfig{BatchSize: 2},
			setup:        func(f *fleet) { f.unhealthy["t2@v2"] = true },
			wantStatus:   StatusFailed,
			wantStopped:  "batch 1/2",
			wantDeployed: idRange(1, 2),
			wantFailed:   1,
			wantErrs:     []string{"target t2 (batch 1/2)", "not healthy within 5s"},
		},
		"wrong version reported": {
			n: 4, cfg: RollingConfig{BatchSize: 2}, autoRollback: true, prev: "v1",
			setup:        func(f *fleet) { f.reports["t3@v2"] = "v1" },
			wantStatus:   StatusRolledBack,
			wantStopped:  "batch 2/2",
			wantDeployed: idRange(1, 4),
			wantRolled:   idRange(1, 4),
			wantFailed:   1,
			wantErrs:     []string{"t3", `reports version "v1", want "v2"`},
		},
		"failures within max_failures complete": {
			n: 6, cfg: RollingConfig{BatchSize: 2, MaxFailures: 1}, autoRollback: true, prev: "v1",
			setup:        func(f *fleet) { f.deployErr["t3"] = errBoom },
			wantSuccess:  true,
			wantStatus:   StatusCompleted,
			wantDeployed: idRange(1, 6),
			wantFailed:   1,
		},
		"cumulative failures beyond max_failures stop": {
			n: 8, cfg: RollingConfig{BatchSize: 2, MaxFailures: 1},
			setup:        func(f *fleet) { f.deployErr["t1"] = errBoom; f.unhealthy["t6@v2"] = true },
			wantStatus:   StatusFailed,
			wantStopped:  "batch 3/4",
			wantDeployed: idRange(1, 6),
			wantFailed:   2,
			wantErrs:     []string{"batch 3/4", "t6", "2 failed targets exceed max_failures (1)"},
		},
		"no previous version: nothing rolled back": {
			n: 2, cfg: RollingConfig{BatchSize: 1}, autoRollback: true,
			setup:        func(f *fleet) { f.deployErr["t1"] = errBoom },
			wantStatus:   StatusFailed,
			wantStopped:  "batch 1/2",
			wantDeployed: []string{"t1"},
			wantFailed:   1,
			wantErrs:     []string{"previous version unknown"},
		},
		"failed rollback is a failure": {
			n: 4, cfg: RollingConfig{BatchSize: 2}, autoRollback: true, prev: "v1",
			setup: func(f *fleet) {
				f.deployErr["t4@v2"] = errBoom
				f.deployErr["t2@v1"] = errors.New("disk full")
			},
			wantStatus:   StatusFailed,
			wantStopped:  "batch 2/2",
			wantDeployed: idRange(1, 4),
			wantRolled:   []string{"t1", "t3", "t4"},
			wantV1Calls:  idRange(1, 4),
			wantFailed:   2, // t4 (deploy) and t2 (rollback)
			wantErrs:     []string{"rollback to v1 incomplete", "not restored: t2"},
		},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, tc.n, "v1")
			tc.setup(f)
			var events []Event
			req := request(targets)
			req.AutoRollback, req.PreviousVersion = tc.autoRollback, tc.prev
			res := mustNew(t, NameRolling, func(c *Config) { c.Rolling = tc.cfg }).Execute(context.Background(), req, f.env(clocktest.NewFake(epoch), &events))

			if res.Success != tc.wantSuccess || res.Status != tc.wantStatus || res.StoppedAt != tc.wantStopped {
				t.Fatalf("success=%v status=%s stopped=%q errors=%v; want %v %s %q",
					res.Success, res.Status, res.StoppedAt, res.Errors, tc.wantSuccess, tc.wantStatus, tc.wantStopped)
			}
			if got := f.deployed("v2"); !slices.Equal(sorted(got), sorted(tc.wantDeployed)) {
				t.Errorf("deployed v2 to %v, want %v", got, tc.wantDeployed)
			}
			wantV1 := tc.wantV1Calls
			if wantV1 == nil {
				wantV1 = tc.wantRolled
			}
			if got := f.deployed("v1"); !slices.Equal(sorted(got), sorted(wantV1)) {
				t.Errorf("redeployed v1 to %v, want %v", got, wantV1)
			}
			if got := rolledBackIDs(res); !slices.Equal(got, sorted(tc.wantRolled)) {
				t.Errorf("RolledBack outcomes = %v, want %v", got, tc.wantRolled)
			}
			if res.TargetsFailed != tc.wantFailed {
				t.Errorf("TargetsFailed = %d, want %d", res.TargetsFailed, tc.wantFailed)
			}
			wantErrorsMention(t, res, tc.wantErrs)
			if tc.wantSuccess && tc.wantFailed > 0 && res.TargetsFailed != tc.wantFailed {
				t.Errorf("TargetsFailed = %d, want %d tolerated failures", res.TargetsFailed, tc.wantFailed)
			}
			errorEvents := 0
			for _, e := range events {
				if e.Level == LevelError && e.TargetID != "" && e.Phase != "rollback" {
					errorEvents++
				}
			}
			if deployFails := failedOutcomes(res); errorEvents != deployFails {
				t.Errorf("%d target ERROR events for %d failed targets", errorEvents, deployFails)
			}
			if len(res.Outcomes) != tc.n {
				t.Errorf("%d outcomes for %d targets", len(res.Outcomes), tc.n)
			}
			// State never lies: every outcome that is known says what its
			// target runs (a target that never answered keeps its old
			// version, so the next plan deploys it again).
			for _, tg := range targets {
				if o := res.Outcomes[tg.ID]; (o.Err == nil || o.RolledBack) && o.Version != f.version(tg.ID) {
					t.Errorf("%s: outcome version %q, target runs %q", tg.ID, o.Version, f.version(tg.ID))
				}
			}
		})
	}
}

func failedOutcomes(res *Result) int {
	n := 0
	for _, o := range res.Outcomes {
		if o.Attempted && o.Err != nil {
			n++
		}
	}
	return n
}

func TestRollingResume(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 6, "v1")
	req := request(targets)
	for _, id := range []string{"t1", "t2", "t4"} {
		f.versions[id] = "v2"
		req.Current[id] = "v2"
	}
	res := f.execute(t, NameRolling, func(c *Config) { c.Rolling.BatchSize = 2 }, req)
	if !res.Success {
		t.Fatalf("resume failed: %v", res.Errors)
	}
	if want := []string{"t3", "t5", "t6"}; !slices.Equal(res.Order, want) || !slices.Equal(sorted(f.deploys), want) {
		t.Errorf("deployed %v (order %v), want only %v", f.deploys, res.Order, want)
	}
	for _, id := range []string{"t1", "t2", "t4"} {
		if o := res.Outcomes[id]; !o.Skipped || o.Attempted || o.Version != "v2" || !o.Healthy {
			t.Errorf("%s: outcome %+v, want skipped at v2", id, o)
		}
	}
	if res.TargetsUpdated != 3 {
		t.Errorf("TargetsUpdated = %d, want 3 (skipped targets do not count)", res.TargetsUpdated)
	}
}

func TestRollingCancellation(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		n, batch, limit int
		// cancelAt returns hooks that cancel: inside a deploy, or in a sleep.
		cancelInDeploy string
		cancelInSleep  bool
		autoRollback   bool
		wantDeployed   []string
		wantStopped    string
	}{
		"cancel inside a deploy finishes the batch only": {
			n: 6, batch: 2, cancelInDeploy: "t2",
			wantDeployed: idRange(1, 2), wantStopped: "batch 2/3 (cancelled)",
		},
		"cancel mid-batch starts no new target": {
			n: 6, batch: 3, limit: 1, cancelInDeploy: "t1",
			wantDeployed: []string{"t1"}, wantStopped: "batch 1/2 (cancelled)",
		},
		"cancel during the batch delay": {
			n: 6, batch: 2, cancelInSleep: true,
			wantDeployed: idRange(1, 2), wantStopped: "batch 2/3 (cancelled)",
		},
		"rollback still runs after cancellation": {
			n: 6, batch: 2, cancelInDeploy: "t3", autoRollback: true,
			wantDeployed: idRange(1, 4), wantStopped: "batch 3/3 (cancelled)",
		},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, tc.n, "v1")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clk := clocktest.NewFake(epoch)
			if tc.cancelInDeploy != "" {
				f.onDeploy = func(id, version string) {
					if id == tc.cancelInDeploy && version == "v2" {
						cancel()
					}
				}
			}
			if tc.cancelInSleep {
				clk.OnSleep = func(time.Duration) { cancel() }
			}
			env := f.env(clk, nil)
			if tc.limit > 0 {
				env.Limit = NewLimiter(tc.limit)
			}
			req := request(targets)
			req.AutoRollback = tc.autoRollback
			res := mustNew(t, NameRolling, func(c *Config) { c.Rolling = RollingConfig{BatchSize: tc.batch, BatchDelay: time.Second} }).Execute(ctx, req, env)

			if res.Success || res.StoppedAt != tc.wantStopped {
				t.Fatalf("success=%v stopped=%q, want stopped at %q", res.Success, res.StoppedAt, tc.wantStopped)
			}
			if got := f.deployed("v2"); !slices.Equal(sorted(got), tc.wantDeployed) {
				t.Errorf("deployed v2 to %v, want %v", got, tc.wantDeployed)
			}
			if !errorsWrap(res.Errors, context.Canceled) {
				t.Errorf("errors %v do not wrap context.Canceled", res.Errors)
			}
			// In-flight targets finished their deploy and health check.
			for _, id := range tc.wantDeployed {
				if o := res.Outcomes[id]; !o.Attempted || !o.Healthy {
					t.Errorf("%s: in-flight target outcome %+v, want attempted and healthy", id, o)
				}
			}
			if tc.autoRollback {
				if res.Status != StatusRolledBack || !slices.Equal(sorted(f.deployed("v1")), tc.wantDeployed) {
					t.Errorf("status %s, rolled back %v; want rolled_back of %v", res.Status, f.deployed("v1"), tc.wantDeployed)
				}
			} else if res.Status != StatusFailed || len(f.deployed("v1")) != 0 {
				t.Errorf("status %s, v1 deploys %v; want failed without rollback", res.Status, f.deployed("v1"))
			}
		})
	}
}

func TestRollingRollback(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 5, "v2")
	env := f.limitedEnv(3, 3)
	req := request(targets)
	req.Current = currentAt(targets, "v2")
	res := mustNew(t, NameRolling, nil).Rollback(context.Background(), req, env, targets[:3])
	if !res.Success || res.Status != StatusRolledBack {
		t.Fatalf("rollback: %s %v %v", res.Status, res.Errors, res.RollbackErrors)
	}
	if !slices.Equal(sorted(f.deployed("v1")), idRange(1, 3)) || len(f.deployed("v2")) != 0 {
		t.Errorf("deploy calls %v, want v1 on t1..t3 only", f.calls("deploy"))
	}
	if got := f.maxConcurrent(); got != 3 {
		t.Errorf("rollback ran %d at once, want the 3 targets concurrently", got)
	}
	if !slices.Equal(res.RolledBack, idRange(1, 3)) {
		t.Errorf("RolledBack = %v", res.RolledBack)
	}
	if o := res.Outcomes["t1"]; o.Version != "v1" || !o.RolledBack {
		t.Errorf("t1 outcome %+v", o)
	}
	if o := res.Outcomes["t4"]; o.Version != "v2" || o.RolledBack {
		t.Errorf("t4 outcome %+v, want untouched at v2", o)
	}
}

// A public Rollback honours its context: once cancelled, it starts nothing.
func TestRollbackCancelled(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 3, "v2")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := mustNew(t, NameRolling, nil).Rollback(ctx, request(targets), f.env(clocktest.NewFake(epoch), nil), targets)
	if res.Success || res.Status != StatusFailed || res.StoppedAt != "rollback (cancelled)" {
		t.Errorf("status %s stopped %q", res.Status, res.StoppedAt)
	}
	if len(f.deploys) != 0 {
		t.Errorf("deploys after cancellation: %v", f.deploys)
	}
	if len(res.RollbackErrors) != 3 {
		t.Errorf("RollbackErrors = %v, want one per target", res.RollbackErrors)
	}
}
