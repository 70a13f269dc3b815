package provider

// TestAccModel_randomSequences is a seeded, model-based acceptance test: it
// generates random sequences of what users and the world do to a
// codomyrmex_deployment (model_ops_test.go), drives the real CLI
// (TF_ACC_TERRAFORM_PATH) as a process against an in-process simulated
// fleet, and checks the contract of docs/resources/deployment.md (its
// lifecycle; analysis, bake and gates) after every step:
//
//	a) no CLI output says "inconsistent result after apply", "inconsistent
//	   final plan", "produced an invalid …", "panic:" or "Plugin did not
//	   respond";
//	b) state = fleet: every target_versions entry of a configured target
//	   equals what the fleet target at that target's configured address
//	   runs (targets whose health is faulted, or that changed behind the
//	   provider's back since the last refresh, are skipped), and no entry
//	   is "";
//	c) a failed apply with auto_rollback and a previous version leaves every
//	   fleet target at the version it ran before, the router's active slot
//	   as it was, the live version's weight not lower and the failed
//	   version's weight not higher than before, and the flag's percentage
//	   as it was; a failed repair (version unchanged) does not rewrite
//	   version / previous_version in state;
//	d) after a successful apply with no fault active and no drift since,
//	   `plan -detailed-exitcode` exits 0;
//	e) an edit that changes nothing that runs (a default spelled out,
//	   name = "", an unknown-at-plan value equal to the old one) on a
//	   converged deployment makes no target, router or flag call and keeps
//	   every computed value;
//	f) with no fault injected and every service up, an apply succeeds;
//	g) gates across applies: a successful canary apply stops at the first
//	   gate ahead that its plan found closed (paused there,
//	   traffic_percentage and the router's weight of the version =
//	   paused_at, the stage's targets and no more run it: ceil(N ×
//	   paused_at / 100), at least 1), and completes when none is; a time
//	   gate is due when the time it was reached plus its configured wait
//	   came before the plan's refresh; no release passes a manual gate not
//	   approved for it, a time gate it did not wait at, or the gate it was
//	   paused at before that gate opened (also after a revert to it); a
//	   blue/green with pause_before_switch pauses before its switch
//	   (paused_at 0, traffic untouched) until approved, and never deploys
//	   to the serving slot meanwhile; an approval of another version
//	   changes nothing that runs (like e); after a time gate's wait the
//	   plan is not empty; resume_at is the time the gate was reached plus
//	   the gate's configured wait (null at a manual gate), whatever was
//	   edited since; a saved plan that found a time gate closed applies as
//	   paused after it is due, and a plan without refresh decides as of the
//	   last refresh or apply; version set back to previous_version while
//	   paused reverts at once (the abandoned version's weight 0, every
//	   target that ran it back), and to a release that was itself paused
//	   restores that release as it was (paused at the same gate, its
//	   previous_version, its share of traffic, the targets that ran it);
//	   a new version that failed on top of a paused release and was rolled
//	   back leaves that pause as it was; destroy while paused rolls back to
//	   previous_version without switching a blue/green that never switched.
//	   Invariant d holds while paused too, unless a time gate opened before
//	   the plan;
//	h) an apply interrupted by Ctrl-C (SIGINT to the CLI's process group)
//	   or by its timeouts.update, at a stage's deploy, in a window or the
//	   bake, in the resume measurement of an approved pause, or in a
//	   revert's deploys: it never lowers the saved version's traffic,
//	   moves the router's active slot or lowers the flag, never changes a
//	   target it did not deploy itself (a revert: one that did not run the
//	   abandoned version), restores those it deployed (auto_rollback), and
//	   leaves a pause as it was (version, paused_at, previous_version,
//	   traffic_percentage);
//	i) without analysis, a successful apply saves analysis_results null;
//	j) when the plan after a successful apply is empty and the rollout is
//	   not paused, every configured target (blue/green: of the serving
//	   slot) without a fault runs the configured version;
//	n) the notifications an apply that ran to its end sent (a receiver
//	   next to the fleet decodes them with the CloudEvents SDK) end in
//	   completed, paused, failed or rolled_back: the status state saved
//	   (rolled_back for a create that saved no state).
//
// The driver controls the web check analysis measures (passing, failing
// for a version, or slow) and how long deploys of a version take, and
// interrupts an apply once the world saw the call it aims at.
//
// Environment:
//
//	CODOMYRMEX_MODEL_SEEDS  seeds: "1,2,7", a range "1..50", or "count=N"
//	                        (seeds 1..N); default defaultModelSeeds
//	CODOMYRMEX_MODEL_STEPS  random steps after the create; default 12
//
// A failure names the seed, the step and every step so far; the same seed
// replays the same sequence (CODOMYRMEX_MODEL_SEEDS=<seed>).

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

const (
	defaultModelSteps = 12
	modelStateAddr    = "web"
)

// defaultModelSeeds are fixed seeds whose 12-step sequences together
// generate every strategy and every op (TestModelSequence_defaultSeedsCover
// checks it):
//
//	1786   rolling, then blue/green with pause_before_switch: Ctrl-C in a
//	       revert's deploys; analysis failing for a version, then removed;
//	       a failed repair; target ids unknown at plan; refresh-only
//	1481   feature flag, then canary: a revert chain A → B → A and the
//	       approval of A; timeouts.update expiring in the resume
//	       measurement of an approved pause; a manual gate made a time gate
//	       right after a pause; a revert
//	7818   blue/green, rolling, canary: approve.version unknown at plan;
//	       timeouts.update expiring in a deploy; destroy; a router outage
//	19906  canary: a plan saved before a time gate is due and applied after
//	       it (and plans without refresh); a wait shortened while paused;
//	       timeouts.update in a window; a revert chain A → B → C → B → A
//	22853  blue/green, then canary: Ctrl-C in a deploy, in a bake, and in
//	       the resume measurement of an approved pause; timeouts.update in
//	       another
//
// with analysis (passing, failing, slow), bake, and the faults, drift,
// re-addressing and equivalent edits of the other ops. A change of the
// generator changes what they generate: pick seeds again when that test
// fails.
var defaultModelSeeds = []uint64{1786, 1481, 7818, 19906, 22853}

func TestAccModel_randomSequences(t *testing.T) {
	w := newCLIWorkdir(t) // skips without TF_ACC; builds the provider once
	steps := parseSteps(t, "CODOMYRMEX_MODEL_STEPS", defaultModelSteps)
	for _, seed := range parseSeeds(t, "CODOMYRMEX_MODEL_SEEDS", defaultModelSeeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			// Each sequence has its own fleet and working directory; half
			// of a sequence's time is spent waiting on them, so two go at
			// once (-parallel).
			t.Parallel()
			d := *w
			d.t = t
			d.dir = filepath.Join(filepath.Dir(w.dir), fmt.Sprintf("seed-%d", seed))
			runModel(t, &d, seed, steps)
		})
	}
}

// modelRun is the driver's view of one sequence: the fleet, what the test
// did to it, and the violations found so far.
type modelRun struct {
	t    *testing.T
	w    *cliWorkdir
	f    *testFleet
	seed uint64

	world *modelWorld

	cfg        mConfig
	faults     map[string]simulator.Fault // by fleet target id
	routerDown bool
	flagsDown  bool
	// checkFail: the versions whose web check (analysis) fails.
	checkFail []string
	// stale: fleet targets whose version may have changed (drift, a fault
	// cleared) since the state last refreshed them.
	stale map[string]bool
	// converged: the last step ended with an empty plan and nothing
	// happened since.
	converged bool
	// hold: the gate the rollout last paused at (invariant g).
	hold *gateHold
	// pauses: the last pause of each release a revert may go back to (the
	// saved version and previous_version), by version.
	pauses map[string]*gateHold

	// lastRun: the last CLI run; lastApply: the last apply that got as far
	// as the deployment (its state was saved), with the configuration it
	// ran with; planRun: the run whose plan decided the last apply.
	lastRun, lastApply, planRun cliRun
	appliedCfg                  string
	// Of this step: whether an apply failed, the version it reverted to,
	// the release a failed resume abandoned.
	applyFailed           bool
	revertedTo, abandoned string
	// signalled: the last CLI run got a SIGINT.
	signalled bool

	lastOut    string   // output of the last CLI run
	lastCode   int      // its exit code
	log        []string // human-readable steps so far
	step       int
	violations []modelViolation
}

// cliRun is when a CLI run started and ended, and how many world events
// there were when it started.
type cliRun struct {
	start, end time.Time
	mark       int
}

// gateHold is a gate the rollout of version paused at (blue/green: before
// its switch); opened once an apply started there with the gate open.
// The gate was reached between reachedLo and reachedHi; prev is the
// previous_version saved with the pause; fleet is what the configured
// fleet targets ran then (ran: the version); lapsed: the state stopped saying
// paused since, the version still at the gate (after a failed resume).
type gateHold struct {
	version              string
	at                   float64
	bg                   bool
	opened, lapsed       bool
	reachedLo, reachedHi time.Time
	prev                 *string
	fleet                map[string]string // what each configured target ran then
}

type modelViolation struct {
	seed uint64
	step int
	kind string
	msg  string
}

func runModel(t *testing.T, w *cliWorkdir, seed uint64, n int) {
	start := time.Now()
	f, world := newModelFleet(t, modelFleetSize, modelInitial)
	m := &modelRun{
		t: t, w: w, seed: seed, f: f, world: world,
		faults: map[string]simulator.Fault{},
		stale:  map[string]bool{},
		pauses: map[string]*gateHold{},
	}
	seq := modelSequence(seed, n)
	for i, s := range seq {
		m.step = i
		m.runStep(s)
	}
	// Leave nothing behind: faults off, one last destroy (not checked).
	m.world.setCheck(nil, 0)
	m.world.calm()
	m.f.ClearFaults()
	m.f.SetRouterDown(false)
	m.f.SetFlagsDown(false)
	m.w.run(nil, "destroy", "-auto-approve", "-input=false", "-no-color")

	kinds := map[string][]string{}
	var order []string
	for _, v := range m.violations {
		if _, ok := kinds[v.kind]; !ok {
			order = append(order, v.kind)
		}
		kinds[v.kind] = append(kinds[v.kind], strconv.Itoa(v.step))
	}
	var sum strings.Builder
	for _, k := range order {
		fmt.Fprintf(&sum, "\n  %s (steps %s)", k, strings.Join(slices.Compact(kinds[k]), ", "))
	}
	t.Logf("seed %d: %d steps in %s, %d violations%s\nsteps:\n%s", seed, len(seq), time.Since(start).Round(time.Second), len(m.violations), sum.String(), strings.Join(m.log, "\n"))
}

func (m *modelRun) logf(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf("%3d  ", m.step)+fmt.Sprintf(format, args...))
}

// violate records a broken invariant with the seed, the step, every step so
// far and the tail of the CLI output, and goes on.
func (m *modelRun) violate(kind, out, format string, args ...any) {
	m.t.Helper()
	msg := fmt.Sprintf(format, args...)
	m.violations = append(m.violations, modelViolation{seed: m.seed, step: m.step, kind: kind, msg: msg})
	m.t.Errorf("seed %d step %d: %s: %s\nreplay: CODOMYRMEX_MODEL_SEEDS=%d CODOMYRMEX_MODEL_STEPS=%d\nsteps so far:\n%s\nCLI output (tail):\n%s",
		m.seed, m.step, kind, msg, m.seed, m.step, strings.Join(m.log, "\n"), tail(out, 2500))
}

// cli runs the CLI and checks its output for invariant a.
func (m *modelRun) cli(args ...string) (string, int) {
	m.t.Helper()
	return m.cliWith(nil, args...)
}

// cliWith runs the CLI, interrupting it at in when set, and checks its
// output for invariant a.
func (m *modelRun) cliWith(in *mInterrupt, args ...string) (string, int) {
	m.t.Helper()
	// Options go before a positional argument (the saved plan).
	args = append([]string{args[0], "-input=false", "-no-color"}, args[1:]...)
	run := cliRun{start: time.Now(), mark: m.world.mark()}
	m.signalled = false
	var out string
	var code int
	if in != nil && in.Signal {
		out, code = m.runInterrupted(in, args)
	} else {
		out, code = m.w.run(nil, args...)
	}
	run.end = time.Now()
	m.lastRun, m.lastOut, m.lastCode = run, out, code
	m.logf("    $ terraform %s → exit %d", strings.Join(args, " "), code)
	if bad := badOutput(out); bad != "" {
		kind := "a: " + bad
		if attr := badAttribute.FindStringSubmatch(flatten(out)); attr != nil {
			kind += " (" + attr[1] + ")"
		}
		m.violate(kind, out, "%s exited %d and says %q", strings.Join(args, " "), code, bad)
	}
	return out, code
}

// badOutputs are what the CLI says when plan and apply disagree or the
// provider crashed (invariant a).
var badOutputs = []string{
	"inconsistent result after apply",
	"inconsistent final plan",
	"produced an invalid",
	"produced invalid plan",
	"produced invalid object",
	"returned invalid result",
	"panic:",
	"plugin did not respond",
}

// badAttribute finds the attribute Terraform names in an inconsistency.
var badAttribute = regexp.MustCompile(`(?:new value|unexpected new value):? (?:for )?(\.[A-Za-z0-9_.\[\]"]+)`)

func badOutput(out string) string {
	flat := strings.ToLower(flatten(out))
	for _, b := range badOutputs {
		if strings.Contains(flat, b) {
			return b
		}
	}
	return ""
}

// flatten removes the CLI's diagnostic frame and line wrapping.
func flatten(out string) string {
	out = strings.NewReplacer("│", " ", "╷", " ", "╵", " ").Replace(out)
	return strings.Join(strings.Fields(out), " ")
}

// --- the world ---

// act does a to the world and returns the targets it made stale.
func (m *modelRun) act(a mAction) []string {
	m.converged = false
	var stale []string
	switch a.Kind {
	case "drift":
		m.f.SetVersion(a.Target, a.Version)
		stale = append(stale, a.Target)
	case "fault":
		if _, had := m.faults[a.Target]; had {
			stale = append(stale, a.Target)
		}
		m.f.SetFault(a.Target, a.Fault)
		m.faults[a.Target] = a.Fault
	case "clear":
		stale = slices.Sorted(maps.Keys(m.faults))
		clear(m.faults)
		m.f.ClearFaults()
		m.f.SetRouterDown(false)
		m.f.SetFlagsDown(false)
		m.routerDown, m.flagsDown = false, false
		m.checkFail = nil
		m.world.setCheck(nil, 0)
		m.world.calm()
	case "check":
		m.checkFail = slices.Clone(a.Versions)
		m.world.setCheck(a.Versions, a.Hang)
	case "hang":
		m.world.setDeployHang(a.Version, a.Hang)
	case "calm":
		m.world.calm()
	case "router":
		m.f.SetRouterDown(a.Down)
		m.routerDown = a.Down
	case "flags":
		m.f.SetFlagsDown(a.Down)
		m.flagsDown = a.Down
	}
	for _, x := range stale {
		m.stale[x] = true
	}
	return stale
}

func (m *modelRun) servicesUp() {
	m.f.SetRouterDown(false)
	m.f.SetFlagsDown(false)
	m.routerDown, m.flagsDown = false, false
}

func healthFault(f simulator.Fault) bool {
	return f.Unhealthy || f.NoVersion || f.HealthStatus != 0 || f.ReportVersion != "" || f.FlapEvery != 0
}

// healthFaulted: target x's health answers are faulted while it runs
// running, so state may keep a last known version for it.
func (m *modelRun) healthFaulted(x, running string) bool {
	f, ok := m.faults[x]
	return ok && healthFault(f) && (f.FailVersion == "" || f.FailVersion == running)
}

// faultExcusesDiff: a fault that may legitimately make the plan after a
// successful apply non-empty: a target whose health is faulted, or one
// that does not run the version and cannot get it (a canary stage
// tolerates failures up to success_threshold). A target without a version,
// or reporting another one, with expect_version = false must not.
func (m *modelRun) faultExcusesDiff(fleet map[string]string) bool {
	for _, t := range m.cfg.Targets {
		f, ok := m.faults[t.Fleet]
		if !ok {
			continue
		}
		if (f.FailVersion == "" || f.FailVersion == m.cfg.Version) && fleet[t.Fleet] != m.cfg.Version {
			return true
		}
		if !m.healthFaulted(t.Fleet, fleet[t.Fleet]) {
			continue
		}
		versionOnly := !f.Unhealthy && f.HealthStatus == 0 && f.FlapEvery == 0
		if versionOnly && !m.cfg.ExpectVersion {
			continue
		}
		return true
	}
	return false
}

// --- snapshots ---

type worldSnap struct {
	versions map[string]string
	router   simulator.RouterState
	flagPct  float64
	flagOK   bool
	calls    map[string]int
	deploys  int
}

func (m *modelRun) snap() worldSnap {
	fl, ok := m.f.Flag(modelFlag)
	return worldSnap{
		versions: m.f.Versions(),
		router:   m.f.Router(),
		flagPct:  fl.Percentage,
		flagOK:   ok,
		calls:    m.f.Calls(),
		deploys:  len(m.f.Deploys()),
	}
}

// modelState is codomyrmex_deployment.web as saved in terraform.tfstate.
type modelState struct {
	present, tainted bool
	Version          string            `json:"version"`
	PreviousVersion  *string           `json:"previous_version"`
	Status           string            `json:"status"`
	Strategy         string            `json:"strategy"`
	Traffic          *float64          `json:"traffic_percentage"`
	PausedAt         *float64          `json:"paused_at"`
	ResumeAt         *string           `json:"resume_at"`
	ActiveSlot       *string           `json:"active_slot"`
	TargetVersions   map[string]string `json:"target_versions"`
	Targets          []struct {
		ID      string  `json:"id"`
		Address string  `json:"address"`
		Slot    *string `json:"slot"`
	} `json:"targets"`
	raw map[string]json.RawMessage
}

func (s modelState) paused() bool { return s.present && s.Status == "paused" }

// resumeAt is resume_at (zero when null).
func (s modelState) resumeAt() time.Time {
	if s.ResumeAt == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, *s.ResumeAt)
	if err != nil {
		return time.Time{}
	}
	return t
}

// due: paused at a time gate whose wait is over.
func (s modelState) due() bool { return s.dueAt(time.Now()) }

// dueAt: paused at a time gate whose resume_at is at or before t.
func (s modelState) dueAt(t time.Time) bool {
	ra := s.resumeAt()
	return s.paused() && !ra.IsZero() && !t.Before(ra)
}

func (s modelState) pausedAt() float64 {
	if s.PausedAt == nil {
		return -1
	}
	return *s.PausedAt
}

func (s modelState) traffic() float64 {
	if s.Traffic == nil {
		return -1
	}
	return *s.Traffic
}

func (m *modelRun) state() modelState {
	m.t.Helper()
	var s modelState
	raw, err := os.ReadFile(filepath.Join(m.w.dir, "terraform.tfstate"))
	if errors.Is(err, os.ErrNotExist) {
		return s
	}
	if err != nil {
		m.t.Fatal(err)
	}
	attrs, tainted, ok := deploymentAttributes(m.t, raw, modelStateAddr)
	if !ok {
		return s
	}
	if err := json.Unmarshal(attrs, &s); err != nil {
		m.t.Fatalf("reading the deployment: %v", err)
	}
	if err := json.Unmarshal(attrs, &s.raw); err != nil {
		m.t.Fatalf("reading the deployment: %v", err)
	}
	s.present, s.tainted = true, tainted
	return s
}

// targetID is the id of the configured target whose address is the fleet
// target x ("" if none).
func (m *modelRun) targetID(x string) string {
	for _, t := range m.cfg.Targets {
		if t.Fleet == x {
			return t.ID
		}
	}
	return ""
}

// fleetID is the simulated target an address points at ("" if none).
func (m *modelRun) fleetID(address string) string {
	id, ok := strings.CutPrefix(address, m.f.URL+"/t/")
	if !ok || strings.Contains(id, "/") {
		return ""
	}
	return id
}

func strp(p *string) string {
	if p == nil {
		return "null"
	}
	return strconv.Quote(*p)
}

// --- the steps ---

func (m *modelRun) runStep(s mStep) {
	m.logf("%s", s)
	m.waitTimeGate()
	start := m.state()
	m.applyFailed, m.revertedTo, m.abandoned = false, "", ""
	for _, a := range s.World {
		m.act(a)
	}
	if s.First != nil {
		m.setConfig(*s.First)
	} else {
		m.setConfig(s.Cfg)
	}

	switch s.CLI {
	case cliApply:
		if s.WaitGate {
			m.checkTimeGatePlan()
		}
		m.apply(s, []string{"apply", "-auto-approve"}, nil)
	case cliPlanfile:
		out, code := m.cli("plan", "-out=tfplan")
		if code != 0 {
			m.logf("    the plan failed: %s", firstError(out))
			break
		}
		m.planRun = m.lastRun
		m.apply(s, []string{"apply", "tfplan"}, s.Between)
	case cliPlanAcross:
		m.planAcross(s)
	case cliRefresh:
		if _, code := m.cli("apply", "-refresh-only", "-auto-approve"); code == 0 {
			clear(m.stale)
		}
		m.converged = false
	case cliDestroy:
		prior, pre := m.state(), m.snap()
		faultFree := m.faultFree() && len(m.stale) == 0
		if out, code := m.cli("destroy", "-auto-approve"); code == 0 {
			clear(m.stale)
			if faultFree {
				m.checkDestroyPaused(out, prior, pre, m.snap())
			}
		}
		m.converged = false
	}
	if m.routerDown || m.flagsDown {
		m.servicesUp()
	}
	for _, a := range s.After {
		m.act(a)
	}
	m.checkStateMatchesFleet()
	m.updateHold()
	m.checkPaused(start)
}

// setConfig makes c the configuration in main.tf.
func (m *modelRun) setConfig(c mConfig) {
	changed := c.render("") != m.cfg.render("")
	m.cfg = c.clone()
	m.w.writeConfig(m.cfg.render(m.f.URL))
	if changed {
		m.logf("    config: %s", m.cfg.summary())
	}
}

// faultFree: no fault injected, every service up, no analysis failing.
func (m *modelRun) faultFree() bool {
	return len(m.faults) == 0 && !m.routerDown && !m.flagsDown && len(m.checkFail) == 0
}

// timedOut matches what an apply says when its timeouts.update expired.
var timedOut = regexp.MustCompile(`(?i)deadline exceeded|timed out|timeout`)

// apply runs an apply (between: world actions after a saved plan was made)
// and checks invariants c to i.
func (m *modelRun) apply(s mStep, args []string, between []mAction) {
	wasConverged := m.converged
	var staleAfterPlan map[string]bool
	if between != nil {
		// The saved plan refreshed what was stale before it; what changes
		// after it stays stale.
		staleAfterPlan = map[string]bool{}
		for _, a := range between {
			for _, x := range m.act(a) {
				staleAfterPlan[x] = true
			}
		}
	}
	faultFree := m.faultFree()
	prior := m.state()
	pre := m.snap()
	revert := m.isRevert(prior)

	m.world.notices.Reset()
	out, code := m.cliWith(s.Interrupt, args...)
	run := m.lastRun
	if !slices.Contains(args, "tfplan") {
		m.planRun = run // the apply made its own plan
	}
	flat := flatten(out)
	post := m.snap()
	after := m.state()
	interrupted := code != 0 && s.Interrupt != nil && (m.signalled || (!s.Interrupt.Signal && timedOut.MatchString(flat)))
	if code == 0 {
		m.logf("    ok: %s", stateSummary(after))
	} else {
		m.logf("    failed: %s; %s", firstError(out), stateSummary(after))
	}
	if badOutput(out) != "" {
		// Invariant a is already recorded; what the fleet did is Terraform's
		// error, not a rollout's.
		m.converged = false
		return
	}

	// Once the apply walk started, the refreshed state was saved: what was
	// stale is not any more (a saved plan refreshed before Between).
	started := code == 0 || strings.Contains(flat, "codomyrmex_deployment.web: Modifying") ||
		strings.Contains(flat, "codomyrmex_deployment.web: Creating") || strings.Contains(flat, "codomyrmex_deployment.web: Destroying")
	if started {
		if staleAfterPlan != nil {
			m.stale = staleAfterPlan
		} else {
			clear(m.stale)
		}
		m.lastApply, m.appliedCfg = run, m.cfg.render("")
	}
	if !interrupted {
		m.checkNotices(out, after)
	}
	// Where the plan found a time gate the rollout was paused at.
	due, sure := m.gateDue(prior, m.planRun)
	m.openHold(prior, due)

	if code != 0 {
		m.converged = false
		m.applyFailed = true
		if revert {
			// A revert to a paused release restores it first; a failure of
			// what follows puts it back at its gate, reached when it was.
			m.revertedTo = m.cfg.Version
		}
		switch {
		case interrupted:
			m.checkInterrupted(out, flat, prior, after, pre, post, run)
		default:
			if faultFree {
				m.violate("f: apply failed with no fault injected", out, "%s exited %d: %s", strings.Join(args, " "), code, firstError(out))
			}
			m.checkFailedApply(out, flat, prior, after, pre, post)
		}
		return
	}

	if s.Equivalent && wasConverged && faultFree {
		m.logf("    (checking that nothing changed: invariant e)")
		m.checkNothingChanged(out, prior, after, pre, post)
	}
	if s.NoOp && wasConverged && faultFree {
		m.logf("    (checking that the approval of another version changed nothing: invariant g)")
		m.checkNoOp(out, flat, prior, after, pre, post)
	}
	if !m.cfg.Analysis && after.present {
		if r := canonicalJSON(after.raw["analysis_results"]); r != "null" && r != "absent" {
			m.violate("i: analysis_results kept without analysis", out, "analysis is not configured and analysis_results = %s", r)
		}
	}
	if revert {
		m.revertedTo = m.cfg.Version
	}
	if !sure {
		m.logf("    (the time gate at %v%% was due around the plan: where the rollout stops is not checked)", prior.pausedAt())
	}
	m.checkGates(out, prior, after, pre, post, due, sure, faultFree && len(m.stale) == 0, between != nil)

	// d: a successful apply on an unchanged fleet plans nothing next.
	m.converged = false
	if s.noPlanCheck || len(m.stale) > 0 || m.routerDown || m.flagsDown || m.faultExcusesDiff(post.versions) {
		return
	}
	planStart := time.Now()
	pout, pcode := m.cli("plan", "-detailed-exitcode")
	switch pcode {
	case 0:
		m.converged = true
		m.checkRuns(pout, m.state())
		// Due before the plan started, so before it refreshed (a plan
		// that refreshed just before resume_at and ended after it is
		// rightly empty).
		if st := m.state(); st.dueAt(planStart) && m.timeGateAt(st) {
			m.violate("g: plan empty after a time gate's wait", pout, "paused at %v%% with resume_at %s, the plan started %s: the first plan after resume_at continues the rollout",
				st.pausedAt(), *st.ResumeAt, planStart.UTC().Format(time.RFC3339Nano))
		}
	case 2:
		if st := m.state(); st.due() || m.dueNow(st) {
			// The wait of the time gate it paused at was over before the
			// plan: the plan continues the rollout.
			m.logf("    (a time gate opened before this plan: it continues the rollout)")
			break
		}
		kind := "d: plan not empty after a successful apply"
		if revert {
			kind = "d: plan not empty after a revert"
			if left := m.leftAlone(pre, post); len(left) > 0 && m.pauses[m.cfg.Version] == nil {
				kind += " that left targets running neither version"
				m.logf("    (the revert left %s alone)", strings.Join(left, ", "))
			}
		}
		m.violate(kind, pout, "plan -detailed-exitcode exited 2 after a successful apply on an unchanged fleet:\n%s", planDiff(pout))
	default:
		m.violate("d: plan failed after a successful apply", pout, "plan -detailed-exitcode exited %d: %s", pcode, firstError(pout))
	}
}
