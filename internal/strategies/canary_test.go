package strategies

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

func TestStageGoal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		pct  float64
		want int
	}{
		{3, 10, 1}, {3, 25, 1}, {3, 50, 2}, {3, 100, 3},
		{10, 10, 1}, {10, 25, 3}, {10, 30, 3}, {10, 50, 5},
		{1000, 0.1, 1}, {1000, 0.05, 1}, {7, 100.0 / 3, 3}, {1, 1, 1},
	}
	for _, tc := range tests {
		if got := stageGoal(tc.n, tc.pct); got != tc.want {
			t.Errorf("stageGoal(%d, %v) = %d, want %d", tc.n, tc.pct, got, tc.want)
		}
	}
}

func TestCanaryStages(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		n          int
		atVersion  []string // already at v2
		stages     []float64
		wantStages [][]string
		wantSleeps int
	}{
		"10% of 3 targets deploys 1 in stage 1": {
			n: 3, stages: []float64{10, 25, 50, 100},
			wantStages: [][]string{{"t1"}, {}, {"t2"}, {"t3"}},
			wantSleeps: 3,
		},
		"ten targets": {
			n: 10, stages: []float64{10, 25, 50, 100},
			wantStages: [][]string{{"t1"}, {"t2", "t3"}, {"t4", "t5"}, idRange(6, 10)},
			wantSleeps: 3,
		},
		"resume counts targets already at the version": {
			n: 10, atVersion: []string{"t1", "t2", "t3", "t4"}, stages: []float64{10, 25, 50, 100},
			wantStages: [][]string{{}, {}, {"t5"}, idRange(6, 10)},
			wantSleeps: 3,
		},
		"nothing pending only sets the final weight": {
			n: 4, atVersion: idRange(1, 4), stages: []float64{10, 25, 50, 100},
			wantStages: [][]string{nil, nil, nil, {}},
		},
		"single stage": {
			n: 4, stages: []float64{100},
			wantStages: [][]string{idRange(1, 4)},
		},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, tc.n, "v1")
			req := request(targets)
			for _, id := range tc.atVersion {
				f.versions[id] = "v2"
				req.Current[id] = "v2"
			}
			clk := clocktest.NewFake(epoch)
			var events []Event
			res := mustNew(t, NameCanary, func(c *Config) { c.Canary.Stages = tc.stages }).Execute(context.Background(), req, f.env(clk, &events))
			if !res.Success || res.Status != StatusCompleted {
				t.Fatalf("status %s errors %v", res.Status, res.Errors)
			}

			var want []string
			var wantWeights []string
			for k, stage := range tc.wantStages {
				if stage == nil {
					continue // stage not run at all
				}
				for _, id := range stage {
					want = append(want, "deploy "+id+" v2")
				}
				wantWeights = append(wantWeights, "weights v2 "+formatPercent(tc.stages[k]))
				want = append(want, wantWeights[len(wantWeights)-1])
				for _, id := range stage {
					if o := res.Outcomes[id]; o.Phase != "stage "+formatPercent(float64(k+1))+" ("+formatPercent(tc.stages[k])+"%)" {
						t.Errorf("%s: phase %q, want stage %d", id, o.Phase, k+1)
					}
				}
			}
			assertCallsInPhases(t, f.calls(""), want)
			if sleeps := clk.Sleeps(); len(sleeps) != tc.wantSleeps || slices.ContainsFunc(sleeps, func(d time.Duration) bool { return d != time.Minute }) {
				t.Errorf("sleeps %v, want %d × stage_interval", sleeps, tc.wantSleeps)
			}
			if res.TrafficPercentage != 100 {
				t.Errorf("TrafficPercentage = %v", res.TrafficPercentage)
			}
			for _, id := range tc.atVersion {
				if !res.Outcomes[id].Skipped {
					t.Errorf("%s already at the version was not skipped", id)
				}
			}
			stageInfos := 0
			for _, e := range events {
				if e.Level == LevelInfo && strings.HasPrefix(e.Phase, "stage ") {
					stageInfos++
				}
			}
			if stageInfos == 0 {
				t.Error("no INFO events for stages")
			}
		})
	}
}

func TestCanaryStageConcurrency(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 8, "v1")
	f.gate, f.expect = 4, 8 // stages of 4 and 4
	res := f.execute(t, NameCanary, func(c *Config) { c.Canary.Stages = []float64{50, 100} }, request(targets))
	if !res.Success {
		t.Fatalf("errors %v", res.Errors)
	}
	assertBatches(t, f.deploys, [][]string{idRange(1, 4), idRange(5, 8)})
	if got := f.maxConcurrent(); got != 4 {
		t.Errorf("max in flight %d, want a stage's 4 targets at once", got)
	}
}

func TestCanaryFailures(t *testing.T) {
	t.Parallel()
	runFailures(t, NameCanary, map[string]failureCase{
		"a whole stage failing stops": {
			n: 10, mod: successThreshold(0.5),
			setup:       func(f *fleet) { f.deployErr["t2"] = errBoom; f.unhealthy["t3@v2"] = true },
			wantStatus:  StatusFailed,
			wantStopped: "stage 2 (25%)",
			wantCalls:   []string{"deploy t1 v2", "weights v2 10", "deploy t2 v2", "deploy t3 v2"},
			wantErrs:    []string{"stage 2 (25%)", "success rate 0.00 (0 of 2 healthy)", "below success_threshold 0.5", "t2, t3"},
		},
		"every target of stage 1 failing stops even at 1 target": {
			n: 3, mod: successThreshold(0.95),
			setup:       func(f *fleet) { f.deployErr["t1"] = errBoom },
			wantStatus:  StatusFailed,
			wantStopped: "stage 1 (10%)",
			wantCalls:   []string{"deploy t1 v2"},
			wantErrs:    []string{"stage 1 (10%)", "t1"},
		},
		"rollback resets weights first": {
			n: 10, mod: successThreshold(0.95), autoRollback: true,
			setup:       func(f *fleet) { f.reports["t5@v2"] = "v1" },
			wantStatus:  StatusRolledBack,
			wantStopped: "stage 3 (50%)",
			wantCalls: []string{
				"deploy t1 v2", "weights v2 10", "deploy t2 v2", "deploy t3 v2", "weights v2 25", "deploy t4 v2", "deploy t5 v2",
				"weights v2 0", "deploy t1 v1", "deploy t2 v1", "deploy t3 v1", "deploy t4 v1", "deploy t5 v1",
			},
			wantErrs: []string{"stage 3 (50%)", "t5", "rolled back to v1: t1, t2, t3, t4, t5"},
		},
		"threshold tolerates a failure": {
			n: 8, mod: successThreshold(0.5),
			setup:       func(f *fleet) { f.deployErr["t3"] = errBoom },
			wantSuccess: true,
			wantStatus:  StatusCompleted,
			wantCalls: []string{"deploy t1 v2", "weights v2 10", "deploy t2 v2", "weights v2 25",
				"deploy t3 v2", "deploy t4 v2", "weights v2 50",
				"deploy t5 v2", "deploy t6 v2", "deploy t7 v2", "deploy t8 v2", "weights v2 100"},
		},
		"failed weights call is a failure": {
			n: 2, mod: successThreshold(0.95), autoRollback: true,
			setup:       func(f *fleet) { f.weightsErr = errBoom },
			wantStatus:  StatusFailed, // weights cannot be reset either
			wantStopped: "stage 1 (10%)",
			wantCalls:   []string{"deploy t1 v2", "weights v2 10", "weights v2 0", "deploy t1 v1"},
			wantErrs:    []string{"setting router weights of v2 to 10%: boom", "set router weights of v2 to 0%"},
		},
	}, func(t *testing.T, tc failureCase, _ *fleet, res *Result) {
		if tc.wantStatus == StatusRolledBack && res.TrafficPercentage != 0 {
			t.Errorf("TrafficPercentage after rollback = %v, want 0", res.TrafficPercentage)
		}
		if tc.wantSuccess && res.TargetsFailed == 0 {
			t.Error("tolerated failure not counted in TargetsFailed")
		}
	})
}

// successThreshold sets the canary's success_threshold.
func successThreshold(v float64) func(*Config) {
	return func(c *Config) { c.Canary.SuccessThreshold = v }
}

func TestCanaryCancelledBetweenStages(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 10, "v1")
	clk := clocktest.NewFake(epoch)
	ctx := cancelAtSleep(t, clk, time.Minute)
	res := mustNew(t, NameCanary, nil).Execute(ctx, request(targets), f.env(clk, nil))
	if res.Success || res.Status != StatusRolledBack || res.StoppedAt != "stage 2 (25%) (cancelled)" {
		t.Fatalf("status %s stopped %q errors %v", res.Status, res.StoppedAt, res.Errors)
	}
	assertCallsInPhases(t, f.calls(""), []string{"deploy t1 v2", "weights v2 10", "weights v2 0", "deploy t1 v1"})
}

func TestCanaryRollback(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 3, "v2")
	req := request(targets)
	req.Current = currentAt(targets, "v2")
	res := f.rollback(t, NameCanary, req, targets[:2])
	if !res.Success || res.Status != StatusRolledBack || res.TrafficPercentage != 0 {
		t.Fatalf("status %s traffic %v errors %v", res.Status, res.TrafficPercentage, res.RollbackErrors)
	}
	assertCallsInPhases(t, f.calls(""), []string{"weights v2 0", "deploy t1 v1", "deploy t2 v1"})
}
