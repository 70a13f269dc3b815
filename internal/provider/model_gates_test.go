package provider

// Invariant g of TestAccModel_randomSequences (model_acc_test.go): gates
// across applies (DESIGN §4.3), checked against the simulated fleet and
// router.

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

// updateHold follows the gate the rollout is paused at, after a step.
func (m *modelRun) updateHold() {
	st := m.state()
	r := m.f.Router()
	switch {
	case !st.present:
		m.hold = nil
	case st.paused() && st.PausedAt != nil:
		bg := st.Strategy == "blue_green"
		if h := m.hold; h == nil || h.version != st.Version || h.at != *st.PausedAt || h.bg != bg {
			m.hold = &gateHold{version: st.Version, at: *st.PausedAt, bg: bg}
		}
	case m.hold == nil:
	case st.Version != m.hold.version:
		m.hold = nil // moved on: abandoned, reverted or another version
	case m.hold.bg && r.Version == m.hold.version:
		m.hold = nil // switched
	case !m.hold.bg && (r.Weights[m.hold.version] > m.hold.at || r.Weights[m.hold.version] == 0):
		m.hold = nil // past the gate, or its traffic taken away
	}
}

// checkPaused: what state says of a paused rollout agrees with the router.
// start is the state before the step.
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
		if g, ok := m.cfg.gateAt(at); ok && m.cfg.Strategy == "canary" && (g.Wait == "") != (st.ResumeAt == nil) {
			kept := start.paused() && start.Version == st.Version && start.pausedAt() == at && strp(start.ResumeAt) == strp(st.ResumeAt) &&
				canonicalJSON(start.raw["deployed_at"]) == canonicalJSON(st.raw["deployed_at"])
			if kept {
				// Contract question (reported): the gate the rollout is
				// paused at changed kind since it paused, and resume_at
				// stays what the pause set. A manual gate made a time gate
				// has no resume_at and never opens by itself (only an
				// approval of nothing, a revert, a new version or removing
				// the gate get past it).
				m.logf("    (contract question: the gate at %v%% is now %s, resume_at stays %s)", at, g, strp(st.ResumeAt))
			} else {
				// A time gate without resume_at never opens; a manual one
				// with it would look as if it opened by itself.
				problems = append(problems, fmt.Sprintf("paused at the gate %s with resume_at %s", g, strp(st.ResumeAt)))
			}
		}
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
		m.violate("g: a paused state disagrees with the router", m.lastOut, "%s", strings.Join(problems, "; "))
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
// failed: the apply reverts (DESIGN §4.3).
func (m *modelRun) isRevert(prior modelState) bool {
	c := &m.cfg
	return prior.present && (prior.Status == "paused" || prior.Status == "failed") && prior.Strategy == c.Strategy &&
		prior.PreviousVersion != nil && *prior.PreviousVersion == c.Version && prior.Version != c.Version
}

// checkGates is invariant g after a successful apply. clean: no fault, no
// service down, nothing stale; savedPlan: the world changed after the plan;
// afterPartial: the apply after a revert that left targets (partialRevert).
func (m *modelRun) checkGates(out string, prior, after modelState, pre, post worldSnap, due, clean, savedPlan, afterPartial bool) {
	c := &m.cfg
	v := c.Version
	if !after.present || (c.Strategy != "canary" && c.Strategy != "blue_green") {
		return
	}
	if after.Status == "rolled_back" {
		// A revert (no rollout ends rolled_back successfully), or
		// settings changed after one.
		if m.isRevert(prior) && prior.paused() {
			m.checkRevert(out, prior, after, pre, post)
		}
		return
	}
	work := post.deploys != pre.deploys || m.routerCalls(pre, post)
	continuation := prior.paused() && prior.Strategy == c.Strategy && prior.Version == v
	fresh := !prior.present || (prior.Version != v && (prior.PreviousVersion == nil || *prior.PreviousVersion != v))

	// Where it stops.
	want := ""
	var wantAt float64
	switch {
	case c.Strategy == "canary" && continuation:
		wantAt = c.canaryStop(prior.traffic(), true, due)
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
	if afterPartial {
		// Contract question (reported): see partialRevert.
		m.logf("    (after a revert to %s that left targets: gate checks excused)", v)
		return
	}
	switch c.Strategy {
	case "canary":
		// The share the version had: traffic_percentage when state saved
		// it (the stable version has no weight of its own), else its
		// weight.
		t0, t1 := pre.router.Weights[v], post.router.Weights[v]
		if prior.present && prior.Strategy == "canary" && prior.Version == v {
			t0 = prior.traffic()
		}
		for _, g := range c.Gates {
			at := float64(g.At)
			if t0 < at && at < t1 && (g.Wait != "" || !c.approves(at)) {
				m.violate("g: a canary passed a closed gate", out, "the router's weight of %s went %v → %v past the gate %s (approve %q through %v)", v, t0, t1, g, c.ApproveVersion, c.approveThrough())
			}
		}
		if h := m.hold; h != nil && !h.bg && !h.opened && h.version == v && t0 == h.at && t1 > h.at {
			if _, ok := c.gateAt(h.at); ok {
				m.violate("g: a canary went on from the gate it was paused at, which never opened", out,
					"paused at %v%% earlier; the router's weight of %s went %v → %v (state before: %s)", h.at, v, t0, t1, stateSummary(prior))
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
