package provider

// Helpers of the path tests: a fleet that records every traffic call, the
// error text of each apply, plan checks of the prior state, a clock moved
// between plan and apply.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// ---------------------------------------------------------------------------
// Helpers

// record is a list that handlers append to while the test reads it: mark
// is the position to pass to since.
type record[T any] struct {
	mu    sync.Mutex
	items []T
}

func (r *record[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, v)
}

func (r *record[T]) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.items)
}

// since returns what was added after mark.
func (r *record[T]) since(mark int) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.items[mark:])
}

// trafficCall is one PUT to the router's weights or to the flag service.
type trafficCall struct {
	Kind       string  // "weights" or "flag"
	Version    string  `json:"version"`
	Percentage float64 `json:"percentage"`
	State      string  `json:"state"`
}

// trafficLog records, in order, every weights and flag publish a fleet
// received (the simulator itself keeps only the last one).
type trafficLog struct {
	record[trafficCall]
}

// lowered returns the calls since mark of kind for version (weights) that
// set a percentage below floor.
func (l *trafficLog) lowered(mark int, kind, version string, floor float64) []trafficCall {
	var out []trafficCall
	for _, c := range l.since(mark) {
		if c.Kind == kind && (kind != "weights" || c.Version == version) && c.Percentage < floor {
			out = append(out, c)
		}
	}
	return out
}

// newTrafficFleet is newTestFleet behind a handler that records the bodies
// of PUT /router/v1/weights and PUT /flags/v1/flags/*.
func newTrafficFleet(t *testing.T, n int, initial string) (*testFleet, *trafficLog) {
	t.Helper()
	log := &trafficLog{}
	f := serveFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: n, InitialVersion: initial}), func(h http.Handler) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			kind := ""
			if r.Method == http.MethodPut {
				switch {
				case r.URL.Path == "/router/v1/weights":
					kind = "weights"
				case strings.HasPrefix(r.URL.Path, "/flags/v1/flags/"):
					kind = "flag"
				}
			}
			if kind != "" {
				c := trafficCall{}
				_ = json.Unmarshal(peekBody(r), &c)
				c.Kind = kind
				log.add(c)
			}
			h.ServeHTTP(w, r)
		}
	})
	return f, log
}

// diagLog records the diagnostics of every ApplyResourceChange of the
// in-process provider, so that a test can check what a failed apply said
// (ExpectError can only match, not exclude). With plans set it records
// those of every PlanResourceChange instead: warnings that plugin-testing
// does not show.
type diagLog struct {
	plans bool
	texts record[string]
}

func (d *diagLog) mark() int { return d.texts.mark() }

func (d *diagLog) since(mark int) string {
	return strings.Join(d.texts.since(mark), "\n")
}

func (d *diagLog) keep(diags []*tfprotov6.Diagnostic) {
	for _, diag := range diags {
		d.texts.add(diag.Summary + ": " + diag.Detail)
	}
}

func (d *diagLog) providers() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"codomyrmex": func() (tfprotov6.ProviderServer, error) {
			s, err := providerserver.NewProtocol6WithError(New("test")())()
			if err != nil {
				return nil, err
			}
			return diagServer{ProviderServer: s, log: d}, nil
		},
	}
}

type diagServer struct {
	tfprotov6.ProviderServer
	log *diagLog
}

func (s diagServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp, err := s.ProviderServer.PlanResourceChange(ctx, req)
	if resp != nil && s.log.plans {
		s.log.keep(resp.Diagnostics)
	}
	return resp, err
}

func (s diagServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp, err := s.ProviderServer.ApplyResourceChange(ctx, req)
	if resp != nil && !s.log.plans {
		s.log.keep(resp.Diagnostics)
	}
	return resp, err
}

// priorValues checks attributes of the prior state of a plan: in a
// -refresh=false plan what the last apply saved, in a refresh plan what
// refresh read back. Values compare by their fmt.Sprint form, so 100 matches
// a json.Number "100" and a map prints with sorted keys.
type priorValues struct {
	addr string
	want map[string]any
}

func (c priorValues) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	res := priorResource(req.Plan, c.addr)
	if res == nil {
		resp.Error = fmt.Errorf("state holds no %s", c.addr)
		return
	}
	var problems []string
	for k, w := range c.want {
		if got := res.AttributeValues[k]; fmt.Sprint(got) != fmt.Sprint(w) {
			problems = append(problems, fmt.Sprintf("%s = %v, want %v", k, got, w))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		resp.Error = fmt.Errorf("saved %s: %s", c.addr, strings.Join(problems, "; "))
	}
}

// versionsMap is the fmt.Sprint-comparable form of target_versions with
// every id at version.
func versionsMap(version string, ids ...string) map[string]string { //nolint:unparam // tests read better with the version spelled out
	m := make(map[string]string, len(ids))
	for _, id := range ids {
		m[id] = version
	}
	return m
}

// advanceClock is a PreApply "check" that moves the fake clock between the
// plan and the apply of the saved plan, as a plan applied later would see.
type advanceClock struct {
	clk *clocktest.Fake
	by  time.Duration
}

func (c advanceClock) CheckPlan(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse) {
	c.clk.Advance(c.by)
}

// changedTargetsUnknown checks that the plan leaves the deployment's
// changed_targets unknown (plancheck.ExpectUnknownValue reports a known
// list only as "cannot be asserted as bool").
type changedTargetsUnknown struct{}

func (changedTargetsUnknown) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != deploymentAddr || rc.Change == nil {
			continue
		}
		if au, ok := rc.Change.AfterUnknown.(map[string]any); ok && au["changed_targets"] == true {
			return
		}
		var after any
		if m, ok := rc.Change.After.(map[string]any); ok {
			after = m["changed_targets"]
		}
		resp.Error = fmt.Errorf("changed_targets is known at plan (%v) although target ids or slots are not", after)
		return
	}
	resp.Error = fmt.Errorf("no planned change for %s", deploymentAddr)
}

// deploysSince lists "target=version" of the deploys accepted since mark.
func deploysSince(f *testFleet, mark int) []string {
	var out []string
	for _, d := range f.Deploys()[mark:] {
		out = append(out, d.Target+"="+d.Version)
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// testFleet is a simulated fleet served on 127.0.0.1 for one test.
type testFleet struct {
	*simulator.Fleet
	URL string
}

func newTestFleet(t *testing.T, n int, initialVersion string) *testFleet { //nolint:unparam // tests read better with the version spelled out
	t.Helper()
	return serveFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: n, InitialVersion: initialVersion}), nil)
}

// serveFleet serves fl on 127.0.0.1 for the test: its own handler, or
// what wrap makes of it when wrap is set.
func serveFleet(t *testing.T, fl *simulator.Fleet, wrap func(fleet http.Handler) http.HandlerFunc) *testFleet {
	t.Helper()
	h := fl.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testFleet{Fleet: fl, URL: srv.URL}
}

// peekBody reads r's body and puts it back for the handler that follows.
func peekBody(r *http.Request) []byte {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body
}

// targets renders the HCL list of the fleet's first n targets; slot, when
// set, is an HCL expression of i (1-based).
func (f *testFleet) targets(n int, slot string) string {
	if slot == "" {
		return fmt.Sprintf(`[for i in range(1, %d) : { id = "t${i}", address = "%s/t/t${i}" }]`, n+1, f.URL)
	}
	return fmt.Sprintf(`[for i in range(1, %d) : { id = "t${i}", address = "%s/t/t${i}", slot = %s }]`, n+1, f.URL, slot)
}

// flagPublishedAndAll checks that the flag is published at pct and that
// the fleet's first n targets run version.
func (f *testFleet) flagPublishedAndAll(flag string, pct float64, n int, version string) error { //nolint:unparam // tests read better with the version spelled out
	if fl, ok := f.Flag(flag); !ok || fl.Percentage != pct {
		return fmt.Errorf("flag %s = %+v (present %v), want published at %v%%", flag, fl, ok, pct)
	}
	return f.expectAll(n, version)
}

// deploysOf counts the deploy calls the fleet accepted for version.
func (f *testFleet) deploysOf(version string) int {
	n := 0
	for _, d := range f.Deploys() {
		if d.Version == version {
			n++
		}
	}
	return n
}

// deployOrder lists the targets that received version, in call order.
func (f *testFleet) deployOrder(version string) []string {
	var ids []string
	for _, d := range f.Deploys() {
		if d.Version == version {
			ids = append(ids, d.Target)
		}
	}
	return ids
}

func (f *testFleet) expectVersions(want map[string]string) error {
	got := f.Versions()
	var diffs []string
	for id, v := range want {
		if got[id] != v {
			diffs = append(diffs, fmt.Sprintf("%s runs %q, want %q", id, got[id], v))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("fleet: %s", strings.Join(diffs, "; "))
	}
	return nil
}

func (f *testFleet) expectAll(n int, version string) error {
	want := map[string]string{}
	for i := 1; i <= n; i++ {
		want[fmt.Sprintf("t%d", i)] = version
	}
	return f.expectVersions(want)
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("t%d", i+1)
	}
	return out
}

// errorPattern matches an error text whatever the CLI's line wrapping: a
// space in p matches any run of whitespace.
func errorPattern(p string) *regexp.Regexp {
	return regexp.MustCompile("(?s)" + strings.ReplaceAll(p, " ", `\s+`))
}

var testEpoch = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
