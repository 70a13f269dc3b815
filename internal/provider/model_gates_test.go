package provider

// Invariant g of TestAccModel_randomSequences (model_acc_test.go): gates
// across applies, checked against the simulated fleet and router.

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// modelStageGoal is how many of n targets run the version after a canary
// stage at pct: ceil(n × pct / 100), at least 1.
func modelStageGoal(n int, pct float64) int {
	g := int(math.Ceil(float64(n)*pct/100 - 1e-9))
	return min(max(g, 1), n)
}

// waitTimeGate sleeps until the short time gate the rollout is paused at
// has waited long enough, so that every step after a pause at one sees it
// open whatever the machine's speed (the CLI runs on the real clock).
func (m *modelRun) waitTimeGate() {
	st := m.state()
	ra := st.resumeAt()
	if !st.paused() || ra.IsZero() || time.Until(ra) > time.Minute {
		return
	}
	m.converged = false // the plan is no longer empty once it opens
	// resume_at has whole seconds and the gate opens at it.
	if d := time.Until(ra) + 300*time.Millisecond; d > 0 {
		m.logf("    (waiting %s for the time gate at %v%%)", d.Round(100*time.Millisecond), st.pausedAt())
		time.Sleep(d)
	}
}

// checkTimeGatePlan: after a time gate's wait, the plan continues.
func (m *modelRun) checkTimeGatePlan() {
	st := m.state()
	if !st.due() {
		m.logf("    (not paused at a time gate: nothing to wait for)")
		return
	}
	out, code := m.cli("plan", "-detailed-exitcode")
	if code == 0 {
		m.violate("g: plan empty after a time gate's wait", out, "paused at %v%% with resume_at %s, now %s: the first plan after resume_at continues the rollout",
			st.pausedAt(), *st.ResumeAt, time.Now().UTC().Format(time.RFC3339))
	}
}

// holdOf is the hold of the pause st is in (nil if the model has none).
func (m *modelRun) holdOf(st modelState) *gateHold {
	h := m.hold
	if h == nil || !st.paused() || h.version != st.Version || h.at != st.pausedAt() || h.bg != (st.Strategy == "blue_green") {
		return nil
	}
	return h
}

// timeGateAt: st is paused at a canary gate the configuration makes a
// time gate.
func (m *modelRun) timeGateAt(st modelState) bool {
	g, ok := m.cfg.gateAt(st.pausedAt())
	return st.paused() && st.Strategy == "canary" && m.cfg.Strategy == "canary" && ok && g.Wait != ""
}

// gateDue: the time gate prior is paused at was due for the plan that the
// CLI run made (its refresh came between the run's start and end): the
// gate was reached, plus the configured wait, before the refresh (the
// plan decides, from the configuration, never the apply's clock). sure is
// false when it became due while the plan ran.
func (m *modelRun) gateDue(prior modelState, run cliRun) (due, sure bool) {
	if !m.timeGateAt(prior) {
		return false, true
	}
	g, _ := m.cfg.gateAt(prior.pausedAt())
	h := m.holdOf(prior)
	if h == nil {
		return prior.due(), false
	}
	lo, hi := h.reachedLo.Add(g.waitDuration()), h.reachedHi.Add(g.waitDuration())
	switch {
	case !hi.After(run.start):
		return true, true
	case lo.After(run.end):
		return false, true
	}
	return true, false
}

// dueNow: the time gate st is paused at may be due now.
func (m *modelRun) dueNow(st modelState) bool {
	now := time.Now()
	due, sure := m.gateDue(st, cliRun{start: now, end: now})
	return due || !sure
}

// openHold records that an apply starts at the gate the rollout is paused
// at while that gate is open.
func (m *modelRun) openHold(prior modelState, due bool) {
	h, c := m.hold, &m.cfg
	if h == nil || h.opened || h.version != c.Version || !prior.paused() || prior.pausedAt() != h.at {
		return
	}
	if h.bg {
		h.opened = c.Strategy != "blue_green" || !c.PauseBeforeSwitch || c.ApproveVersion == c.Version
		return
	}
	g, ok := c.gateAt(h.at)
	switch {
	case c.Strategy != "canary" || !ok:
		h.opened = true // no gate there any more
	case g.Wait == "":
		h.opened = c.approves(h.at)
	default:
		h.opened = due
	}
	if h.opened {
		m.logf("    (the gate at %v%% is open for this apply)", h.at)
	}
}

// updateHold follows the gate the rollout is paused at, and the pauses of
// the releases a revert may go back to, after a step.
func (m *modelRun) updateHold() {
	st := m.state()
	r := m.f.Router()
	defer m.prunePauses(st)
	switch {
	case !st.present:
		m.hold = nil
	case st.paused() && st.PausedAt != nil:
		bg := st.Strategy == "blue_green"
		h := m.holdOf(st)
		switch {
		case h != nil && h.lapsed:
			// Not paused in between (a failed resume): the gate is reached
			// anew.
			h = m.newHold(st, bg)
		case h != nil && m.applyFailed:
			h.opened = false // back at the gate: it has to open again
		case h != nil:
		case m.revertedTo == st.Version && m.pauses[st.Version] != nil && m.pauses[st.Version].at == *st.PausedAt && m.pauses[st.Version].bg == bg:
			h = m.pauses[st.Version] // a revert restored the release's pause
			h.opened, h.lapsed = false, false
		default:
			h = m.newHold(st, bg)
		}
		m.hold = h
		m.pauses[st.Version] = h
	case m.revertedTo == st.Version && m.pauses[st.Version] != nil:
		// The release reverted to stands at its gate (the contract: its
		// pause restored), whatever the state says, until an apply finds
		// the gate open.
		m.hold = m.pauses[st.Version]
		m.hold.opened = false
	case m.hold == nil:
	case st.Version != m.hold.version:
		m.hold = nil // moved on: abandoned, reverted or another version
	case m.hold.bg && r.Version == m.hold.version:
		m.hold = nil // switched
	case !m.hold.bg && (r.Weights[m.hold.version] > m.hold.at || r.Weights[m.hold.version] == 0):
		m.hold = nil // past the gate, or its traffic taken away
	default:
		m.hold.lapsed = true // still at the gate, no longer paused there
	}
}

// newHold is the pause st is in, reached during the last apply: after the
// last call it made to the world, and, at a time gate, wait before
// resume_at (whole seconds).
func (m *modelRun) newHold(st modelState, bg bool) *gateHold {
	h := &gateHold{version: st.Version, at: *st.PausedAt, bg: bg,
		reachedLo: m.lastApply.start, reachedHi: m.lastApply.end}
	if st.PreviousVersion != nil {
		p := *st.PreviousVersion
		h.prev = &p
	}
	for _, e := range m.world.since(m.lastApply.mark) {
		if e.At.After(h.reachedLo) && e.At.Before(h.reachedHi) {
			h.reachedLo = e.At
		}
	}
	fleet := m.f.Versions()
	h.fleet = map[string]string{}
	for _, t := range m.cfg.Targets {
		h.fleet[t.Fleet] = fleet[t.Fleet]
	}
	if g, ok := m.cfg.gateAt(h.at); ok && !bg && g.Wait != "" && m.appliedCfg == m.cfg.render("") {
		if ra := st.resumeAt(); !ra.IsZero() {
			lo, hi := ra.Add(-g.waitDuration()-time.Second), ra.Add(-g.waitDuration()+time.Second)
			if lo.Before(h.reachedHi) && hi.After(h.reachedLo) {
				h.reachedLo, h.reachedHi = maxTime(lo, h.reachedLo), minTime(hi, h.reachedHi)
			}
		}
	}
	return h
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// prunePauses keeps the pauses of the releases a revert may go back to:
// the saved version and previous_version, and the paused releases each was
// rolled out on top of (the provider remembers five), until one completes.
func (m *modelRun) prunePauses(st modelState) {
	if !st.present || st.Status == "completed" {
		clear(m.pauses)
		return
	}
	delete(m.pauses, m.abandoned)
	keep := map[string]bool{}
	for _, from := range []*string{&st.Version, st.PreviousVersion} {
		for v, n := from, 0; v != nil && !keep[*v] && n <= 5; n++ {
			keep[*v] = true
			h := m.pauses[*v]
			if h == nil {
				break
			}
			v = h.prev
		}
	}
	for v := range m.pauses {
		if !keep[v] {
			delete(m.pauses, v)
		}
	}
}

// checkPaused: what state says of a paused rollout agrees with the router,
// and resume_at with the configuration (start is the state before the
// step).
func (m *modelRun) checkPaused(start modelState) {
	st := m.state()
	if !st.paused() {
		return
	}
	r := m.f.Router()
	var problems []string
	switch {
	case st.PausedAt == nil:
		problems = append(problems, "status paused but paused_at null")
	case st.Strategy == "canary":
		at := *st.PausedAt
		if st.traffic() != at {
			problems = append(problems, fmt.Sprintf("traffic_percentage %v, paused_at %v", st.traffic(), at))
		}
		if w := r.Weights[st.Version]; w != at {
			problems = append(problems, fmt.Sprintf("the router's weight of %s is %v, paused_at %v", st.Version, w, at))
		}
		m.checkResumeAt(st)
	case st.Strategy == "blue_green":
		// A blue/green that never switched (no active_slot) whose version
		// already ran everywhere keeps the traffic_percentage the previous
		// strategy saved (a change of strategy).
		if *st.PausedAt != 0 || (st.traffic() != 0 && st.ActiveSlot != nil) || st.ResumeAt != nil {
			problems = append(problems, fmt.Sprintf("paused before the switch with paused_at %v, traffic_percentage %v, resume_at %s", *st.PausedAt, st.traffic(), strp(st.ResumeAt)))
		}
		if st.ActiveSlot != nil && *st.ActiveSlot != r.ActiveSlot {
			problems = append(problems, fmt.Sprintf("active_slot %s but the router serves %q", strp(st.ActiveSlot), r.ActiveSlot))
		}
	default:
		problems = append(problems, "paused with strategy "+st.Strategy)
	}
	if len(problems) > 0 {
		m.violate("g: a paused state disagrees with the router", m.lastOut, "%s (state before the step: %s)", strings.Join(problems, "; "), stateSummary(start))
	}
}

// checkResumeAt: paused at a canary gate, resume_at is the time the gate
// was reached plus the gate's configured wait (null for a manual gate),
// once an apply ran with the configuration.
func (m *modelRun) checkResumeAt(st modelState) {
	if m.appliedCfg != m.cfg.render("") || m.cfg.Strategy != "canary" {
		return
	}
	g, ok := m.cfg.gateAt(st.pausedAt())
	if !ok {
		return // a removed gate is open: where the apply stopped is g's
	}
	kind := "g: resume_at is not the time the gate was reached + its wait"
	if m.applyFailed {
		kind += " (after a failed apply)"
	}
	switch {
	case g.Wait == "" && st.ResumeAt != nil:
		m.violate(kind, m.lastOut, "paused at the manual gate %s with resume_at %s", g, *st.ResumeAt)
	case g.Wait != "" && st.ResumeAt == nil:
		m.violate(kind, m.lastOut, "paused at the time gate %s with resume_at null: it never opens", g)
	case g.Wait != "":
		h := m.holdOf(st)
		if h == nil {
			return
		}
		ra, w := st.resumeAt(), g.waitDuration()
		lo, hi := h.reachedLo.Add(w-time.Second), h.reachedHi.Add(w+time.Second)
		if ra.Before(lo) || ra.After(hi) {
			m.violate(kind, m.lastOut, "paused at the gate %s with resume_at %s; the gate was reached between %s and %s",
				g, *st.ResumeAt, h.reachedLo.UTC().Format(time.RFC3339Nano), h.reachedHi.UTC().Format(time.RFC3339Nano))
		}
	}
}

// knownAt counts the configured targets running v before the apply whose
// version state knew (same id and address): a canary's stages count them
// as done.
func (m *modelRun) knownAt(prior modelState, pre worldSnap, v string) int {
	if !prior.present {
		return 0
	}
	n := 0
	for _, t := range m.cfg.Targets {
		for _, p := range prior.Targets {
			if _, ok := prior.TargetVersions[p.ID]; ok && p.ID == t.ID && m.fleetID(p.Address) == t.Fleet && pre.versions[t.Fleet] == v {
				n++
			}
		}
	}
	return n
}

// changedTo lists the configured targets (of slot, if not "") that the
// apply changed to v.
func (m *modelRun) changedTo(pre, post worldSnap, v, slot string) []string {
	var out []string
	for _, t := range m.cfg.Targets {
		if slot != "" && t.Slot != slot {
			continue
		}
		if pre.versions[t.Fleet] != v && post.versions[t.Fleet] == v {
			out = append(out, t.Fleet)
		}
	}
	return out
}

func (m *modelRun) healthFaultOnTargets() bool {
	for _, t := range m.cfg.Targets {
		if f, ok := m.faults[t.Fleet]; ok && healthFault(f) {
			return true
		}
	}
	return false
}

func (m *modelRun) routerCalls(pre, post worldSnap) bool {
	return post.calls[simulator.CallWeights] != pre.calls[simulator.CallWeights] || post.calls[simulator.CallSwitch] != pre.calls[simulator.CallSwitch]
}

// isRevert: the configuration sets version back to the saved
// previous_version while the rollout of the saved version is paused or has
// failed: the apply reverts.
func (m *modelRun) isRevert(prior modelState) bool {
	c := &m.cfg
	return prior.present && (prior.Status == "paused" || prior.Status == "failed") && prior.Strategy == c.Strategy &&
		prior.PreviousVersion != nil && *prior.PreviousVersion == c.Version && prior.Version != c.Version
}

// checkGates is invariant g after a successful apply. due: the plan found
// the time gate the rollout was paused at due; sure: not in doubt; clean:
// no fault, no service down, nothing stale; savedPlan: the world changed
// after the plan.
func (m *modelRun) checkGates(out string, prior, after modelState, pre, post worldSnap, due, sure, clean, savedPlan bool) {
	c := &m.cfg
	v := c.Version
	if !after.present || (c.Strategy != "canary" && c.Strategy != "blue_green") {
		return
	}
	if m.isRevert(prior) {
		if rec := m.pauses[v]; rec != nil {
			m.checkRevertToPaused(out, prior, after, pre, post, rec, clean)
		} else if prior.paused() {
			m.checkRevert(out, prior, after, pre, post)
		}
		return
	}
	if after.Status == "rolled_back" {
		return // settings changed after a revert or a failure
	}
	work := post.deploys != pre.deploys || m.routerCalls(pre, post)
	continuation := prior.paused() && prior.Strategy == c.Strategy && prior.Version == v
	fresh := !prior.present || (prior.Version != v && (prior.PreviousVersion == nil || *prior.PreviousVersion != v))

	// Where it stops.
	want := ""
	var wantAt float64
	switch {
	case !sure:
		wantAt = -1
	case c.Strategy == "canary" && continuation:
		wantAt = c.canaryStop(prior.pausedAt(), true, due)
	case c.Strategy == "canary" && fresh && work:
		wantAt = c.canaryStop(0, false, false)
	case c.Strategy == "blue_green" && (continuation || (fresh && work && c.PauseBeforeSwitch)):
		wantAt = 100
		if c.PauseBeforeSwitch && c.ApproveVersion != v {
			wantAt = 0
		}
	default:
		wantAt = -1
	}
	switch {
	case wantAt < 0:
	case wantAt < 100:
		want = fmt.Sprintf("paused at %v", wantAt)
	default:
		want = "completed"
	}
	got := after.Status
	if after.paused() {
		got = fmt.Sprintf("paused at %v", after.pausedAt())
	}
	if want != "" && got != want {
		from := "a new rollout"
		if continuation {
			from = fmt.Sprintf("paused at %v%% (resume_at %s, due %v)", prior.pausedAt(), strp(prior.ResumeAt), due)
		}
		m.violate("g: a rollout did not stop at the first closed gate", out, "%s of %s from %s: want %s, state says %s", c.Strategy, v, from, want, got)
	}

	// What runs at a pause.
	if after.paused() && c.Strategy == "canary" {
		n := len(c.Targets)
		goal := modelStageGoal(n, after.pausedAt())
		at := 0
		for _, t := range c.Targets {
			if post.versions[t.Fleet] == v {
				at++
			}
		}
		if clean && at < goal {
			m.violate("g: paused before the stage's targets ran the version", out, "paused at %v%%: %d of %d targets run %s, want at least %d", after.pausedAt(), at, n, v, goal)
		}
		if c.ExpectVersion && !savedPlan && !m.healthFaultOnTargets() {
			changed := m.changedTo(pre, post, v, "")
			if most := max(0, goal-m.knownAt(prior, pre, v)); len(changed) > most {
				m.violate("g: a paused rollout deployed past its gate", out, "paused at %v%% (%d of %d targets): it changed %s to %s, at most %d may be",
					after.pausedAt(), goal, n, strings.Join(changed, ", "), v, most)
			}
		}
	}

	// Never past a closed gate.
	switch c.Strategy {
	case "canary":
		// The share the version had: traffic_percentage when state saved
		// it (the stable version has no weight of its own), else its
		// weight.
		t0, t1 := pre.router.Weights[v], post.router.Weights[v]
		switch {
		case prior.present && prior.Strategy == "canary" && prior.Version == v:
			t0 = prior.traffic()
		case prior.present && prior.Version == v && prior.Status == "completed":
			// Another strategy completed v: a canary taking it over counts
			// it as out (docs/resources/deployment.md, Strategy change).
			t0 = 100
		}
		for _, g := range c.Gates {
			at := float64(g.At)
			if t0 < at && at < t1 && (g.Wait != "" || !c.approves(at)) {
				m.violate("g: a canary passed a closed gate", out, "the router's weight of %s went %v → %v past the gate %s (approve %q through %v)", v, t0, t1, g, c.ApproveVersion, c.approveThrough())
			}
		}
		if h := m.hold; h != nil && !h.bg && !h.opened && h.version == v && sure {
			w0, w1 := pre.router.Weights[v], post.router.Weights[v]
			n0, n1 := m.runningOf(pre, v), m.runningOf(post, v)
			goal := modelStageGoal(len(c.Targets), h.at)
			beyond := (w1 > h.at && w1 > w0) || (clean && c.ExpectVersion && n1 > max(goal, n0))
			if _, ok := c.gateAt(h.at); ok && beyond {
				m.violate("g: a canary went on from the gate it was paused at, which never opened", out,
					"paused at %v%% earlier; the router's weight of %s went %v → %v, the targets running it %d → %d (state before: %s)",
					h.at, v, w0, w1, n0, n1, stateSummary(prior))
			}
		}
	case "blue_green":
		switched := post.calls[simulator.CallSwitch] != pre.calls[simulator.CallSwitch]
		if h := m.hold; h != nil && h.bg && !h.opened && h.version == v && c.PauseBeforeSwitch {
			if switched {
				m.violate("g: a blue/green paused before its switch switched without approval", out, "router %+v → %+v", pre.router, post.router)
			}
			if slot := pre.router.ActiveSlot; slot != "" {
				if ch := m.changedTo(pre, post, v, slot); len(ch) > 0 {
					m.violate("g: a blue/green paused before its switch deployed to the serving slot", out,
						"%s (slot %s, serving) changed to %s (state before: %s)", strings.Join(ch, ", "), slot, v, stateSummary(prior))
				}
			}
		}
		if c.PauseBeforeSwitch && c.ApproveVersion != v && pre.router.Version != v && post.router.Version == v {
			m.violate("g: a blue/green switched to a version never approved", out, "router %+v → %+v", pre.router, post.router)
		}
	}
}

// checkRevert: version set back to previous_version while paused reverts
// at once.
func (m *modelRun) checkRevert(out string, prior, after modelState, pre, post worldSnap) {
	c := &m.cfg
	v, abandoned := c.Version, prior.Version
	m.logf("    (a revert from %s: checking it)", abandoned)
	var problems []string
	// previous_version is null after a revert: the version before v is not
	// known, and destroy must not deploy the abandoned one again.
	if after.Version != v || after.PreviousVersion != nil {
		problems = append(problems, fmt.Sprintf("state version %q previous_version %s, want %q and null", after.Version, strp(after.PreviousVersion), v))
	}
	if c.ExpectVersion && !m.healthFaultOnTargets() && len(m.stale) == 0 {
		for _, t := range c.Targets {
			if pre.versions[t.Fleet] != abandoned || !m.knownTarget(prior, t) {
				continue
			}
			if _, faulted := m.faults[t.Fleet]; !faulted && post.versions[t.Fleet] != v {
				problems = append(problems, fmt.Sprintf("%s ran %s and runs %s", t.Fleet, abandoned, post.versions[t.Fleet]))
			}
		}
	}
	switch c.Strategy {
	case "canary":
		if w := post.router.Weights[abandoned]; w != 0 {
			problems = append(problems, fmt.Sprintf("the router's weight of %s is %v", abandoned, w))
		}
		if after.traffic() != 100 {
			problems = append(problems, fmt.Sprintf("traffic_percentage %v", after.traffic()))
		}
	case "blue_green":
		if post.router.ActiveSlot != pre.router.ActiveSlot && pre.router.Version != abandoned {
			problems = append(problems, fmt.Sprintf("the router switched %q → %q though %s never served", pre.router.ActiveSlot, post.router.ActiveSlot, abandoned))
		}
	}
	if len(problems) > 0 {
		m.violate("g: a revert while paused did not take the abandoned version away", out, "%s", strings.Join(problems, "; "))
	}
}

// runningOf counts the configured targets running v in w.
func (m *modelRun) runningOf(w worldSnap, v string) int {
	n := 0
	for _, t := range m.cfg.Targets {
		if w.versions[t.Fleet] == v {
			n++
		}
	}
	return n
}

// checkRevertToPaused: version set back to a release that was itself
// paused (never completed) restores that release as it was:
// paused at the same gate with its previous_version and traffic share,
// the targets that ran it running it again, the others that run the
// abandoned version back at its previous_version.
func (m *modelRun) checkRevertToPaused(out string, prior, after modelState, pre, post worldSnap, rec *gateHold, clean bool) {
	c := &m.cfg
	v, abandoned := c.Version, prior.Version
	m.logf("    (a revert from %s to %s, itself paused at %v%%: checking that it is restored)", abandoned, v, rec.at)
	var problems []string
	g, gate := c.gateAt(rec.at)
	if rec.bg {
		gate = c.PauseBeforeSwitch
	}
	switch {
	case !gate:
		// The gate is gone from the configuration: the release is restored
		// at a gate that is open, and goes on as the next plan would.
		m.logf("    (no gate at %v%% any more: the pause is not checked)", rec.at)
	case c.approves(rec.at) || (!rec.bg && g.Wait != "" && !time.Now().Before(rec.reachedLo.Add(g.waitDuration()))):
		// Approved, or a time gate that is (or may be) due: open too.
		gate = false
		m.logf("    (the gate at %v%% is open: the pause is not checked)", rec.at)
	}
	if gate && (!after.paused() || after.Version != v || after.pausedAt() != rec.at) {
		problems = append(problems, fmt.Sprintf("state %s, want %s paused at %v", stateSummary(after), v, rec.at))
	}
	if strp(after.PreviousVersion) != strp(rec.prev) {
		problems = append(problems, fmt.Sprintf("previous_version %s, want %s (the paused release's)", strp(after.PreviousVersion), strp(rec.prev)))
	}
	switch {
	case !gate:
	case rec.bg:
		if post.router.ActiveSlot != pre.router.ActiveSlot && pre.router.Version != abandoned {
			problems = append(problems, fmt.Sprintf("the router switched %q → %q though %s never served", pre.router.ActiveSlot, post.router.ActiveSlot, abandoned))
		}
	default:
		if after.traffic() != rec.at {
			problems = append(problems, fmt.Sprintf("traffic_percentage %v, want its share %v", after.traffic(), rec.at))
		}
		if w := post.router.Weights[v]; w != rec.at {
			problems = append(problems, fmt.Sprintf("the router's weight of %s is %v, want %v", v, w, rec.at))
		}
	}
	if w := post.router.Weights[abandoned]; !rec.bg && w != 0 {
		problems = append(problems, fmt.Sprintf("the router's weight of %s is %v", abandoned, w))
	}
	// Without its gate, the revert goes on as the next plan would: its
	// targets are not those of the pause. Nor are they when the targets
	// changed since it paused: the restored release is repaired at its
	// gate (its share on the targets there are now).
	if gate && clean && c.ExpectVersion && !m.healthFaultOnTargets() && m.sameTargets(rec) {
		var wrong []string
		for _, t := range c.Targets {
			x := t.Fleet
			want := pre.versions[x]
			switch {
			case want == abandoned && rec.fleet[x] == abandoned:
				// It ran the abandoned version already when the release
				// paused: the abandoned rollout did not deploy it.
			case rec.ran(x) && (want == abandoned || want == v):
				want = v
			case rec.ran(x) && post.versions[x] == v:
				want = v // it ran the release, and got it back
			case want == abandoned && rec.prev != nil:
				want = *rec.prev
			}
			if post.versions[x] != want {
				wrong = append(wrong, fmt.Sprintf("%s %s→%s, want %s", x, pre.versions[x], post.versions[x], want))
			}
		}
		if len(wrong) > 0 {
			problems = append(problems, "targets: "+strings.Join(wrong, ", "))
		}
	}
	if len(problems) > 0 {
		m.violate("g: a revert to a paused release did not restore it", out, "%s", strings.Join(problems, "; "))
	}
}

// ran: fleet target x ran the release when it paused.
func (h *gateHold) ran(x string) bool { return h.fleet[x] == h.version }

// sameTargets: the configured targets are those there were when the
// release paused.
func (m *modelRun) sameTargets(rec *gateHold) bool {
	if len(rec.fleet) != len(m.cfg.Targets) {
		return false
	}
	for _, t := range m.cfg.Targets {
		if _, ok := rec.fleet[t.Fleet]; !ok {
			return false
		}
	}
	return true
}

// knownTarget: state knew configured target t (same id and address).
func (m *modelRun) knownTarget(st modelState, t mTarget) bool {
	for _, p := range st.Targets {
		if _, ok := st.TargetVersions[p.ID]; ok && p.ID == t.ID && m.fleetID(p.Address) == t.Fleet {
			return true
		}
	}
	return false
}

// checkAbandoned: a failed resume took the version away from every target
// and the router.
func (m *modelRun) checkAbandoned(out string, prior modelState, pre, post worldSnap) {
	v := m.cfg.Version
	var problems []string
	if w := post.router.Weights[v]; w != 0 && !m.routerDown {
		problems = append(problems, fmt.Sprintf("the router's weight of %s is %v", v, w))
	}
	if prior.PreviousVersion != nil && m.cfg.AutoRollback {
		for _, t := range m.cfg.Targets {
			if _, faulted := m.faults[t.Fleet]; faulted || m.stale[t.Fleet] || pre.versions[t.Fleet] != v {
				continue
			}
			if post.versions[t.Fleet] == v {
				problems = append(problems, fmt.Sprintf("%s still runs %s", t.Fleet, v))
			}
		}
	}
	if len(problems) > 0 {
		m.violate("g: a failed resume left the abandoned version", out, "%s", strings.Join(problems, "; "))
	}
}

// checkNoOp: an approval of another version calls nothing and keeps every
// computed value but changed_targets (settings changed: the update changes
// no target).
func (m *modelRun) checkNoOp(out, flat string, prior, after modelState, pre, post worldSnap) {
	if post.deploys != pre.deploys {
		m.violate("g: an approval of another version deployed", out, "%d deploy calls", post.deploys-pre.deploys)
	}
	for _, k := range []string{simulator.CallSwitch, simulator.CallWeights, simulator.CallFlagPut} {
		if n := post.calls[k] - pre.calls[k]; n != 0 {
			m.violate("g: an approval of another version called the router or flag service", out, "%d %s calls", n, k)
		}
	}
	if !m.cfg.FeedVersion && !strings.Contains(flat, "Approval ignored") {
		m.violate("g: an approval of another version without a warning", out, "approve.version %q, version %q: no \"Approval ignored\"", m.cfg.ApproveVersion, m.cfg.Version)
	}
	if !prior.present || !after.present {
		return
	}
	var diffs []string
	for _, k := range modelComputed {
		if k == "changed_targets" {
			continue
		}
		if a, b := canonicalJSON(prior.raw[k]), canonicalJSON(after.raw[k]); a != b {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", k, a, b))
		}
	}
	for _, k := range []string{"paused_at", "resume_at"} {
		if a, b := canonicalJSON(prior.raw[k]), canonicalJSON(after.raw[k]); a != b {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", k, a, b))
		}
	}
	if len(diffs) > 0 {
		m.violate("g: an approval of another version changed computed values", out, "%s", strings.Join(diffs, "; "))
	}
}

// checkDestroyPaused: destroy of a paused rollout follows on_destroy
// (rollback): every target back at previous_version, the version's weight
// 0; a blue/green that never switched is not switched.
func (m *modelRun) checkDestroyPaused(out string, prior modelState, pre, post worldSnap) {
	if !prior.paused() || prior.PreviousVersion == nil || !m.cfg.ExpectVersion {
		return
	}
	prev := *prior.PreviousVersion
	m.logf("    (destroy while paused: checking the rollback to %s)", prev)
	var problems []string
	for _, t := range prior.Targets {
		x := m.fleetID(t.Address)
		if x == "" || (prior.Strategy == "blue_green" && prior.ActiveSlot != nil && t.Slot != nil && *t.Slot == *prior.ActiveSlot) {
			continue
		}
		if post.versions[x] != prev {
			problems = append(problems, fmt.Sprintf("%s runs %s", x, post.versions[x]))
		}
	}
	switch prior.Strategy {
	case "canary":
		if w := post.router.Weights[prior.Version]; w != 0 {
			problems = append(problems, fmt.Sprintf("the router's weight of %s is %v", prior.Version, w))
		}
	case "blue_green":
		if n := post.calls[simulator.CallSwitch] - pre.calls[simulator.CallSwitch]; n != 0 {
			problems = append(problems, fmt.Sprintf("%d switch calls", n))
		}
	}
	if len(problems) > 0 {
		m.violate("g: destroy while paused did not roll back to previous_version", out, "%s", strings.Join(problems, "; "))
	}
}
