package strategies

import (
	"context"
	"slices"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

func TestFeatureFlagExecute(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		n, limit int
		wantMax  int
	}{
		"every target at once":        {n: 8, wantMax: 8},
		"bounded by the limiter":      {n: 8, limit: 3, wantMax: 3},
		"default limit of 32 applies": {n: 40, wantMax: DefaultConcurrency},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, tc.n, "v1")
			f.gate, f.expect = tc.wantMax, tc.n
			env := f.env(clocktest.NewFake(epoch), nil)
			if tc.limit > 0 {
				env.Limit = NewLimiter(tc.limit)
			}
			res := mustNew(t, NameFeatureFlag, func(c *Config) { c.FeatureFlag = FeatureFlagConfig{FlagName: "new-checkout", InitialRollout: 20} }).
				Execute(context.Background(), request(targets), env)
			if !res.Success || res.TrafficPercentage != 20 || res.TargetsUpdated != tc.n {
				t.Fatalf("status %s traffic %v updated %d errors %v", res.Status, res.TrafficPercentage, res.TargetsUpdated, res.Errors)
			}
			if got := f.maxConcurrent(); got != tc.wantMax {
				t.Errorf("max in flight %d, want %d", got, tc.wantMax)
			}
			log := f.calls("")
			if len(log) != tc.n+1 || log[tc.n] != "publish 20" {
				t.Errorf("calls %v, want %d deploys then publish 20", log, tc.n)
			}
		})
	}
}

func TestFeatureFlagFailures(t *testing.T) {
	t.Parallel()
	flagAt5 := func(c *Config) { c.FeatureFlag = FeatureFlagConfig{FlagName: "f", InitialRollout: 5} }
	runFailures(t, NameFeatureFlag, map[string]failureCase{
		"failed target: flag not published": {
			n: 3, mod: flagAt5,
			setup:       func(f *fleet) { f.deployErr["t2"] = errBoom },
			wantStatus:  StatusFailed,
			wantStopped: "deploy",
			wantCalls:   []string{"deploy t1 v2", "deploy t2 v2", "deploy t3 v2"},
			wantErrs:    []string{"deploy: t2 failed", `flag "f" not published`},
		},
		"rollback publishes 0 first": {
			n: 3, mod: flagAt5,
			setup:        func(f *fleet) { f.unhealthy["t3@v2"] = true },
			autoRollback: true,
			wantStatus:   StatusRolledBack,
			wantStopped:  "deploy",
			wantCalls: []string{"deploy t1 v2", "deploy t2 v2", "deploy t3 v2",
				"publish 0", "deploy t1 v1", "deploy t2 v1", "deploy t3 v1"},
			wantErrs: []string{"t3", "rolled back to v1"},
		},
		"publish failure rolls back": {
			n: 3, mod: flagAt5,
			setup:        func(f *fleet) { f.publishErr = errBoom },
			autoRollback: true,
			wantStatus:   StatusFailed, // publishing 0 fails as well
			wantStopped:  "publish",
			wantCalls: []string{"deploy t1 v2", "deploy t2 v2", "deploy t3 v2",
				"publish 5", "publish 0", "deploy t1 v1", "deploy t2 v1", "deploy t3 v1"},
			wantErrs: []string{`publish: publishing flag "f" at 5%: boom`, `publish flag "f" at 0%`},
		},
	}, nil)
}

func TestFeatureFlagNeedsPublish(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v1")
	env := f.env(clocktest.NewFake(epoch), nil)
	env.Publish = nil
	res := mustNew(t, NameFeatureFlag, nil).Execute(context.Background(), request(targets), env)
	if res.Success || res.StoppedAt != "validation" || !errorsMention(res.Errors, "flag endpoint") {
		t.Errorf("status %s stopped %q errors %v", res.Status, res.StoppedAt, res.Errors)
	}
	if len(f.deploys) != 0 {
		t.Errorf("deployed without a way to publish: %v", f.deploys)
	}
}

// With every target already at the version, only the flag is published (a
// previous apply may have failed to publish it).
func TestFeatureFlagNothingPending(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v2")
	req := request(targets)
	req.Current = currentAt(targets, "v2")
	res := f.execute(t, NameFeatureFlag, func(c *Config) { c.FeatureFlag.InitialRollout = 50 }, req)
	if !res.Success || !slices.Equal(f.calls(""), []string{"publish 50"}) {
		t.Errorf("status %s calls %v", res.Status, f.calls(""))
	}
}

func TestFeatureFlagRollback(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v2")
	res := f.rollback(t, NameFeatureFlag, request(targets), targets)
	if !res.Success || res.Status != StatusRolledBack {
		t.Fatalf("status %s errors %v", res.Status, res.RollbackErrors)
	}
	assertCallsInPhases(t, f.calls(""), []string{"publish 0", "deploy t1 v1", "deploy t2 v1"})
}
