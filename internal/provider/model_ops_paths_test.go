package provider

// Ops of TestAccModel_randomSequences (model_ops_test.go) for the paths
// users walk around gates and analysis: analysis and bake, interrupts and
// timeouts at any point of an apply, edits of gates while paused, gates
// and approvals unknown at plan, revert chains, saved plans applied
// across resume_at.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Hangs of the calls the driver interrupts at: a SIGINT comes as soon as
// the call arrives, a timeouts.update of modelUpdateTimeout expires while
// it hangs. Both are shorter than the provider's request_timeout, so a
// call that is not interrupted succeeds.
const (
	modelSignalHang    = 1500 * time.Millisecond
	modelTimeoutHang   = 4 * time.Second
	modelUpdateTimeout = "2s"
)

// opAnalysis turns analysis (the driver's web check) and bake on or off,
// often with a new version that is measured.
func (g *modelGen) opAnalysis() (mStep, bool) {
	c := &g.cfg
	var desc string
	variant := "add"
	if c.Analysis {
		variant = pick(g, []string{"remove", "remove", "change"})
	}
	if variant == "remove" {
		c.Analysis, c.AnalysisDelay = false, false
		c.Bake = g.chance(0.3)
		desc = fmt.Sprintf("analysis removed, bake %v", c.Bake)
	} else {
		c.Analysis, c.AnalysisDelay, c.Bake = true, g.chance(0.4), g.chance(0.5)
		desc = fmt.Sprintf("analysis (initial_delay 300ms: %v), bake %v", c.AnalysisDelay, c.Bake)
	}
	if variant != "remove" && g.chance(0.4) {
		c.Version = g.newVersion()
		desc += ", version → " + c.Version
	}
	return mStep{Variant: variant, Desc: desc, CLI: cliApply}, true
}

// opFailAnalysis: a new version whose analysis fails, or the version of a
// paused canary approved while its analysis now fails (the resume
// measurement fails and abandons it).
func (g *modelGen) opFailAnalysis() (mStep, bool) {
	c := &g.cfg
	desc := ""
	if !c.Analysis {
		c.Analysis = true
		desc = "analysis on, "
	}
	if c.Strategy == "canary" && len(c.Gates) > 0 && g.chance(0.4) {
		c.ApproveVersion, c.ApproveThrough = c.Version, ""
		return mStep{
			Desc:  desc + "approve " + c.Version + " whose analysis now fails (if paused, the resume measurement fails)",
			World: []mAction{{Kind: "check", Versions: []string{c.Version}}},
			CLI:   cliApply,
		}, true
	}
	c.Version = g.newVersion()
	return mStep{
		Desc:  desc + "version → " + c.Version + " whose analysis fails",
		World: []mAction{{Kind: "check", Versions: []string{c.Version}}},
		CLI:   cliApply,
	}, true
}

// opInterrupt interrupts an apply (Ctrl-C, or timeouts.update expiring)
// at a point: a deploy of a stage, a window's measurement, the bake, the
// resume measurement of an approved paused canary, a revert's deploys.
// Faults are cleared first; the call at the point is made slow so that
// the interrupt comes while it is in flight.
func (g *modelGen) opInterrupt() (mStep, bool) {
	c := &g.cfg
	points := []string{"deploy", "deploy", "window", "bake"}
	if c.Strategy == "canary" && len(c.Gates) > 0 {
		points = append(points, "resume", "resume", "resume")
	}
	if c.hasGates() && g.prev != "" && g.prev != c.Version {
		points = append(points, "revert", "revert")
	}
	point := pick(g, points)
	if point == "resume" && g.chance(0.6) {
		// A manual gate first, so that the approval opens where it pauses.
		lowest := slices.MinFunc(c.Gates, func(a, b mGate) int { return a.At - b.At })
		c.Gates[slices.Index(c.Gates, lowest)].Wait = ""
		return g.pauseFirst("interrupt", func() mStep { return g.interruptAt(point) }), true
	}
	return g.interruptAt(point), true
}

// pauseFirst is a step that rolls out a new version without approval (it
// pauses at its first gate), then comes the op's step.
func (g *modelGen) pauseFirst(op string, then func() mStep) mStep {
	c := &g.cfg
	c.ApproveVersion, c.ApproveThrough = "", ""
	c.Version = g.otherVersion(c.Version, g.prev) // not a revert
	g.pending = append(g.pending, pendingStep{op, then})
	return mStep{Variant: "pause first", Desc: "version → " + c.Version + ", no approval (it pauses at its first gate)",
		World: []mAction{{Kind: "clear"}}, CLI: cliApply}
}

// interruptAt is opInterrupt's step at point.
func (g *modelGen) interruptAt(point string) mStep {
	c := &g.cfg
	in := &mInterrupt{Point: point, Signal: g.chance(0.65), Nth: 1}
	hang := modelSignalHang
	if !in.Signal {
		hang = modelTimeoutHang
		c.UpdateTimeout = modelUpdateTimeout
	}
	world := []mAction{{Kind: "clear"}}
	var desc string
	measured := func() {
		if !c.Analysis {
			c.Analysis = true
			desc += "analysis on, "
		}
		world = append(world, mAction{Kind: "check", Hang: hang})
	}
	switch in.Point {
	case "deploy":
		c.Version = g.newVersion()
		in.Nth = 1 + g.r.IntN(2)
		desc = "version → " + c.Version
		world = append(world, mAction{Kind: "hang", Version: c.Version, Hang: hang})
	case "window", "bake":
		measured()
		if in.Point == "bake" {
			c.Bake, in.Stage = true, "bake"
		}
		c.Version = g.newVersion()
		desc += "version → " + c.Version
	case "resume":
		measured()
		c.ApproveVersion, c.ApproveThrough = c.Version, ""
		if g.chance(0.4) {
			c.ApproveThrough = strconv.Itoa(slices.MinFunc(c.Gates, func(a, b mGate) int { return a.At - b.At }).At)
		}
		th := c.ApproveThrough
		if th == "" {
			th = "(100)"
		}
		desc += fmt.Sprintf("approve %s through %s", c.Version, th)
	case "revert":
		c.Version = g.prev
		desc = "version back to " + c.Version + " (a revert if paused)"
		world = append(world, mAction{Kind: "hang", Version: c.Version, Hang: hang})
	}
	in.Version = c.Version
	how := "timeout"
	if in.Signal {
		how = "sigint"
	}
	return mStep{Variant: in.Point + "/" + how, Desc: desc, World: world, CLI: cliApply, Interrupt: in, After: []mAction{{Kind: "calm"}}}
}

// opEditGate edits the canary's gates without a new version: while the
// rollout is paused (it often is), wait lengthened or shortened, a manual
// gate made a time gate or back, a gate added, removed or moved.
func (g *modelGen) opEditGate() (mStep, bool) {
	c := &g.cfg
	if c.Strategy != "canary" || len(c.Gates) == 0 {
		return mStep{}, false
	}
	if g.chance(0.5) {
		return g.pauseFirst("edit-gate", g.editGate), true
	}
	return g.editGate(), true
}

// editGate is opEditGate's edit.
func (g *modelGen) editGate() mStep {
	c := &g.cfg
	stages := c.stageList()
	var free []int
	for _, st := range stages[:len(stages)-1] {
		if _, ok := c.gateAt(float64(st)); !ok {
			free = append(free, st)
		}
	}
	i := g.r.IntN(len(c.Gates))
	if g.chance(0.6) {
		// The lowest gate: where a new rollout pauses first.
		i = slices.IndexFunc(c.Gates, func(x mGate) bool {
			return x.At == slices.MinFunc(c.Gates, func(a, b mGate) int { return a.At - b.At }).At
		})
	}
	old := c.Gates[i]
	kinds := []string{"remove"}
	switch {
	case old.Wait == "":
		kinds = append(kinds, "to-time", "to-time")
	case old.short():
		kinds = append(kinds, "longer", "to-manual")
	default:
		kinds = append(kinds, "shorter", "to-manual")
	}
	if len(free) > 0 {
		kinds = append(kinds, "add", "move")
	}
	var desc string
	kind := pick(g, kinds)
	switch kind {
	case "longer":
		c.Gates[i].Wait = modelLongWait
	case "shorter":
		c.Gates[i].Wait = pick(g, modelShortWaits)
	case "to-time":
		c.Gates[i].Wait = pick(g, []string{modelShortWaits[0], modelShortWaits[1], modelLongWait})
	case "to-manual":
		c.Gates[i].Wait = ""
	case "remove":
		c.Gates = slices.Delete(c.Gates, i, i+1)
		desc = fmt.Sprintf("gate %s removed", old)
	case "add":
		add := mGate{At: pick(g, free), Wait: g.randomWait()}
		c.Gates = slices.Insert(c.Gates, g.r.IntN(len(c.Gates)+1), add)
		desc = fmt.Sprintf("gate %s added", add)
	case "move":
		c.Gates[i].At = pick(g, free)
		desc = fmt.Sprintf("gate %s moved to %d", old, c.Gates[i].At)
	}
	if desc == "" {
		desc = fmt.Sprintf("gate %s → %s", old, c.Gates[i])
	}
	return mStep{Variant: kind, Desc: desc + " (version unchanged)", CLI: cliApply}
}

// opUnknownGates routes the gates, their waits or approve.version through
// terraform_data (unknown at plan), or back; sometimes the approval of
// the configured version arrives that way.
func (g *modelGen) opUnknownGates() (mStep, bool) {
	c := &g.cfg
	var opts []string
	if c.Strategy == "canary" && len(c.Gates) > 0 {
		opts = append(opts, "gates", "waits")
	}
	if c.ApproveVersion != "" {
		opts = append(opts, "approve")
	}
	if c.hasGates() {
		opts = append(opts, "approve-unknown")
	}
	if len(opts) == 0 {
		return mStep{}, false
	}
	equivalent := true
	var desc string
	variant := pick(g, opts)
	switch variant {
	case "gates":
		c.FeedGates = map[int]int{0: 1, 1: 0, 2: 1}[c.FeedGates]
		desc = fmt.Sprintf("canary.gates through terraform_data: %v", c.FeedGates == 1)
	case "waits":
		c.FeedGates = map[int]int{0: 2, 1: 2, 2: 0}[c.FeedGates]
		desc = fmt.Sprintf("each gate's wait through terraform_data: %v", c.FeedGates == 2)
	case "approve":
		c.FeedApprove = !c.FeedApprove
		desc = fmt.Sprintf("approve.version through terraform_data: %v", c.FeedApprove)
	default:
		c.ApproveVersion, c.ApproveThrough, c.FeedApprove = c.Version, "", true
		desc = "approve " + c.Version + " through terraform_data (unknown at plan)"
		equivalent = false
	}
	if g.chance(0.3) {
		c.Token++
		desc += ", terraform_data replaced"
	}
	return mStep{Variant: variant, Desc: desc, CLI: cliApply, Equivalent: equivalent}, true
}

// toCanary makes the configuration a canary when it is not one, and says
// so in the step's description.
func (g *modelGen) toCanary() []string {
	if from := g.cfg.Strategy; from != "canary" {
		g.setStrategy("canary")
		return []string{fmt.Sprintf("strategy %s → canary", from)}
	}
	return nil
}

// opRevertChain: a release A pauses at a manual gate, B is rolled out on
// top (and sometimes C on top of B, then back to B), version goes back to
// A, and A is approved. Faults are cleared first; each link is a step.
func (g *modelGen) opRevertChain() (mStep, bool) {
	c := &g.cfg
	desc := g.toCanary()
	if !slices.ContainsFunc(c.Gates, func(x mGate) bool { return x.Wait == "" }) {
		stages := c.stageList()
		at := stages[g.r.IntN(len(stages)-1)]
		c.Gates = slices.DeleteFunc(c.Gates, func(x mGate) bool { return x.At == at })
		c.Gates = append(c.Gates, mGate{At: at})
		desc = append(desc, fmt.Sprintf("a manual gate at %d", at))
	}
	c.ApproveVersion, c.ApproveThrough, c.FeedApprove = "", "", false
	// Each version differs from the one it goes on top of and from that
	// one's previous version (going there would be a revert).
	before := c.Version
	a := g.otherVersion(before, g.prev) // not a revert
	c.Version = a
	desc = append(desc, "version → "+a+" (pauses)")

	b := g.otherVersion(a, before)
	chain := []string{b}
	if g.chance(0.4) {
		chain = append(chain, g.otherVersion(a, b))
	}
	for i, v := range chain {
		on := a
		if i > 0 {
			on = chain[i-1]
		}
		g.pending = append(g.pending, pendingStep{"revert-chain", func() mStep {
			g.cfg.Version = v
			return mStep{Desc: fmt.Sprintf("version → %s on top of %s", v, on), CLI: cliApply}
		}})
	}
	for i := len(chain) - 2; i >= -1; i-- {
		back, from := a, chain[i+1]
		if i >= 0 {
			back = chain[i]
		}
		g.pending = append(g.pending, pendingStep{"revert-chain", func() mStep {
			g.cfg.Version = back
			return mStep{Desc: fmt.Sprintf("version back to %s from %s (a revert to a paused release)", back, from), CLI: cliApply}
		}})
	}
	through := pick(g, []string{"", "100", "gate"})
	g.pending = append(g.pending, pendingStep{"revert-chain", func() mStep {
		c := &g.cfg
		c.ApproveVersion, c.ApproveThrough = a, through
		if through == "gate" {
			var manual []int
			for _, x := range c.Gates {
				if x.Wait == "" {
					manual = append(manual, x.At)
				}
			}
			c.ApproveThrough = strconv.Itoa(slices.Min(manual))
		}
		th := c.ApproveThrough
		if th == "" {
			th = "(100)"
		}
		return mStep{Desc: fmt.Sprintf("approve %s through %s (the release reverted to)", a, th), CLI: cliApply}
	}})
	variant := "A→B→A"
	if len(chain) > 1 {
		variant = "A→B→C→B→A"
	}
	return mStep{Variant: variant, Desc: "revert chain: " + strings.Join(desc, ", "), World: []mAction{{Kind: "clear"}}, CLI: cliApply}, true
}

// otherVersion picks a version of the pool other than not.
func (g *modelGen) otherVersion(not ...string) string {
	var vs []string
	for _, v := range modelVersions {
		if !slices.Contains(not, v) {
			vs = append(vs, v)
		}
	}
	return pick(g, vs)
}

// opGatePlan: a new version pauses at a time gate at the first stage;
// before the gate is due, a plan lengthening its wait is saved; once the
// longer wait is over too, the saved plan is applied (the plan decides,
// not the apply's clock).
func (g *modelGen) opGatePlan() (mStep, bool) {
	c := &g.cfg
	desc := g.toCanary()
	c.Gates = []mGate{{At: c.stageList()[0], Wait: modelPlanWaits[0]}}
	c.ApproveVersion, c.ApproveThrough, c.FeedApprove, c.FeedGates = "", "", false, 0
	c.Version = g.otherVersion(c.Version, g.prev) // not a revert
	first := c.clone()
	c.Gates[0].Wait = modelPlanWaits[1]
	desc = append(desc, fmt.Sprintf("version → %s pausing at %s; saved plan with its wait → %s", c.Version, first.Gates[0], c.Gates[0].Wait))
	// Then the wait is shortened, so that later pauses at the gate do not
	// keep the driver waiting for it.
	g.pending = append(g.pending, pendingStep{"edit-gate", func() mStep {
		c := &g.cfg
		i := slices.IndexFunc(c.Gates, func(x mGate) bool { return x.Wait == modelPlanWaits[1] })
		if i < 0 {
			return mStep{Variant: "shorter", Desc: "configuration unchanged", CLI: cliApply}
		}
		old := c.Gates[i]
		c.Gates[i].Wait = modelShortWaits[0]
		return mStep{Variant: "shorter", Desc: fmt.Sprintf("gate %s → %s (version unchanged)", old, c.Gates[i]), CLI: cliApply}
	}})
	return mStep{Desc: strings.Join(desc, ", "), World: []mAction{{Kind: "clear"}}, CLI: cliPlanAcross, First: &first}, true
}

// modelCoverage are the kinds of step the default seeds must generate:
// every strategy, every op, every point an apply is interrupted at and both ways to
// interrupt it, the resume measurement and a gate edited right after a
// pause, both revert chains whole, analysis removed.
func modelCoverage() []string {
	var want []string
	for _, op := range modelOps {
		want = append(want, op.name)
	}
	for _, p := range []string{"deploy", "window", "bake", "resume", "revert"} {
		want = append(want, "interrupt at "+p)
	}
	for _, st := range modelStrategies {
		want = append(want, "strategy "+st)
	}
	return append(want, "blue_green pause_before_switch", "interrupt by sigint", "interrupt by timeout", "interrupt resume/sigint after a pause",
		"interrupt resume/timeout after a pause", "edit-gate after a pause", "revert-chain A→B→A", "revert-chain A→B→C→B→A",
		"analysis remove")
}

// sequenceCovers names what the steps of a sequence exercise (see
// modelCoverage).
func sequenceCovers(seq []mStep) map[string]bool {
	out := map[string]bool{}
	for i, s := range seq {
		out[s.Op] = true
		if s.CLI != cliNone {
			out["strategy "+s.Cfg.Strategy] = true
			if s.Cfg.Strategy == "blue_green" && s.Cfg.PauseBeforeSwitch {
				out["blue_green pause_before_switch"] = true
			}
		}
		point, how, _ := strings.Cut(s.Variant, "/")
		switch {
		case s.Interrupt != nil:
			out["interrupt at "+point] = true
			out["interrupt by "+how] = true
		case strings.HasPrefix(s.Variant, "A→"):
			// A chain takes a step per arrow, then the approval.
			if i+strings.Count(s.Variant, "→")+1 < len(seq) {
				out[s.Op+" "+s.Variant] = true
			}
		case s.Variant != "":
			out[s.Op+" "+s.Variant] = true
		}
		if i > 0 && seq[i-1].Variant == "pause first" && s.Variant != "pause first" {
			if s.Op == "edit-gate" {
				out["edit-gate after a pause"] = true
			} else {
				out[s.Op+" "+s.Variant+" after a pause"] = true
			}
		}
	}
	return out
}

// TestModelSequence_defaultSeedsCover: the default seeds generate every
// kind of step in modelCoverage (a change of the generator changes what a
// seed generates: pick seeds that do, see defaultModelSeeds).
func TestModelSequence_defaultSeedsCover(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, seed := range defaultModelSeeds {
		for k := range sequenceCovers(modelSequence(seed, defaultModelSteps)) {
			seen[k] = true
		}
	}
	for _, want := range modelCoverage() {
		if !seen[want] {
			t.Errorf("no default seed (%v) generates %q in %d steps", defaultModelSeeds, want, defaultModelSteps)
		}
	}
}
