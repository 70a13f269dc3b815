package provider

// TestAccRolloutModel_randomSequences is the seeded, model-based acceptance
// test of codomyrmex_feature_rollout: random sequences of what users and the
// world do (time passing, edits of every argument, pause, abort and
// un-abort with and without create_before_destroy, endpoints from the
// attribute, the provider or the environment, -refresh=false, saved plans
// applied late, flag service outages, foreign edits and deletes, destroy),
// driven through the real CLI (TF_ACC_TERRAFORM_PATH) with the provider
// served in process (reattach) on a fake clock, against two simulated flag
// services. After every step it checks (docs/resources/feature_rollout.md):
//
//	a) no CLI output says "inconsistent final plan", "inconsistent result
//	   after apply", "produced an invalid …", "panic:" or "Plugin did not
//	   respond";
//	b) state = service: after a successful apply the flag service at the
//	   saved endpoint holds the saved state, stage, percentage and
//	   updated_at (unless the service is down, or a foreign change was not
//	   refreshed);
//	c) one stage per apply: with the same stages, current_stage rises by at
//	   most one, and only once stage_delay has passed since updated_at at
//	   the plan's time; a failed apply changes nothing saved;
//	d) stage_delay between real publishes: every publish that changes the
//	   rollout carries the publishing apply's time as updated_at, and an
//	   advance is published no sooner than stage_delay after the publish of
//	   the change before it;
//	e) an edit of the configuration never raises exposure, never starts a
//	   pending rollout and never advances (that is left to the next plan);
//	   a stages change with no stage at or below the exposed percentage is
//	   refused at plan, and so is a replacement with no endpoint;
//	f) with every service up an apply succeeds, unless (e) refuses it;
//	g) after a successful apply, a plan is empty unless a start or an
//	   advance is due;
//	h) destroy deletes the flag unless on_destroy is "retain" or the flag
//	   was published since by someone else (a later updated_at), and a
//	   replacement's new flag survives the old rollout's destroy.
//
// Environment:
//
//	CODOMYRMEX_ROLLOUT_MODEL_SEEDS  "1,2,7", "1..50" or "count=N";
//	                                default: defaultRolloutModelSeeds
//	CODOMYRMEX_ROLLOUT_MODEL_STEPS  random steps per sequence; default 14
//
// A failure names the seed, the step and every step so far; the same seed
// replays the same sequence on the same CLI.

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

const defaultRolloutModelSteps = 14

// defaultRolloutModelSeeds run in make test, about a minute per CLI. Their
// first 14 steps together cover every kind of step the generator makes:
// saved plans applied late, -refresh=false applies, outages, foreign edits
// and deletes, destroy, an edit of every argument, un-abort with and
// without create_before_destroy, endpoints from the attribute, the
// environment and nowhere, and a stages change refused for raising
// exposure (3). The other refusal, a replacement with no endpoint, comes
// later in sequences (seeds 11, 21, 61 with 25 steps); TestAccRolloutCLI_
// endpointKeptInState makes it every time. A change of the generator
// changes what they cover.
var defaultRolloutModelSeeds = []uint64{99, 34, 93, 3}

func TestAccRolloutModel_randomSequences(t *testing.T) {
	t.Parallel()
	steps := parseSteps(t, "CODOMYRMEX_ROLLOUT_MODEL_STEPS", defaultRolloutModelSteps)
	var mu sync.Mutex
	total := map[string]int{}
	var runs, violations int
	t.Cleanup(func() {
		kinds := slices.Sorted(func(yield func(string) bool) {
			for k := range total {
				if !yield(k) {
					return
				}
			}
		})
		var b strings.Builder
		for _, k := range kinds {
			fmt.Fprintf(&b, " %s=%d", k, total[k])
		}
		t.Logf("rollout model: %d sequences of %d steps, %d violations; steps by kind:%s", runs, steps, violations, b.String())
	})
	for _, seed := range parseSeeds(t, "CODOMYRMEX_ROLLOUT_MODEL_SEEDS", defaultRolloutModelSeeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			m := newRolloutModel(t, seed)
			m.run(steps)
			mu.Lock()
			defer mu.Unlock()
			runs++
			violations += m.violations
			for k, n := range m.counts {
				total[k] += n
			}
		})
	}
}

// --- the model ---

type rolloutModel struct {
	t    *testing.T
	w    *reattachWorkdir
	clk  *clocktest.Fake
	seed uint64
	r    *rand.Rand
	svc  [2]*roService

	cfg     roConfig // what main.tf says
	applied roConfig // the configuration of the last successful apply
	own     *roSnap  // the rollout after the last successful apply; nil: none
	exists  bool     // the rollout is in state
	drift   bool     // the flag changed behind the provider since the last refresh
	deleted bool     // ... and was deleted
	outage  bool

	lastPub    map[string]protocol.Flag // the provider's last publish, by endpoint
	log        []string
	step       int
	violations int
	counts     map[string]int
}

func newRolloutModel(t *testing.T, seed uint64) *rolloutModel {
	clk := clocktest.NewFake(testEpoch)
	m := &rolloutModel{
		t: t, clk: clk, seed: seed,
		w:       newReattachWorkdir(t, clk),
		r:       rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)),
		lastPub: map[string]protocol.Flag{},
		counts:  map[string]int{},
	}
	m.svc = [2]*roService{newRoService(t, clk), newRoService(t, clk)}
	return m
}

func (m *rolloutModel) chance(p float64) bool { return m.r.Float64() < p }

func (m *rolloutModel) logf(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf("%3d  ", m.step)+fmt.Sprintf(format, args...))
}

func (m *rolloutModel) violate(kind, out, format string, args ...any) {
	m.t.Helper()
	m.violations++
	m.t.Errorf("seed %d step %d: %s: %s\nreplay: CODOMYRMEX_ROLLOUT_MODEL_SEEDS=%d CODOMYRMEX_ROLLOUT_MODEL_STEPS=%d\nsteps so far:\n%s\nCLI output (tail):\n%s",
		m.seed, m.step, kind, fmt.Sprintf(format, args...), m.seed, m.step, strings.Join(m.log, "\n"), tail(out, 3000))
}

// effective is the endpoint the configuration gives, "" for none.
func (m *rolloutModel) effective(c roConfig) string {
	if c.endpoint.via == "none" {
		return ""
	}
	return m.svc[c.endpoint.svc].url
}

func (m *rolloutModel) service(endpoint string) *roService {
	for _, s := range m.svc {
		if s.url == endpoint {
			return s
		}
	}
	return nil
}

func (m *rolloutModel) writeConfig() {
	c := m.cfg
	prov := ""
	if c.endpoint.via == "provider" {
		prov = fmt.Sprintf("  flag_endpoint = %q\n", m.svc[c.endpoint.svc].url)
	}
	env := ""
	if c.endpoint.via == "env" {
		env = m.svc[c.endpoint.svc].url
	}
	m.w.setEnv(EnvFlagEndpoint, env)
	var b strings.Builder
	fmt.Fprintf(&b, "provider \"codomyrmex\" {\n%s  retries         = 0\n  request_timeout = \"2s\"\n}\n\n", prov)
	b.WriteString("resource \"codomyrmex_feature_rollout\" \"r\" {\n  flag_name   = \"checkout\"\n")
	fmt.Fprintf(&b, "  stage_delay = %q\n", c.delay.String())
	if c.stages.hcl != "" {
		fmt.Fprintf(&b, "  stages      = %s\n", c.stages.hcl)
	}
	if c.paused {
		b.WriteString("  paused      = true\n")
	}
	if c.aborted {
		b.WriteString("  aborted     = true\n")
	}
	if c.maxStage != nil {
		fmt.Fprintf(&b, "  max_stage   = %d\n", *c.maxStage)
	}
	if c.startAt != nil {
		fmt.Fprintf(&b, "  start_at    = %q\n", rfc(*c.startAt))
	}
	if c.retain {
		b.WriteString("  on_destroy  = \"retain\"\n")
	}
	if c.endpoint.via == "attribute" {
		fmt.Fprintf(&b, "  endpoint    = %q\n", m.svc[c.endpoint.svc].url)
	}
	if c.cbd {
		b.WriteString("  lifecycle {\n    create_before_destroy = true\n  }\n")
	}
	b.WriteString("}\n")
	m.w.writeConfig(b.String())
}

// snap reads the rollout from the state file; nil when absent.
func (m *rolloutModel) snap() *roSnap {
	a := m.w.rolloutAttrs("r")
	if a == nil {
		return nil
	}
	s := &roSnap{}
	s.state, _ = a["state"].(string)
	f, _ := a["current_stage"].(float64)
	s.stage = int(f)
	s.pct, _ = a["percentage"].(float64)
	if l, ok := a["stages"].([]any); ok {
		for _, v := range l {
			n, _ := v.(float64)
			s.stages = append(s.stages, n)
		}
	}
	s.updatedAt, _ = a["updated_at"].(string)
	s.nextAdvance, _ = a["next_advance_at"].(string)
	s.endpoint, _ = a["endpoint"].(string)
	return s
}

// cli runs the CLI with -input=false -no-color and checks invariant a.
func (m *rolloutModel) cli(args ...string) (string, int) {
	m.t.Helper()
	args = append([]string{args[0], "-input=false", "-no-color"}, args[1:]...)
	out, code := m.w.run(args...)
	m.count("cli runs")
	m.logf("    $ terraform %s → exit %d", strings.Join(args, " "), code)
	if bad := badOutput(out); bad != "" {
		m.violate("a: "+bad, out, "%s", strings.Join(args, " "))
	}
	return out, code
}

// --- the steps ---

func (m *rolloutModel) run(n int) {
	start := time.Now()
	m.cfg = roConfig{stages: roStageChoices[0], delay: time.Hour, endpoint: roEndpoint{via: "provider"}}
	if m.chance(0.3) {
		m.cfg.endpoint = roEndpoint{via: m.pickVia(), svc: m.r.IntN(2)}
	}
	m.cfg.cbd = m.chance(0.3)
	m.writeConfig()
	m.logf("create: %s", m.cfg)
	m.apply("plain", 0, false)
	for m.step = 1; m.step <= n; m.step++ {
		m.randomStep()
	}
	// Leave nothing behind (not checked).
	m.outage = false
	for _, s := range m.svc {
		s.fleet.SetFlagsDown(false)
	}
	m.w.run("destroy", "-auto-approve", "-input=false", "-no-color")
	m.t.Logf("seed %d: %d steps in %s, %d violations\nsteps:\n%s", m.seed, n, time.Since(start).Round(time.Second), m.violations, strings.Join(m.log, "\n"))
}

func (m *rolloutModel) pickVia() string {
	return []string{"attribute", "provider", "env", "none"}[m.r.IntN(4)]
}

func (m *rolloutModel) count(kind string) { m.counts[kind]++ }

func (m *rolloutModel) randomStep() {
	flavor := func() string {
		switch x := m.r.Float64(); {
		case x < 0.5:
			return "plain"
		case x < 0.75:
			return "refresh=false"
		default:
			return "saved"
		}
	}
	waits := []time.Duration{0, time.Second, m.cfg.delay / 2, m.cfg.delay, m.cfg.delay + time.Minute, 3 * m.cfg.delay}
	lateBy := func() time.Duration {
		return []time.Duration{0, time.Minute, m.cfg.delay, 2 * m.cfg.delay}[m.r.IntN(4)]
	}
	switch x := m.r.Float64(); {
	case x < 0.30:
		d := waits[m.r.IntN(len(waits))]
		m.clk.Advance(d)
		f := flavor()
		m.logf("wait %s, apply (%s)", d, f)
		m.count("wait+apply")
		m.apply(f, lateBy(), false)
	case x < 0.62:
		what := m.edit()
		f := flavor()
		m.logf("edit %s → %s; apply (%s)", what, m.cfg, f)
		m.count("edit:" + what)
		m.writeConfig()
		m.apply(f, lateBy(), true)
	case x < 0.70:
		m.logf("flag services down; apply")
		m.count("outage")
		m.setOutage(true)
		if m.chance(0.3) {
			m.clk.Advance(m.cfg.delay)
		}
		m.apply("plain", 0, false)
		m.setOutage(false)
	case x < 0.80:
		m.foreignEdit()
		f := []string{"plain", "refresh=false"}[m.r.IntN(2)]
		m.logf("    apply (%s)", f)
		m.apply(f, 0, false)
	case x < 0.86:
		m.foreignDelete()
		f := []string{"plain", "refresh=false"}[m.r.IntN(2)]
		m.logf("    apply (%s)", f)
		m.apply(f, 0, false)
	case x < 0.93:
		m.count("destroy")
		m.destroy()
	default:
		m.count("plan")
		m.logf("plan")
		m.checkPlan("")
	}
}

func (m *rolloutModel) setOutage(down bool) {
	m.outage = down
	for _, s := range m.svc {
		s.fleet.SetFlagsDown(down)
	}
}

// edit changes one argument of the configuration and names it.
func (m *rolloutModel) edit() string {
	c := m.cfg.clone()
	now := m.clk.Now()
	what := ""
	switch m.r.IntN(14) {
	case 0, 1:
		c.paused, what = !c.paused, "paused"
	case 2, 11, 12:
		c.aborted, what = !c.aborted, "aborted"
	case 3, 4:
		c.stages, what = roStageChoices[m.r.IntN(len(roStageChoices))], "stages"
		if c.maxStage != nil && *c.maxStage >= len(c.stages.list()) {
			c.maxStage = nil
		}
	case 5:
		what = "max_stage"
		if c.maxStage != nil && m.chance(0.4) {
			c.maxStage = nil
		} else {
			v := m.r.IntN(len(c.stages.list()))
			c.maxStage = &v
		}
	case 6:
		what = "start_at"
		switch m.r.IntN(4) {
		case 0:
			c.startAt = nil
		case 1:
			v := now.Add(-time.Hour)
			c.startAt = &v
		case 2:
			v := now.Add(30 * time.Minute)
			c.startAt = &v
		default:
			v := now.Add(2 * time.Hour)
			c.startAt = &v
		}
	case 7:
		c.delay, what = []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour}[m.r.IntN(3)], "stage_delay"
	case 8:
		c.retain, what = !c.retain, "on_destroy"
	case 9, 13:
		c.endpoint, what = roEndpoint{via: m.pickVia(), svc: m.r.IntN(2)}, "endpoint"
	default:
		c.cbd, what = !c.cbd, "create_before_destroy"
	}
	m.cfg = c
	return what
}

// ownService is the flag service of the rollout's saved endpoint; nil,
// logged, when it has none.
func (m *rolloutModel) ownService(op string) *roService {
	ep := ""
	if m.own != nil {
		ep = m.own.endpoint
	}
	s := m.service(ep)
	if s == nil {
		m.logf("foreign %s: no endpoint, nothing to %s", op, op)
	}
	return s
}

func (m *rolloutModel) foreignEdit() {
	m.count("foreign-edit")
	s := m.ownService("edit")
	if s == nil {
		return
	}
	stages := m.own.stages
	doc := protocol.Flag{
		Flag:       "checkout",
		State:      []string{"active", "paused", "completed", "aborted"}[m.r.IntN(4)],
		Stage:      m.r.IntN(len(stages)),
		Percentage: []float64{0, 5, 80, 100}[m.r.IntN(4)],
		Stages:     stages,
		UpdatedAt:  "2020-01-01T00:00:00Z",
	}
	if m.chance(0.4) {
		doc.UpdatedAt = rfc(m.clk.Now().Add(time.Second)) // published since by someone else
	}
	s.foreign(m.t, http.MethodPut, &doc)
	m.drift, m.deleted = true, false
	m.logf("foreign edit: %s stage %d %g%% updated %s", doc.State, doc.Stage, doc.Percentage, doc.UpdatedAt)
}

func (m *rolloutModel) foreignDelete() {
	m.count("foreign-delete")
	s := m.ownService("delete")
	if s == nil {
		return
	}
	s.foreign(m.t, http.MethodDelete, nil)
	m.drift, m.deleted = true, true
	m.logf("foreign delete")
}

// apply runs one apply of the current configuration: plain, with
// -refresh=false, or as a saved plan applied late by lateBy.
func (m *rolloutModel) apply(flavor string, lateBy time.Duration, edited bool) {
	refresh := flavor == "plain" || (flavor == "saved" && m.chance(0.5))
	var out string
	var code int
	planTime := m.clk.Now()
	marks := [2]int{m.svc[0].mark(), m.svc[1].mark()}
	exp := m.expectation(refresh)
	before, hadBefore := m.docBefore()
	switch flavor {
	case "saved":
		args := []string{"plan", "-out=late.tfplan"}
		if !refresh {
			args = append(args, "-refresh=false")
		}
		out, code = m.cli(args...)
		if code == 0 {
			m.clk.Advance(lateBy)
			m.logf("    (applied %s late)", lateBy)
			var applyOut string
			applyOut, code = m.cli("apply", "late.tfplan")
			out += applyOut
		}
	case "refresh=false":
		out, code = m.cli("apply", "-auto-approve", "-refresh=false")
	default:
		out, code = m.cli("apply", "-auto-approve")
	}
	m.afterApply(exp, out, code, planTime, marks, edited, before, hadBefore)
}

// roExpectation is what the model predicts before an apply.
type roExpectation struct {
	refresh   bool
	exposure  bool // a stages change raises exposure: refused at plan
	noEndpt   bool // a replacement with no endpoint: refused at plan
	replacing bool
	creating  bool
}

func (m *rolloutModel) expectation(refresh bool) roExpectation {
	e := roExpectation{refresh: refresh}
	gone := !m.exists || (refresh && m.deleted)
	if gone {
		e.creating = true
		return e
	}
	own := m.own
	eff := m.effective(m.cfg)
	e.replacing = (m.applied.aborted && !m.cfg.aborted) || (eff != "" && eff != own.endpoint)
	if e.replacing {
		e.noEndpt = eff == "" && own.endpoint != ""
		return e
	}
	newStages := m.cfg.stages.list()
	exposes := own.state == "active" || own.state == "paused" || own.state == "completed"
	if !slices.Equal(newStages, own.stages) && exposes && !m.cfg.aborted && newStages[0] > own.pct {
		e.exposure = true
	}
	return e
}

// publishedAfter reports whether doc carries an updated_at later than the
// rollout's own: published since by someone else (destroy leaves it).
func publishedAfter(doc protocol.Flag, own *roSnap) bool {
	theirs, err1 := time.Parse(time.RFC3339, doc.UpdatedAt)
	ours, err2 := time.Parse(time.RFC3339, own.updatedAt)
	return err1 == nil && err2 == nil && theirs.After(ours)
}

// docBefore is the flag at the rollout's saved endpoint before a step.
func (m *rolloutModel) docBefore() (protocol.Flag, bool) {
	if m.own == nil {
		return protocol.Flag{}, false
	}
	if s := m.service(m.own.endpoint); s != nil {
		return s.fleet.Flag("checkout")
	}
	return protocol.Flag{}, false
}

func (m *rolloutModel) afterApply(e roExpectation, out string, code int, planTime time.Time, marks [2]int, edited bool, before protocol.Flag, hadBefore bool) {
	flat := flatten(out)
	if e.exposure || e.noEndpt {
		want := "Stages would raise exposure"
		if e.noEndpt {
			want = "No endpoint for the replacement"
		}
		if code == 0 || !strings.Contains(flat, want) {
			m.violate("e: refusal expected", out, "expected the plan to fail with %q (own %s, config %s)", want, m.own, m.cfg)
		}
		if code != 0 {
			m.count("refused:" + want)
			m.cfg = m.applied.clone()
			m.writeConfig()
			m.checkUnchanged(out)
			return
		}
	}
	switch {
	case code != 0 && !m.outage:
		m.violate("f: apply failed with every service up", out, "exit %d", code)
		return
	case code != 0:
		if !strings.Contains(flat, "flag") {
			m.violate("f: outage failure without a flag error", out, "exit %d", code)
		}
		m.checkUnchanged(out)
		m.checkPublishes(out, marks)
		return
	}

	s := m.snap()
	if s == nil {
		m.violate("b: no rollout in state after a successful apply", out, "config %s", m.cfg)
		return
	}
	created := strings.Contains(out, "Creation complete")
	prev := m.own
	wantEndpoint := m.effective(m.cfg)
	if wantEndpoint == "" && prev != nil && !e.creating {
		wantEndpoint = prev.endpoint
	}
	if s.endpoint != wantEndpoint {
		m.violate("b: the saved endpoint", out, "state says endpoint %q, want %q (configured %v, before %s)", s.endpoint, wantEndpoint, m.cfg.endpoint, prev)
	}
	if !created && prev != nil && !e.creating {
		m.checkStep(out, prev, s, planTime, edited)
	}
	if created && prev != nil && prev.endpoint != "" && prev.endpoint != s.endpoint && !m.applied.retain && !m.outage &&
		(!hadBefore || !publishedAfter(before, prev)) {
		if _, ok := m.service(prev.endpoint).fleet.Flag("checkout"); ok {
			m.violate("h: the replaced rollout's flag is left at its old endpoint", out, "old endpoint %s, new %s", prev.endpoint, s.endpoint)
		}
	}
	m.checkPublishes(out, marks)
	serviceChecked := false
	if s.endpoint != "" && !m.outage && (!m.drift || e.refresh) {
		serviceChecked = true
		fl, ok := m.service(s.endpoint).fleet.Flag("checkout")
		switch {
		case !ok:
			m.violate("b: state != service", out, "state %s, the service holds no flag", s)
		case fl.State != s.state || fl.Stage != s.stage || fl.Percentage != s.pct:
			m.violate("b: state != service", out, "state %s, service %s stage %d %g%% updated %s", s, fl.State, fl.Stage, fl.Percentage, fl.UpdatedAt)
		case reflect.DeepEqual(fl, m.lastPub[s.endpoint]) && fl.UpdatedAt != s.updatedAt:
			// The service holds what the provider published last (a
			// foreign write with the rollout's own state, stage and
			// percentage is no drift, and may carry another updated_at).
			m.violate("b: state != service", out, "state %s, published updated_at %s", s, fl.UpdatedAt)
		}
	}
	m.own, m.exists, m.applied = s, true, m.cfg.clone()
	if serviceChecked || (e.refresh && !m.outage) || created {
		// The flag was read back (a refresh while the service was down
		// reads nothing), or published just now by a create (a
		// replacement at another endpoint among them).
		m.drift, m.deleted = false, false
	}
	if !m.outage && !m.drift && m.chance(0.5) {
		m.checkPlan(out)
	}
}

// checkStep checks invariants c and e between the rollout before and after
// a successful apply that did not create it.
func (m *rolloutModel) checkStep(out string, prev, s *roSnap, planTime time.Time, edited bool) {
	sameStages := slices.Equal(prev.stages, s.stages)
	advanced := sameStages && (s.stage == prev.stage+1 || (prev.state == "active" && s.state == "completed"))
	if sameStages && s.stage != prev.stage && s.stage != prev.stage+1 {
		m.violate("c: more than one stage in one apply", out, "from %s to %s", prev, s)
	}
	if advanced {
		upd, err := time.Parse(time.RFC3339, prev.updatedAt)
		if err != nil || planTime.Sub(upd) < m.cfg.delay {
			m.violate("c: advanced before stage_delay", out, "from %s to %s, planned at %s (stage_delay %s)", prev, s, rfc(planTime), m.cfg.delay)
		}
	}
	if !edited || !m.argumentsChanged() {
		return
	}
	if s.pct > prev.pct {
		m.violate("e: an edit raised exposure", out, "from %s to %s with %s", prev, s, m.cfg)
	}
	if advanced {
		m.violate("e: an edit advanced", out, "from %s to %s with %s", prev, s, m.cfg)
	}
	if prev.state == "pending" && s.state != "pending" && s.state != "aborted" {
		m.violate("e: an edit started a pending rollout", out, "from %s to %s with %s", prev, s, m.cfg)
	}
}

// argumentsChanged reports whether the edit changed an argument of the
// rollout as the provider sees it: not the lifecycle block, nor the way
// the same endpoint is given (attribute, provider, environment, or the
// saved one), nor stages spelled out as the default.
func (m *rolloutModel) argumentsChanged() bool {
	a, c := m.applied, m.cfg
	endpoint := func(cfg roConfig) string {
		if ep := m.effective(cfg); ep != "" || m.own == nil {
			return ep
		}
		return m.own.endpoint
	}
	return !slices.Equal(a.stages.list(), c.stages.list()) || a.delay != c.delay || a.paused != c.paused ||
		a.aborted != c.aborted || !reflect.DeepEqual(a.maxStage, c.maxStage) || !reflect.DeepEqual(a.startAt, c.startAt) ||
		a.retain != c.retain || endpoint(a) != endpoint(c)
}

// checkPublishes checks invariant d on the publishes made during a step.
func (m *rolloutModel) checkPublishes(out string, marks [2]int) {
	for i, s := range m.svc {
		for _, p := range s.since(marks[i]) {
			last, ok := m.lastPub[s.url]
			m.lastPub[s.url] = p.doc
			if !ok {
				if p.doc.UpdatedAt != rfc(p.at) {
					m.violate("d: updated_at is not the publish's time", out, "first publish %+v at %s", p.doc, rfc(p.at))
				}
				continue
			}
			sameStages := slices.Equal(last.Stages, p.doc.Stages)
			changed := last.State != p.doc.State || last.Stage != p.doc.Stage || !sameStages
			if changed && p.doc.UpdatedAt != rfc(p.at) {
				m.violate("d: updated_at is not the publish's time", out, "%+v published at %s after %+v", p.doc, rfc(p.at), last)
			}
			advance := sameStages && last.State == "active" &&
				((p.doc.Stage == last.Stage+1 && p.doc.State == "active") || (p.doc.Stage == last.Stage && p.doc.State == "completed"))
			if advance {
				upd, err := time.Parse(time.RFC3339, last.UpdatedAt)
				if err != nil || p.at.Sub(upd) < m.cfg.delay {
					m.violate("d: stage_delay between publishes", out, "%+v published at %s, %s after %+v", p.doc, rfc(p.at), p.at.Sub(upd), last)
				}
			}
		}
	}
}

// checkUnchanged checks that a failed apply left the saved rollout as it
// was (refresh may have recorded foreign values: those are not compared).
func (m *rolloutModel) checkUnchanged(out string) {
	s := m.snap()
	switch {
	case m.own == nil || !m.exists:
		return
	case s == nil:
		if !m.deleted {
			m.violate("c: a failed apply removed the rollout", out, "was %s", m.own)
		}
		return
	}
	if s.updatedAt != m.own.updatedAt || !slices.Equal(s.stages, m.own.stages) || s.endpoint != m.own.endpoint {
		m.violate("c: a failed apply changed the saved rollout", out, "was %s, now %s", m.own, s)
	}
}

// checkPlan checks invariant g: a plan, with or without -refresh=false, is
// empty unless a start or an advance is due.
func (m *rolloutModel) checkPlan(prevOut string) {
	if m.outage || m.drift || !m.exists || m.own == nil {
		return
	}
	args := []string{"plan", "-detailed-exitcode"}
	if m.chance(0.5) {
		args = append(args, "-refresh=false")
	}
	out, code := m.cli(args...)
	want := 0
	if m.due(m.own) {
		want = 2
	}
	if code != want {
		m.violate("g: plan after apply", prevOut+"\n"+out, "plan exited %d, want %d (rollout %s, config %s, now %s)", code, want, m.own, m.cfg, rfc(m.clk.Now()))
	}
}

// due reports whether a start or an advance of s is due now under the
// applied configuration.
func (m *rolloutModel) due(s *roSnap) bool {
	now := m.clk.Now()
	c := m.applied
	switch s.state {
	case "pending":
		return c.startAt == nil || !now.Before(*c.startAt)
	case "active":
		if c.maxStage != nil && s.stage >= *c.maxStage {
			return false
		}
		upd, err := time.Parse(time.RFC3339, s.updatedAt)
		return err == nil && !now.Before(upd.Add(c.delay))
	}
	return false
}

// destroy runs destroy and checks invariant h.
func (m *rolloutModel) destroy() {
	refresh := m.chance(0.6)
	args := []string{"destroy", "-auto-approve"}
	if !refresh {
		args = append(args, "-refresh=false")
	}
	m.logf("destroy (refresh=%v)", refresh)
	var before protocol.Flag
	var had bool
	var svc *roService
	if m.own != nil {
		if svc = m.service(m.own.endpoint); svc != nil {
			before, had = svc.fleet.Flag("checkout")
		}
	}
	out, code := m.cli(args...)
	if code != 0 {
		if !m.outage {
			m.violate("f: destroy failed with every service up", out, "exit %d", code)
		}
		return
	}
	if s := m.snap(); s != nil {
		m.violate("h: destroy left the rollout in state", out, "%s", s)
	}
	if m.exists && m.own != nil && svc != nil && !m.outage {
		after, has := svc.fleet.Flag("checkout")
		newer := had && publishedAfter(before, m.own)
		switch {
		case m.applied.retain || newer:
			if has != had || !reflect.DeepEqual(after, before) {
				m.violate("h: destroy changed a flag it had to leave", out, "before %+v (present %v), after %+v (present %v)", before, had, after, has)
			}
		case has:
			m.violate("h: destroy left the flag", out, "flag %+v, rollout %s", after, m.own)
		}
	}
	m.exists, m.own, m.drift, m.deleted = false, nil, false, false
}
