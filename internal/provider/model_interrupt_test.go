package provider

// Interrupted applies and saved plans across resume_at in
// TestAccModel_randomSequences (model_acc_test.go): the driver sends
// SIGINT at a chosen point of an apply (or lets timeouts.update expire
// there), and checks invariant h; it saves a plan before a time gate is
// due and applies it after (invariant g).

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// reached finds the call in events at which the driver interrupts.
func (in *mInterrupt) reached(events []modelEvent) (modelEvent, bool) {
	n := 0
	for _, e := range events {
		switch in.Point {
		case "deploy", "revert":
			if e.Kind == simulator.CallDeploy && e.Version == in.Version {
				if n++; n >= in.Nth {
					return e, true
				}
			}
		default:
			if e.Kind == "check" && e.Version == in.Version && (in.Stage == "" || e.Stage == in.Stage) {
				return e, true
			}
		}
	}
	return modelEvent{}, false
}

// runInterrupted runs the CLI in its own process group and, once the world
// saw the call in names, sends SIGINT to the group, as Ctrl-C in a
// terminal does; the call hangs, so the signal comes while it is in
// flight. An apply that ends first is not signalled.
func (m *modelRun) runInterrupted(in *mInterrupt, args []string) (string, int) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	out := &syncBuffer{}
	mark := m.world.mark()
	cmd := m.w.command(ctx, nil, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
		}
		if m.signalled {
			continue
		}
		if e, ok := in.reached(m.world.since(mark)); ok {
			if kerr := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); kerr != nil {
				m.t.Fatal(kerr)
			}
			m.signalled = true
			m.logf("    (SIGINT on: %s)", e)
		}
	}
	return exited(m.t, ctx, err, out.String(), m.w.cli+" "+strings.Join(args, " "))
}

// checkInterrupted is invariant h: an interrupted or timed-out apply never
// lowers traffic, never changes a target it did not deploy itself (a
// revert: one that did not run the abandoned version), restores the
// targets it deployed (auto_rollback), and leaves a pause as it was.
func (m *modelRun) checkInterrupted(out, flat string, prior, after modelState, pre, post worldSnap, run cliRun) {
	c := &m.cfg
	revert := m.isRevert(prior)
	if strings.Contains(flat, "codomyrmex_deployment.web: Destroying") {
		// A tainted deployment was being replaced: its destroy rolls back
		// on purpose.
		m.logf("    (an interrupted replacement: check h skipped)")
		return
	}
	m.logf("    (interrupted: checking invariant h)")
	lower := strings.ToLower(flat)
	noRollback := !c.AutoRollback || strings.Contains(lower, "auto_rollback is off") ||
		strings.Contains(lower, "previous version unknown") || strings.Contains(lower, "previous_version is unknown")

	// Traffic: the saved version's (the router keeps the last weight of
	// every version it was told about; only the saved one's is live).
	if v := prior.Version; prior.present && !revert {
		if b, a := pre.router.Weights[v], post.router.Weights[v]; a < b {
			m.violate("h: an interrupted apply lowered traffic", out, "the router's weight of %s went %v → %v (%s of %s)", v, b, a, c.Strategy, c.Version)
		}
	}
	if !revert && !noRollback && (!prior.present || prior.Version != c.Version) {
		if b, a := pre.router.Weights[c.Version], post.router.Weights[c.Version]; a > b {
			m.violate("h: an interrupted apply left traffic on its version", out, "the router's weight of %s went %v → %v", c.Version, b, a)
		}
	}
	// A revert switches back a blue/green that switched to the abandoned
	// version; without a rollback (auto_rollback off, previous version
	// unknown) the switch to the version's slot stays, as its traffic does.
	switchedBack := revert && pre.router.Version == prior.Version
	switchedTo := noRollback && post.router.Version == c.Version
	if pre.router.ActiveSlot != post.router.ActiveSlot && !switchedBack && !switchedTo {
		m.violate("h: an interrupted apply moved the router's active slot", out, "active slot %q → %q", pre.router.ActiveSlot, post.router.ActiveSlot)
	}
	if pre.flagOK && post.flagPct < pre.flagPct {
		m.violate("h: an interrupted apply lowered traffic", out, "flag %s: %v%% → %v%%", modelFlag, pre.flagPct, post.flagPct)
	}

	// Targets.
	deployed := map[string]bool{}
	for _, e := range m.world.since(run.mark) {
		if e.Kind == simulator.CallDeploy && e.Version == c.Version {
			deployed[e.Target] = true
		}
	}
	rec := m.pauses[c.Version]
	diffs := map[string][]string{}
	for _, x := range slices.Sorted(maps.Keys(pre.versions)) {
		b, a := pre.versions[x], post.versions[x]
		if a == b {
			continue
		}
		if id := m.targetID(x); prior.present && (m.stale[x] || !c.ExpectVersion) && prior.TargetVersions[id] == a {
			continue // the rollback restored what state knew it to run (see c)
		}
		how := ""
		switch {
		case revert:
			if b != prior.Version || (a != c.Version && (rec == nil || rec.prev == nil || a != *rec.prev)) {
				how = "an interrupted revert changed a target that did not run the abandoned version"
			}
		case !deployed[x]:
			how = "an interrupted apply changed a target it did not deploy"
		case a == c.Version && noRollback:
		default:
			how = "an interrupted apply did not restore a target it deployed"
		}
		if how != "" {
			diffs[how] = append(diffs[how], fmt.Sprintf("%s %s→%s", x, b, a))
		}
	}
	for _, how := range slices.Sorted(maps.Keys(diffs)) {
		m.violate("h: "+how, out, "%s of %s (%s), auto_rollback %v: %s", c.Strategy, c.Version, strings.Join(slices.Sorted(maps.Keys(deployed)), ","), c.AutoRollback, strings.Join(diffs[how], ", "))
	}

	// The pause.
	if prior.paused() && !revert && (!noRollback || len(deployed) == 0) {
		m.checkPauseKept("h: an interrupted apply did not leave the pause as it was", out, prior, after)
	}
}

// checkPauseKept: the state is paused where prior was, with the same
// version, previous_version and traffic.
func (m *modelRun) checkPauseKept(kind, out string, prior, after modelState) {
	m.checkReleaseKept(kind, out, prior, after, true)
}

// checkReleaseKept: the state names prior's release (version,
// previous_version and traffic), paused where it was if paused.
func (m *modelRun) checkReleaseKept(kind, out string, prior, after modelState, paused bool) {
	var diffs []string
	switch {
	case !after.present:
		diffs = append(diffs, "no deployment in state")
	case paused && !after.paused():
		diffs = append(diffs, "status "+after.Status)
	}
	if after.present {
		if after.Version != prior.Version {
			diffs = append(diffs, fmt.Sprintf("version %q", after.Version))
		}
		if paused && after.pausedAt() != prior.pausedAt() {
			diffs = append(diffs, fmt.Sprintf("paused_at %v", after.pausedAt()))
		}
		if strp(after.PreviousVersion) != strp(prior.PreviousVersion) {
			diffs = append(diffs, "previous_version "+strp(after.PreviousVersion))
		}
		if after.traffic() != prior.traffic() {
			diffs = append(diffs, fmt.Sprintf("traffic_percentage %v", after.traffic()))
		}
	}
	if len(diffs) > 0 {
		m.violate(kind, out, "before: %s; after: %s", stateSummary(prior), strings.Join(diffs, ", "))
	}
}

// planAcross is cliPlanAcross: the rollout pauses at a time gate; a plan
// saved before the gate is due finds it closed (also a -refresh=false plan
// made after it is due, as nothing was refreshed or applied since), and
// the saved plan applied after it is due applies as paused; after that
// apply, plans open the gate.
func (m *modelRun) planAcross(s mStep) {
	first := s
	first.noPlanCheck = true
	m.apply(first, []string{"apply", "-auto-approve"}, nil)
	m.updateHold()
	m.setConfig(s.Cfg)
	st := m.state()
	g, isGate := m.cfg.gateAt(st.pausedAt())
	timeGate := st.paused() && st.Strategy == "canary" && isGate && g.Wait != "" && m.hold != nil
	out, code := m.cli("plan", "-out=tfplan")
	if code != 0 {
		m.logf("    the plan failed: %s", firstError(out))
		return
	}
	m.planRun = m.lastRun
	// The gate is due from reached + wait; the plan refreshed before its
	// end.
	var closedAtPlan bool
	var dueBy time.Time
	if timeGate {
		closedAtPlan = m.planRun.end.Before(m.hold.reachedLo.Add(g.waitDuration()))
		dueBy = m.hold.reachedHi.Add(g.waitDuration())
	}
	if !closedAtPlan {
		m.logf("    (not paused at a time gate that is still closed at the plan: an ordinary saved plan)")
		m.apply(s, []string{"apply", "tfplan"}, nil)
		return
	}
	if p := m.plannedWeb("tfplan"); p.status != "paused" || p.changed != "[]" {
		m.violate("g: a plan made before a time gate was due opened it", out, "paused at %v%% until %s: the plan says status %s, changed_targets %s",
			st.pausedAt(), dueBy.UTC().Format(time.RFC3339), p.status, p.changed)
	}
	if d := time.Until(dueBy) + 1500*time.Millisecond; d > 0 {
		m.logf("    (waiting %s until the gate at %v%% is due)", d.Round(100*time.Millisecond), st.pausedAt())
		time.Sleep(d)
	}
	// Nothing refreshed or applied since the gate became due.
	if out, code := m.cli("plan", "-refresh=false", "-out=norefresh.tfplan"); code == 0 {
		if p := m.plannedWeb("norefresh.tfplan"); p.status != "paused" || p.changed != "[]" {
			m.violate("g: a plan with -refresh=false opened a time gate by the clock", out,
				"nothing refreshed or applied since the gate at %v%% was due: the plan says status %s, changed_targets %s", st.pausedAt(), p.status, p.changed)
		}
	}
	prior, pre := m.state(), m.snap()
	s.noPlanCheck = true
	m.apply(s, []string{"apply", "tfplan"}, nil)
	after, post := m.state(), m.snap()
	if m.lastCode != 0 || badOutput(m.lastOut) != "" {
		return
	}
	if !after.paused() || after.pausedAt() != prior.pausedAt() || post.deploys != pre.deploys || m.routerCalls(pre, post) {
		m.violate("g: a saved plan that found a time gate closed did not apply as paused", m.lastOut,
			"before: %s; after: %s; %d deploys, router called %v", stateSummary(prior), stateSummary(after), post.deploys-pre.deploys, m.routerCalls(pre, post))
		return
	}
	// That apply came after the gate was due: plans open it now, with or
	// without a refresh.
	for _, refresh := range []string{"-refresh=false", "-refresh=true"} {
		if out, code := m.cli("plan", refresh, "-detailed-exitcode"); code == 0 {
			m.violate("g: plan empty after a time gate's wait", out, "paused at %v%%, due at %s, an apply since: plan %s is empty", st.pausedAt(), dueBy.UTC().Format(time.RFC3339), refresh)
		}
	}
}

// plannedChange is what a saved plan says codomyrmex_deployment.web will
// be: status and changed_targets as JSON, "(unknown)" when unknown.
type plannedChange struct {
	status, changed string
}

func (m *modelRun) plannedWeb(file string) plannedChange {
	m.t.Helper()
	raw, code := m.w.run(nil, "show", "-json", file)
	if code != 0 {
		m.t.Fatalf("show -json %s exited %d:\n%s", file, code, tail(raw, 2000))
	}
	var shown struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				After        map[string]json.RawMessage `json:"after"`
				AfterUnknown map[string]json.RawMessage `json:"after_unknown"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(raw), &shown); err != nil {
		m.t.Fatalf("show -json %s: %v\n%s", file, err, tail(raw, 2000))
	}
	p := plannedChange{status: "(no change planned)", changed: "(no change planned)"}
	for _, rc := range shown.ResourceChanges {
		if rc.Address != "codomyrmex_deployment."+modelStateAddr {
			continue
		}
		read := func(k string) string {
			if canonicalJSON(rc.Change.AfterUnknown[k]) == "true" {
				return "(unknown)"
			}
			return canonicalJSON(rc.Change.After[k])
		}
		p.status, p.changed = strings.Trim(read("status"), `"`), read("changed_targets")
	}
	return p
}
