package provider

// The invariants the model-based test (model_acc_test.go) checks after a
// step: what a failed apply leaves, what a no-op leaves alone, and that
// state and the fleet agree.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

// leftAlone lists the configured targets that ran neither the version
// reverted to nor the abandoned one (a revert leaves them alone) and do
// not run the version after it.
func (m *modelRun) leftAlone(pre, post worldSnap) []string {
	var out []string
	for _, t := range m.cfg.Targets {
		if v := post.versions[t.Fleet]; v != m.cfg.Version && pre.versions[t.Fleet] == v && !m.stale[t.Fleet] {
			if _, faulted := m.faults[t.Fleet]; !faulted {
				out = append(out, t.Fleet+"="+v)
			}
		}
	}
	return out
}

// checkRuns is invariant j: when the plan after a successful apply is
// empty and the rollout is not paused, every configured target (blue/green:
// of the serving slot) runs the configured version, but those a fault
// keeps from it.
func (m *modelRun) checkRuns(out string, st modelState) {
	c := &m.cfg
	if !st.present || st.paused() || !c.ExpectVersion || len(m.stale) > 0 {
		return
	}
	fleet := m.f.Versions()
	var off []string
	for _, t := range c.Targets {
		if c.Strategy == "blue_green" && (st.ActiveSlot == nil || t.Slot != *st.ActiveSlot) {
			continue
		}
		if _, faulted := m.faults[t.Fleet]; !faulted && fleet[t.Fleet] != c.Version {
			off = append(off, t.Fleet+" runs "+fleet[t.Fleet])
		}
	}
	if len(off) > 0 {
		m.violate("j: plan empty while targets do not run the version", out, "%s of %s, %s: %s", c.Strategy, c.Version, stateSummary(st), strings.Join(off, ", "))
	}
}

// checkFailedApply is invariant c.
func (m *modelRun) checkFailedApply(out, flat string, prior, after modelState, pre, post worldSnap) {
	cfgVersion := m.cfg.Version
	replaced := strings.Contains(flat, "codomyrmex_deployment.web: Destroying")
	if replaced {
		// A tainted deployment was replaced: its destroy rolled back on
		// purpose.
		m.logf("    (replacement: fleet check c skipped)")
		return
	}
	if m.isRevert(prior) {
		// A revert is a rollback, not a rollout: the
		// abandoned version's traffic goes first, what it did not undo
		// stays, and state says what runs (invariant b).
		m.logf("    (a failed revert: check c does not apply)")
		return
	}
	if prior.paused() && prior.Strategy == "canary" && m.cfg.Strategy == "canary" && prior.Version == cfgVersion && after.present && after.Version != cfgVersion {
		// Resuming past a gate measures the paused stage once more; its
		// failure condemns the version: every target running
		// it goes back to previous_version and its weight to 0, including
		// what earlier applies did.
		m.logf("    (a failed resume abandoned %s: checking that it was taken away)", cfgVersion)
		m.checkAbandoned(out, prior, pre, post)
		m.abandoned = cfgVersion
		return
	}

	// A failed repair keeps version and previous_version.
	if prior.present && prior.Version == cfgVersion && m.someActiveRuns(prior, pre.versions, cfgVersion) {
		if !after.present {
			m.violate("c: failed repair removed the deployment from state", out, "the state had version %q", prior.Version)
		} else if after.Version != prior.Version || strp(after.PreviousVersion) != strp(prior.PreviousVersion) {
			m.violate("c: failed repair rewrote version/previous_version", out,
				"a failed repair of %q (version unchanged) saved version %q previous_version %s; before: version %q previous_version %s",
				cfgVersion, after.Version, strp(after.PreviousVersion), prior.Version, strp(prior.PreviousVersion))
		}
	}

	lower := strings.ToLower(flat)
	switch {
	case !m.cfg.AutoRollback || strings.Contains(lower, "auto_rollback is off"):
		return // nothing is rolled back: the fleet may be partly updated
	case strings.Contains(lower, "previous version unknown") || strings.Contains(lower, "previous_version is unknown"):
		return // nothing can be rolled back
	}

	// Fleet: every target at the version it ran before. The kind says how
	// a target differs: still at the failed version, "restored" to
	// previous_version although it ran another one, or something else.
	rollbackTo := ""
	if r := rolledBackTo.FindStringSubmatch(flat); r != nil && r[1] != "previous_version" {
		rollbackTo = r[1]
	} else if prior.present && prior.Version != cfgVersion {
		rollbackTo = prior.Version
	} else if prior.present && prior.PreviousVersion != nil {
		rollbackTo = *prior.PreviousVersion
	}
	diffs := map[string][]string{}
	for _, x := range slices.Sorted(maps.Keys(pre.versions)) {
		b, a := pre.versions[x], post.versions[x]
		if a == b {
			continue
		}
		if m.cfg.Strategy == "blue_green" && m.routerDown && a == cfgVersion {
			// The switch failed and could not be switched back: the idle
			// slot keeps the new version rather than risk downgrading a slot
			// that may serve traffic (TestAccReliability_routerDownDuringSwitch).
			continue
		}
		if m.stale[x] && prior.present && prior.TargetVersions[m.targetID(x)] == a {
			// The target drifted after the refresh this apply's plan read
			// (a saved plan applied later): the rollback restores what
			// state knew it to run. The apply reads no target it was not
			// going to deploy to; the next refresh sees the drift.
			continue
		}
		if !m.cfg.ExpectVersion && prior.present && prior.TargetVersions[m.targetID(x)] == a {
			// Without expect_version, state cannot see a drift (a reported
			// version is information): the rollback restores the version
			// state knew the target to run.
			continue
		}
		if f, ok := m.faults[x]; ok && (f.FailVersion == "" || f.FailVersion == b || f.FailVersion == rollbackTo) {
			// A fault keeps the target from being restored, or its health
			// from confirming it: the rollback could not be done.
			continue
		}
		how := "target changed to another version"
		switch a {
		case cfgVersion:
			how = "target left at the failed version"
		case rollbackTo:
			how = "target set to previous_version instead of the version it ran"
		}
		diffs[how] = append(diffs[how], fmt.Sprintf("%s %s→%s", x, b, a))
	}
	for _, how := range slices.Sorted(maps.Keys(diffs)) {
		m.violate("c: failed apply did not restore the fleet: "+how, out,
			"failed apply of %q (%s, auto_rollback on, previous version known): %s",
			cfgVersion, m.cfg.Strategy, strings.Join(diffs[how], ", "))
	}
	// A new version that failed on top of a paused release and was rolled
	// back everywhere leaves that release's pause as it was; with the
	// router down, where traffic stands is not known to the provider (its
	// weights could not be reset), so the release is kept but not paused.
	if prior.paused() && prior.Version != cfgVersion && maps.Equal(pre.versions, post.versions) &&
		post.router.Weights[prior.Version] == pre.router.Weights[prior.Version] && pre.router.ActiveSlot == post.router.ActiveSlot {
		const kind = "c: a failed apply on top of a paused release did not keep its pause"
		if m.routerDown && after.present && !after.paused() {
			m.checkReleaseKept(kind, out, prior, after, false)
		} else {
			m.checkPauseKept(kind, out, prior, after)
		}
	}

	// Traffic: the router's active slot, the live version's weight, the
	// failed version's weight, the flag.
	if pre.router.ActiveSlot != post.router.ActiveSlot {
		m.violate("c: failed apply moved the router's active slot", out, "active slot %q → %q", pre.router.ActiveSlot, post.router.ActiveSlot)
	}
	if live := prior.Version; prior.present && post.router.Weights[live] < pre.router.Weights[live] {
		m.violate("c: failed apply lowered the live version's traffic", out,
			"router weight of the live version %q: %v → %v (failed apply of %q)", live, pre.router.Weights[live], post.router.Weights[live], cfgVersion)
	}
	if (!prior.present || prior.Version != cfgVersion) && post.router.Weights[cfgVersion] > pre.router.Weights[cfgVersion] {
		m.violate("c: failed apply left traffic on the failed version", out,
			"router weight of %q: %v → %v", cfgVersion, pre.router.Weights[cfgVersion], post.router.Weights[cfgVersion])
	}
	if pre.flagPct != post.flagPct {
		m.violate("c: failed apply changed the flag percentage", out,
			"flag %s: %v%% (published %v) → %v%% (published %v)", modelFlag, pre.flagPct, pre.flagOK, post.flagPct, post.flagOK)
	}
}

// rolledBackTo finds the version a failed rollout rolled back to in the
// apply's (flattened) output.
var rolledBackTo = regexp.MustCompile(`(?:rolled back to|rollback to) ([^\s:;,]+)`)

// someActiveRuns: before the apply, some target of the state's active set
// ran version, so the refresh kept it as the state's version and the apply
// was a repair. A target whose health answers are faulted may have been
// read as running another version (one reporting 9.9.9): it does not count.
func (m *modelRun) someActiveRuns(st modelState, fleet map[string]string, version string) bool {
	for _, t := range st.Targets {
		if st.Strategy == "blue_green" && st.ActiveSlot != nil && (t.Slot == nil || *t.Slot != *st.ActiveSlot) {
			continue
		}
		if x := m.fleetID(t.Address); x != "" && fleet[x] == version && !m.healthFaulted(x, version) {
			return true
		}
	}
	return false
}

// modelComputed are the computed attributes an equivalent edit must keep.
var modelComputed = []string{"version", "status", "previous_version", "active_slot", "traffic_percentage", "targets_updated",
	"targets_failed", "duration_ms", "deployed_at", "target_versions", "changed_targets", "strategy"}

// checkNothingChanged is invariant e.
func (m *modelRun) checkNothingChanged(out string, prior, after modelState, pre, post worldSnap) {
	if post.deploys != pre.deploys {
		m.violate("e: an edit that changes nothing that runs deployed", out, "%d deploy calls", post.deploys-pre.deploys)
	}
	for _, k := range []string{simulator.CallSwitch, simulator.CallWeights, simulator.CallFlagPut} {
		if n := post.calls[k] - pre.calls[k]; n != 0 {
			m.violate("e: an edit that changes nothing that runs called the router or flag service", out, "%d %s calls", n, k)
		}
	}
	if !prior.present || !after.present {
		return
	}
	var diffs []string
	for _, k := range modelComputed {
		if a, b := canonicalJSON(prior.raw[k]), canonicalJSON(after.raw[k]); a != b {
			diffs = append(diffs, fmt.Sprintf("%s %s → %s", k, a, b))
		}
	}
	if len(diffs) > 0 {
		m.violate("e: an edit that changes nothing that runs changed computed values", out, "%s", strings.Join(diffs, "; "))
	}
}

func canonicalJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "absent"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// checkStateMatchesFleet is invariant b.
func (m *modelRun) checkStateMatchesFleet() {
	st := m.state()
	if !st.present {
		return
	}
	fleet := m.f.Versions()
	var problems []string
	for _, t := range st.Targets {
		v, ok := st.TargetVersions[t.ID]
		if !ok {
			continue
		}
		if v == "" {
			problems = append(problems, fmt.Sprintf("target_versions[%s] = \"\" (a version is never recorded as empty)", t.ID))
			continue
		}
		x := m.fleetID(t.Address)
		if x == "" || m.stale[x] || m.healthFaulted(x, fleet[x]) {
			continue
		}
		if v != fleet[x] && !m.cfg.ExpectVersion {
			// Without expect_version a reported version is information, not
			// drift: state keeps what was deployed, and a target that drifted
			// cannot be told from one that reports another version.
			continue
		}
		if v != fleet[x] {
			problems = append(problems, fmt.Sprintf("target_versions[%s] = %q but /t/%s, its address, runs %q", t.ID, v, x, fleet[x]))
		}
	}
	if len(problems) > 0 {
		m.violate("b: state does not match the fleet", m.lastOut, "%s", strings.Join(problems, "; "))
	}
}

// --- output helpers ---

func stateSummary(s modelState) string {
	if !s.present {
		return "no deployment in state"
	}
	var tv []string
	for _, k := range slices.Sorted(maps.Keys(s.TargetVersions)) {
		tv = append(tv, k+"="+s.TargetVersions[k])
	}
	taint := ""
	if s.tainted {
		taint = " (tainted)"
	}
	paused := ""
	if s.paused() {
		paused = fmt.Sprintf(" paused_at=%v resume_at=%s", s.pausedAt(), strp(s.ResumeAt))
	}
	return fmt.Sprintf("state version=%s previous=%s status=%s%s traffic=%v%s target_versions={%s}",
		s.Version, strp(s.PreviousVersion), s.Status, paused, s.traffic(), taint, strings.Join(tv, " "))
}

var (
	errorLine  = regexp.MustCompile(`Error: ([^\n]*)`)
	sourceLine = regexp.MustCompile(`^\d+:`)
)

// firstError is the first error summary of a CLI output, with the first
// line of its detail.
func firstError(out string) string {
	loc := errorLine.FindStringSubmatchIndex(out)
	if loc == nil {
		return "(no error message)"
	}
	summary := out[loc[2]:loc[3]]
	rest := strings.Split(out[loc[1]:], "\n")
	for _, l := range rest {
		l = strings.TrimSpace(strings.Trim(l, "│ "))
		if l != "" && !strings.HasPrefix(l, "with ") && !strings.HasPrefix(l, "on ") && !sourceLine.MatchString(l) {
			return summary + ": " + l
		}
	}
	return summary
}

// planDiff keeps the lines of a plan that show a change.
func planDiff(out string) string {
	var b bytes.Buffer
	for _, l := range strings.Split(out, "\n") {
		tl := strings.TrimSpace(l)
		if strings.Contains(l, "->") || strings.HasPrefix(tl, "~ ") || strings.HasPrefix(tl, "+ ") || strings.HasPrefix(tl, "- ") ||
			strings.HasPrefix(tl, "# ") || strings.HasPrefix(tl, "Plan:") {
			b.WriteString(l + "\n")
		}
	}
	return tail(b.String(), 2000)
}

// checkNotices checks the notifications of an apply that ran to its end:
// when it sent any, the last is the status it ended with (completed,
// paused, failed or rolled_back), the status state saved; a create rolled
// back saves no state and ends in rolled_back.
func (m *modelRun) checkNotices(out string, after modelState) {
	kinds := m.world.notices.Kinds()
	if len(kinds) == 0 {
		return
	}
	m.logf("    notices: %s", strings.Join(kinds, ", "))
	last := kinds[len(kinds)-1]
	want := after.Status
	if !after.present {
		want = string(strategies.StatusRolledBack)
	}
	if !slices.Contains([]string{"completed", "paused", "failed", "rolled_back"}, last) || last != want {
		m.violate("n: notifications do not end in the saved status", out, "the apply sent %s; state saved status %q", strings.Join(kinds, ", "), after.Status)
	}
}
