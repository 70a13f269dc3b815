package strategies

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

func TestPending(t *testing.T) {
	t.Parallel()
	bg := []Target{
		{ID: "b1", Slot: SlotBlue}, {ID: "g1", Slot: SlotGreen},
		{ID: "b2", Slot: SlotBlue}, {ID: "g2", Slot: SlotGreen},
	}
	plain := []Target{{ID: "t1"}, {ID: "t2"}, {ID: "t3"}, {ID: "t4"}}
	tests := map[string]struct {
		name string
		req  Request
		want []string
	}{
		"create deploys all": {NameRolling, Request{Version: "v2", Targets: plain}, []string{"t1", "t2", "t3", "t4"}},
		"resume skips targets at version": {NameCanary, Request{Version: "v2", Targets: plain,
			Current: map[string]string{"t1": "v2", "t2": "v1", "t3": "v2"}}, []string{"t2", "t4"}},
		"nothing to do": {NameFeatureFlag, Request{Version: "v2", Targets: plain, Current: currentAt(plain, "v2")}, nil},
		"empty reported version differs": {NameRolling, Request{Version: "v2", Targets: plain[:1],
			Current: map[string]string{"t1": ""}}, []string{"t1"}},
		"blue_green create goes to green": {NameBlueGreen, Request{Version: "v2", Targets: bg}, []string{"g1", "g2"}},
		"blue_green active green goes to blue": {NameBlueGreen, Request{Version: "v2", Targets: bg, ActiveSlot: SlotGreen,
			Current: currentAt(bg, "v1")}, []string{"b1", "b2"}},
		"blue_green active blue skips green at version": {NameBlueGreen, Request{Version: "v2", Targets: bg, ActiveSlot: SlotBlue,
			Current: map[string]string{"g1": "v2", "g2": "v1"}}, []string{"g2"}},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			if got := ids(Pending(tc.name, tc.req)); !slices.Equal(got, tc.want) {
				t.Errorf("Pending = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIdleSlot(t *testing.T) {
	t.Parallel()
	for active, want := range map[string]string{"": SlotGreen, SlotBlue: SlotGreen, SlotGreen: SlotBlue} {
		if got := IdleSlot(active); got != want {
			t.Errorf("IdleSlot(%q) = %q, want %q", active, got, want)
		}
	}
}

func TestReadVersions(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 6, "v1")
	f.versions["t2"] = "v0"
	f.unhealthy["t5"] = true
	env := f.env(clocktest.NewFake(epoch), nil)
	env.Limit = NewLimiter(2)

	versions, errs := ReadVersions(context.Background(), targets, env)
	want := map[string]string{"t1": "v1", "t2": "v0", "t3": "v1", "t4": "v1", "t6": "v1"}
	if !maps.Equal(versions, want) {
		t.Errorf("versions = %v, want %v", versions, want)
	}
	if len(errs) != 1 || errs["t5"] == nil || !strings.Contains(errs["t5"].Error(), "t5") {
		t.Errorf("errs = %v, want one naming t5", errs)
	}
	for _, tg := range targets {
		if f.healthCalls[tg.ID] != 1 {
			t.Errorf("%s got %d health calls, want 1", tg.ID, f.healthCalls[tg.ID])
		}
	}
}

func TestReadVersionsCancelled(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 3, "v1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	versions, errs := ReadVersions(ctx, targets, f.env(clocktest.NewFake(epoch), nil))
	if len(versions) != 0 || len(errs) != 3 {
		t.Fatalf("versions = %v, errs = %v: want every target unread", versions, errs)
	}
	if !errors.Is(errs["t1"], context.Canceled) {
		t.Errorf("errs[t1] = %v, want context.Canceled", errs["t1"])
	}
	if len(f.healthCalls) != 0 {
		t.Errorf("health calls after cancellation: %v", f.healthCalls)
	}
}

func TestDetectPreviousVersion(t *testing.T) {
	t.Parallel()
	unreachable := map[string]error{"t3": errBoom}
	tests := map[string]struct {
		versions map[string]string
		errs     map[string]error
		wantPrev string
		wantOK   bool
	}{
		"all agree":               {map[string]string{"t1": "v1", "t2": "v1"}, nil, "v1", true},
		"unreachable ignored":     {map[string]string{"t1": "v1", "t2": "v1"}, unreachable, "v1", true},
		"disagree":                {map[string]string{"t1": "v1", "t2": "v0"}, nil, "", false},
		"already at version":      {map[string]string{"t1": "v2", "t2": "v2"}, nil, "", false},
		"partly at version":       {map[string]string{"t1": "v1", "t2": "v2"}, nil, "", false},
		"no version reported":     {map[string]string{"t1": "", "t2": ""}, nil, "", false},
		"none reachable":          {map[string]string{}, unreachable, "", false},
		"errored entry not count": {map[string]string{"t1": "v1", "t3": "v0"}, unreachable, "v1", true},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			prev, ok := DetectPreviousVersion(tc.versions, tc.errs, "v2")
			if prev != tc.wantPrev || ok != tc.wantOK {
				t.Errorf("DetectPreviousVersion = %q, %v; want %q, %v", prev, ok, tc.wantPrev, tc.wantOK)
			}
		})
	}
}

func TestDeployAndWait(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		setup       func(f *fleet)
		hc          HealthCheck
		wantErr     string
		wantVersion string
		wantPolls   int
		wantSleeps  int
	}{
		"healthy at once": {
			hc: hc(), wantVersion: "v2", wantPolls: 1,
		},
		"healthy after three polls": {
			setup: func(f *fleet) { f.healthyAfter["t1@v2"] = 2 },
			hc:    hc(), wantVersion: "v2", wantPolls: 3, wantSleeps: 2,
		},
		"never healthy times out by poll count": {
			setup: func(f *fleet) { f.unhealthy["t1@v2"] = true },
			hc:    hc(), wantErr: "not healthy within 5s (6 health checks)", wantPolls: 6, wantSleeps: 5,
		},
		"wrong version": {
			setup: func(f *fleet) { f.reports["t1@v2"] = "v1.9" },
			hc:    hc(), wantErr: `reports version "v1.9", want "v2"`, wantVersion: "v1.9", wantPolls: 6, wantSleeps: 5,
		},
		// Without expect_version a reported version is information: the
		// target is taken to run what it got, or every later plan would
		// redeploy it.
		"wrong version accepted without expect_version": {
			setup:       func(f *fleet) { f.reports["t1@v2"] = "v1.9" },
			hc:          HealthCheck{Enabled: true, Interval: time.Second, Timeout: 5 * time.Second},
			wantVersion: "v2", wantPolls: 1,
		},
		"disabled health check trusts the deploy": {
			setup: func(f *fleet) { f.unhealthy["t1@v2"] = true },
			hc:    HealthCheck{}, wantVersion: "v2",
		},
		"deploy error": {
			setup: func(f *fleet) { f.deployErr["t1"] = errBoom },
			hc:    hc(), wantErr: "deploy of v2: boom",
		},
		"zero timeout polls once": {
			setup: func(f *fleet) { f.unhealthy["t1@v2"] = true },
			hc:    HealthCheck{Enabled: true, ExpectVersion: true}, wantErr: "not healthy", wantPolls: 1,
		},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := newFleet(t, 1, "v1")
			if tc.setup != nil {
				tc.setup(f)
			}
			clk := clocktest.NewFake(epoch)
			env := holdSlot(t, f.env(clk, nil).withDefaults())
			got := deployAndWait(context.Background(), env, tc.hc, targets[0], "v2", "v1")
			switch {
			case tc.wantErr == "" && got.err != nil:
				t.Fatalf("err = %v", got.err)
			case tc.wantErr != "" && (got.err == nil || !strings.Contains(got.err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", got.err, tc.wantErr)
			}
			if got.version != tc.wantVersion {
				t.Errorf("version = %q, want %q", got.version, tc.wantVersion)
			}
			if f.healthCalls["t1"] != tc.wantPolls {
				t.Errorf("health calls = %d, want %d", f.healthCalls["t1"], tc.wantPolls)
			}
			if n := len(clk.Sleeps()); n != tc.wantSleeps {
				t.Errorf("sleeps = %d, want %d", n, tc.wantSleeps)
			}
			for _, d := range clk.Sleeps() {
				if d != time.Second {
					t.Errorf("slept %s, want the 1s interval", d)
				}
			}
		})
	}
}

// A clock that moves ends the health wait at its deadline, before the poll
// budget is spent.
func TestWaitHealthyClockDeadline(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 1, "v1")
	f.unhealthy["t1"] = true
	clk := clocktest.NewFake(epoch)
	clk.OnSleep = func(time.Duration) { clk.Advance(2 * time.Second) }
	env := holdSlot(t, f.env(clk, nil).withDefaults())
	_, err := waitHealthy(context.Background(), env, HealthCheck{Enabled: true, Interval: time.Second, Timeout: 5 * time.Second}, targets[0], "v1")
	if err == nil {
		t.Fatal("unhealthy target reported healthy")
	}
	// Polls at t=0, 2s, 4s, 6s: the last one is past the 5s deadline.
	if got := f.healthCalls["t1"]; got != 4 {
		t.Errorf("health calls = %d, want 4 (clock deadline), not 6 (poll budget)", got)
	}
}

// holdSlot takes a slot of env.Limit for a test that calls deployAndWait or
// waitHealthy directly, as runGroup does for the engine.
func holdSlot(t *testing.T, env Env) Env {
	t.Helper()
	if err := env.Limit.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Limit.Release)
	return env
}

// The wait polls with env.Poll when it is set; Health stays for single
// reads (the provider's Poll makes one attempt, its Health retries).
func TestWaitHealthyUsesPoll(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 1, "v1")
	f.healthyAfter["t1@v2"] = 1
	env := f.env(clocktest.NewFake(epoch), nil)
	env.Health = func(context.Context, Target) (string, error) {
		t.Error("Health called during the health wait")
		return "", errBoom
	}
	var polls atomic.Int32
	env.Poll = func(ctx context.Context, tg Target) (string, error) {
		polls.Add(1)
		return f.Health(ctx, tg)
	}
	got := deployAndWait(context.Background(), holdSlot(t, env.withDefaults()), hc(), targets[0], "v2", "v1")
	if got.err != nil || got.version != "v2" || polls.Load() != 2 {
		t.Errorf("result %+v after %d polls, want v2 after 2", got, polls.Load())
	}
}

// A target waiting between two health polls gives its slot up: with one
// slot, t2 is deployed while t1, deployed first, is still starting, and
// there is still never more than one call in flight.
func TestWaitHealthyGivesUpItsSlotBetweenPolls(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 2, "v1")
	f.healthyAfter["t1@v2"] = 2
	t2Deployed := make(chan struct{})
	var once sync.Once
	f.onDeploy = func(id, _ string) {
		if id == "t2" {
			once.Do(func() { close(t2Deployed) })
		}
	}
	clk := clocktest.NewFake(epoch)
	var first atomic.Bool
	clk.OnSleep = func(time.Duration) {
		if first.Swap(true) {
			return
		}
		// t1 sleeps after its first poll.
		select {
		case <-t2Deployed:
		case <-time.After(rendezvousTimeout):
			t.Error("t2 was not deployed while t1 waited between polls: t1 kept the only slot")
		}
	}
	env := f.env(clk, nil)
	env.Limit = NewLimiter(1)
	var inFlight, most atomic.Int32
	track := func() func() {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return func() { inFlight.Add(-1) }
	}
	deploy, health := env.Deploy, env.Health
	env.Deploy = func(ctx context.Context, tg Target, v, pv string) error {
		defer track()()
		return deploy(ctx, tg, v, pv)
	}
	env.Health = func(ctx context.Context, tg Target) (string, error) {
		defer track()()
		return health(ctx, tg)
	}

	res := mustNew(t, NameFeatureFlag, nil).Execute(context.Background(), request(targets), env)
	if !res.Success {
		t.Fatalf("status %s errors %v", res.Status, res.Errors)
	}
	if got := f.calls("deploy"); !slices.Equal(got, []string{"deploy t1 v2", "deploy t2 v2"}) {
		t.Errorf("deploys %v", got)
	}
	if got := most.Load(); got != 1 {
		t.Errorf("%d calls in flight at once, want 1 (max_concurrency)", got)
	}
}

func TestLimiterPause(t *testing.T) {
	t.Parallel()
	l := NewLimiter(1)
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := l.Pause(context.Background(), func(context.Context) error {
		// The slot is free while the wait runs.
		if err := l.Acquire(context.Background()); err != nil {
			return err
		}
		l.Release()
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Pause returned %v, want the wait's error", err)
	}
	if l.sem.TryAcquire(1) {
		t.Error("the slot is free after Pause: it did not take it back")
	}
	l.Release()
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	// NewLimiter(0) has DefaultConcurrency slots: that many, not one more.
	def := NewLimiter(0)
	if !def.sem.TryAcquire(DefaultConcurrency) || def.sem.TryAcquire(1) {
		t.Errorf("NewLimiter(0) does not have %d slots", DefaultConcurrency)
	}
	l := NewLimiter(1)
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire on a full limiter with a cancelled context = %v", err)
	}
	l.Release()
	if err := l.Acquire(context.Background()); err != nil {
		t.Errorf("Acquire after Release: %v", err)
	}
}

// Two applies sharing one Limiter never exceed it together.
func TestSharedLimiterBound(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 12, "v1")
	env := f.limitedEnv(3, 12)
	ff := mustNew(t, NameFeatureFlag, nil)

	var wg sync.WaitGroup
	results := make([]*Result, 2)
	for i, part := range [][]Target{targets[:6], targets[6:]} {
		wg.Go(func() { results[i] = ff.Execute(context.Background(), request(part), env) })
	}
	wg.Wait()
	for i, res := range results {
		if !res.Success {
			t.Errorf("apply %d failed: %v", i, res.Errors)
		}
	}
	if got := f.maxConcurrent(); got != 3 {
		t.Errorf("max deploys in flight = %d, want exactly the shared bound 3", got)
	}
}

func TestExecuteRejectsBadRequests(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mod  func(*Request, *Env)
		want string
	}{
		"no deploy function": {func(_ *Request, e *Env) { e.Deploy = nil }, "no deploy function"},
		"no health checker":  {func(_ *Request, e *Env) { e.Health = nil }, "no health checker"},
		"duplicate ids": {func(r *Request, _ *Env) {
			r.Targets = append(r.Targets, Target{ID: "t1"})
		}, "t1 repeated"},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			for _, name := range Names() {
				f, targets := newFleet(t, 2, "v1")
				for i := range targets {
					targets[i].Slot = []string{SlotBlue, SlotGreen}[i]
				}
				req, env := request(targets), f.env(clocktest.NewFake(epoch), nil)
				tc.mod(&req, &env)
				res := mustNew(t, name, nil).Execute(context.Background(), req, env)
				if res.Success || res.Status != StatusFailed || res.StoppedAt != "validation" {
					t.Errorf("%s: result %+v, want a failed validation", name, res)
				}
				if !errorsMention(res.Errors, tc.want) {
					t.Errorf("%s: errors %v do not mention %q", name, res.Errors, tc.want)
				}
				if len(f.calls("")) != 0 {
					t.Errorf("%s: calls made: %v", name, f.calls(""))
				}
			}
		})
	}
}

// Every strategy reports an outcome per target, and a public Rollback without
// a previous version does nothing and says so.
func TestRollbackWithoutPreviousVersion(t *testing.T) {
	t.Parallel()
	eachStrategy(t, func(t *testing.T, name string) {
		f, targets := newFleet(t, 2, "v2")
		targets[0].Slot, targets[1].Slot = SlotBlue, SlotGreen
		req := request(targets)
		req.PreviousVersion = ""
		req.ActiveSlot = SlotGreen
		res := f.rollback(t, name, req, targets)
		if res.Success || res.Status != StatusFailed {
			t.Errorf("status = %s, success = %v; want failed", res.Status, res.Success)
		}
		if !errorsWrap(res.Errors, errNoPrevious) {
			t.Errorf("errors = %v, want errNoPrevious", res.Errors)
		}
		if calls := f.calls(""); len(calls) != 0 {
			t.Errorf("rollback without previous version made calls: %v", calls)
		}
		if len(res.Outcomes) != 2 {
			t.Errorf("outcomes = %d, want 2", len(res.Outcomes))
		}
	})
}

// For every strategy, a cancellation inside the first deploy lets that
// deploy finish and starts nothing else: no target, no traffic change.
func TestCancellationStartsNothingNew(t *testing.T) {
	t.Parallel()
	eachStrategy(t, func(t *testing.T, name string) {
		f, targets := newFleet(t, 6, "v1")
		for i := range targets {
			targets[i].Slot = []string{SlotGreen, SlotBlue}[i%2]
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f.onDeploy = func(string, string) { cancel() }
		env := f.env(clocktest.NewFake(epoch), nil)
		env.Limit = NewLimiter(1)
		req := request(targets)
		req.AutoRollback = false
		res := mustNew(t, name, nil).Execute(ctx, req, env)

		if res.Success || res.Status != StatusFailed || !strings.HasSuffix(res.StoppedAt, "(cancelled)") {
			t.Fatalf("status %s stopped %q errors %v", res.Status, res.StoppedAt, res.Errors)
		}
		if calls := f.calls(""); !slices.Equal(calls, []string{"deploy t1 v2"}) {
			t.Errorf("calls %v, want only the deploy in flight", calls)
		}
		if o := res.Outcomes["t1"]; !o.Attempted || !o.Healthy || o.Version != "v2" {
			t.Errorf("in-flight target outcome %+v, want it finished and healthy", o)
		}
		if !errorsWrap(res.Errors, context.Canceled) {
			t.Errorf("errors %v do not wrap context.Canceled", res.Errors)
		}
	})
}

// Messages stay short on a large failure; Outcomes keep every error.
func TestManyFailuresAreCapped(t *testing.T) {
	t.Parallel()
	f, targets := newFleet(t, 25, "v1")
	for _, tg := range targets {
		f.deployErr[tg.ID] = errBoom
	}
	req := request(targets)
	req.AutoRollback = false
	res := f.execute(t, NameFeatureFlag, nil, req)
	if res.TargetsFailed != 25 || failedOutcomes(res) != 25 {
		t.Fatalf("TargetsFailed = %d", res.TargetsFailed)
	}
	// The summary, maxListed target errors and one "and N more".
	if len(res.Errors) != 1+maxListed+1 {
		t.Errorf("%d errors, want %d", len(res.Errors), maxListed+2)
	}
	if !errorsMention(res.Errors, "t10 and 15 more") || !errorsMention(res.Errors, "and 15 more failed targets") {
		t.Errorf("errors %v do not cap the lists", res.Errors)
	}
}
