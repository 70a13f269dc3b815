package strategies

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// epoch is the fake clock's start; tests never read the wall clock.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// rendezvousTimeout only bounds a broken engine: a correct one never makes a
// deploy wait that long.
const rendezvousTimeout = 5 * time.Second

// fleet is an in-memory set of targets plus a router and a flag service. It
// records every call in order and the most deploys it saw in flight at once.
type fleet struct {
	t testing.TB

	mu          sync.Mutex
	versions    map[string]string // what each target runs
	polls       map[string]int    // health calls since the last deploy
	healthCalls map[string]int    // health calls in total
	log         []string          // every call, in order: "deploy t1 v2", "switch green v2"…
	deploys     []string          // ids, in the order deploy calls arrived
	inFlight    int
	maxInFlight int
	started     int
	released    int           // deploys up to this start index may go past the gate
	changed     chan struct{} // closed and replaced on every deploy start/end

	// Behaviour; keys are "id" or "id@version" (the latter wins).
	deployErr    map[string]error
	unhealthy    map[string]bool   // never healthy once it runs that version
	reports      map[string]string // reports this version instead of the one it runs
	healthyAfter map[string]int    // fails this many health calls after each deploy
	switchErr    map[string]error  // by slot
	weightsErr   error
	publishErr   error
	// onDeploy runs inside every deploy call, before it completes.
	onDeploy func(id, version string)
	// gate, when > 0, makes a deploy wait until gate deploys are in flight
	// or expect deploys have started, so that concurrency is observable.
	gate, expect int
}

// newFleet returns n targets t1…tn running version.
func newFleet(t testing.TB, n int, version string) (*fleet, []Target) {
	f := &fleet{
		t:            t,
		versions:     map[string]string{},
		polls:        map[string]int{},
		healthCalls:  map[string]int{},
		changed:      make(chan struct{}),
		deployErr:    map[string]error{},
		unhealthy:    map[string]bool{},
		reports:      map[string]string{},
		healthyAfter: map[string]int{},
		switchErr:    map[string]error{},
	}
	targets := make([]Target, n)
	for i := range targets {
		id := fmt.Sprintf("t%d", i+1)
		targets[i] = Target{ID: id, Address: "http://127.0.0.1:7070/t/" + id}
		f.versions[id] = version
	}
	return f, targets
}

func lookup[V any](m map[string]V, id, version string) (V, bool) {
	if v, ok := m[id+"@"+version]; ok {
		return v, true
	}
	v, ok := m[id]
	return v, ok
}

func (f *fleet) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fleet) Deploy(_ context.Context, t Target, version, _ string) error {
	f.mu.Lock()
	f.started++
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.log = append(f.log, "deploy "+t.ID+" "+version)
	f.deploys = append(f.deploys, t.ID)
	seq := f.started
	if f.gate > 0 && f.inFlight >= f.gate {
		f.released = f.started
	}
	f.notifyLocked()
	f.mu.Unlock()

	f.rendezvous(seq)
	if f.onDeploy != nil {
		f.onDeploy(t.ID, version)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight--
	f.notifyLocked()
	if err, ok := lookup(f.deployErr, t.ID, version); ok {
		return err
	}
	f.versions[t.ID] = version
	f.polls[t.ID] = 0
	return nil
}

// rendezvous holds deploy number seq until gate deploys were in flight
// together (once that happened, every deploy started so far goes on).
func (f *fleet) rendezvous(seq int) {
	if f.gate == 0 {
		return
	}
	timer := time.NewTimer(rendezvousTimeout)
	defer timer.Stop()
	for {
		f.mu.Lock()
		done := seq <= f.released || f.started >= f.expect
		ch, inFlight := f.changed, f.inFlight
		f.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			f.t.Errorf("deploys never reached %d in flight (%d): the engine does not deploy concurrently", f.gate, inFlight)
			return
		}
	}
}

func (f *fleet) Health(_ context.Context, t Target) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healthCalls[t.ID]++
	f.polls[t.ID]++
	v := f.versions[t.ID]
	if bad, _ := lookup(f.unhealthy, t.ID, v); bad {
		return "", fmt.Errorf("%s is unhealthy", t.ID)
	}
	if n, _ := lookup(f.healthyAfter, t.ID, v); f.polls[t.ID] <= n {
		return "", fmt.Errorf("%s is starting", t.ID)
	}
	if r, ok := lookup(f.reports, t.ID, v); ok {
		return r, nil
	}
	return v, nil
}

func (f *fleet) Switch(_ context.Context, slot, version string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "switch "+slot+" "+version)
	return f.switchErr[slot]
}

func (f *fleet) Weights(_ context.Context, version string, pct float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("weights %s %s", version, formatPercent(pct)))
	return f.weightsErr
}

func (f *fleet) Publish(_ context.Context, pct float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "publish "+formatPercent(pct))
	return f.publishErr
}

// env wires the fleet into an Env with a fake clock. Events are collected
// without a lock: the engine promises to deliver them from one goroutine at
// a time, and -race checks it.
func (f *fleet) env(clk *clocktest.Fake, events *[]Event) Env {
	env := Env{
		Deploy:  f.Deploy,
		Health:  f.Health,
		Switch:  f.Switch,
		Weights: f.Weights,
		Publish: f.Publish,
		Clock:   clk,
	}
	if events != nil {
		env.OnEvent = func(e Event) { *events = append(*events, e) }
	}
	return env
}

// calls returns the log entries starting with prefix ("deploy", "switch"…).
func (f *fleet) calls(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.log {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// deployed returns the ids deployed with version, in call order.
func (f *fleet) deployed(version string) []string {
	var ids []string
	for _, c := range f.calls("deploy ") {
		var id, v string
		if _, err := fmt.Sscanf(c, "deploy %s %s", &id, &v); err == nil && v == version {
			ids = append(ids, id)
		}
	}
	return ids
}

func (f *fleet) version(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.versions[id]
}

func (f *fleet) maxConcurrent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInFlight
}

// idRange returns "t<from>" … "t<to>".
func idRange(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("t%d", i))
	}
	return out
}

// assertBatches checks that deploy calls came in the given groups: all of a
// group before any of the next, in any order inside a group.
func assertBatches(t *testing.T, got []string, want [][]string) {
	t.Helper()
	var n int
	for _, g := range want {
		n += len(g)
	}
	if len(got) != n {
		t.Fatalf("deploy calls = %v, want batches %v", got, want)
	}
	for i, g := range want {
		chunk := slices.Clone(got[:len(g)])
		got = got[len(g):]
		slices.Sort(chunk)
		w := slices.Clone(g)
		slices.Sort(w)
		if !slices.Equal(chunk, w) {
			t.Fatalf("batch %d deployed %v, want %v", i+1, chunk, w)
		}
	}
}

func hc() HealthCheck {
	return HealthCheck{Enabled: true, Interval: time.Second, Timeout: 5 * time.Second, ExpectVersion: true}
}

// request returns a rollout of v2 over targets that run v1.
func request(targets []Target) Request {
	return Request{
		Deployment:      "web",
		Version:         "v2",
		PreviousVersion: "v1",
		Targets:         targets,
		Current:         currentAt(targets, "v1"),
		AutoRollback:    true,
		HealthCheck:     hc(),
	}
}

func currentAt(targets []Target, version string) map[string]string {
	m := make(map[string]string, len(targets))
	for _, t := range targets {
		m[t.ID] = version
	}
	return m
}

func mustNew(t testing.TB, name string, mod func(*Config)) Strategy {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(name, cfg)
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return s
}

// execute runs strategy name, its configuration changed by mod, on req
// against f, on a fake clock at epoch.
func (f *fleet) execute(t testing.TB, name string, mod func(*Config), req Request) *Result {
	t.Helper()
	return mustNew(t, name, mod).Execute(context.Background(), req, f.env(clocktest.NewFake(epoch), nil))
}

// rollback is execute's Rollback of targets, with the default configuration.
func (f *fleet) rollback(t testing.TB, name string, req Request, targets []Target) *Result {
	t.Helper()
	return mustNew(t, name, nil).Rollback(context.Background(), req, f.env(clocktest.NewFake(epoch), nil), targets)
}

// limitedEnv is f's env on a fake clock with a Limiter of limit, its
// deploys held until limit of them are in flight or expect have started,
// so that a test sees the bound reached and never passed.
func (f *fleet) limitedEnv(limit, expect int) Env {
	f.gate, f.expect = limit, expect
	env := f.env(clocktest.NewFake(epoch), nil)
	env.Limit = NewLimiter(limit)
	return env
}

// eachStrategy runs check for every strategy name, each a parallel subtest
// named after it.
func eachStrategy(t *testing.T, check func(t *testing.T, name string)) {
	t.Helper()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			check(t, name)
		})
	}
}

// errorsWrap tells whether one of errs wraps target.
func errorsWrap(errs []error, target error) bool {
	return slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, target) })
}

// failureCase is a rollout on the fake fleet that goes wrong or tolerates
// a failure: what breaks, and how the rollout must end.
type failureCase struct {
	n            int           // targets t1…tn at v1 (blue/green: blueGreenFleet)
	active       string        // the request's active slot
	mod          func(*Config) // changes the strategy's default configuration
	setup        func(f *fleet)
	autoRollback bool
	wantSuccess  bool
	wantStatus   Status
	wantStopped  string
	wantActive   string
	wantCalls    []string // the whole call log
	wantErrs     []string // each mentioned by an error or a rollback error
}

// runFailures runs every case of strategy name as a parallel subtest and
// checks how it ends, its calls and its errors; more, when set, checks
// what is particular to the strategy.
func runFailures(t *testing.T, name string, cases map[string]failureCase, more func(t *testing.T, tc failureCase, f *fleet, res *Result)) {
	t.Helper()
	for desc, tc := range cases {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			var f *fleet
			var targets []Target
			if name == NameBlueGreen {
				f, targets = blueGreenFleet(t, "v1")
			} else {
				f, targets = newFleet(t, tc.n, "v1")
			}
			tc.setup(f)
			req := request(targets)
			req.ActiveSlot, req.AutoRollback = tc.active, tc.autoRollback
			res := f.execute(t, name, tc.mod, req)
			if res.Success != tc.wantSuccess || res.Status != tc.wantStatus || res.StoppedAt != tc.wantStopped || res.ActiveSlot != tc.wantActive {
				t.Fatalf("success=%v status=%s stopped=%q active=%q errors=%v rollback=%v", res.Success, res.Status, res.StoppedAt, res.ActiveSlot, res.Errors, res.RollbackErrors)
			}
			assertCallsInPhases(t, f.calls(""), tc.wantCalls)
			wantErrorsMention(t, res, tc.wantErrs)
			if more != nil {
				more(t, tc, f, res)
			}
		})
	}
}

// errorsMention reports whether some error of errs contains every one of subs.
func errorsMention(errs []error, subs ...string) bool {
	for _, err := range errs {
		ok := true
		for _, s := range subs {
			if !strings.Contains(err.Error(), s) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

var errBoom = errors.New("boom")

// rolledBackIDs returns the ids flagged RolledBack, sorted.
func rolledBackIDs(res *Result) []string {
	var out []string
	for id, o := range res.Outcomes {
		if o.RolledBack {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// wantErrorsMention reports each of wants that no error or rollback error
// of res mentions.
func wantErrorsMention(t testing.TB, res *Result, wants []string) {
	t.Helper()
	for _, want := range wants {
		if !errorsMention(append(slices.Clone(res.Errors), res.RollbackErrors...), want) {
			t.Errorf("no error mentions %q: %v %v", want, res.Errors, res.RollbackErrors)
		}
	}
}

// wantRunning reports each of ids whose target f does not run version.
func wantRunning(t testing.TB, f *fleet, version string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if f.version(id) != version {
			t.Errorf("%s runs %s, want %s", id, f.version(id), version)
		}
	}
}

// cancelAtSleep returns a context that is cancelled when clk is asked to
// sleep d.
func cancelAtSleep(t testing.TB, clk *clocktest.Fake, d time.Duration) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clk.OnSleep = func(slept time.Duration) {
		if slept == d {
			cancel()
		}
	}
	return ctx
}
