package provider

// The seeded generator of the model's steps (model_ops_test.go): one
// random op after another, each a step the model knows how to check.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// modelGen generates a sequence; only its rng and the configuration decide
// what comes next, never what the CLI answered, so a seed always gives the
// same steps.
type modelGen struct {
	r     *rand.Rand
	cfg   mConfig
	fresh int // counter for new target ids
	// prev is the version configured before the last change of version:
	// previous_version in state unless a failure or a destroy changed it.
	prev string
	// pending are the next steps of an op that spans several (a revert
	// chain), generated when their turn comes.
	pending []pendingStep
}

type pendingStep struct {
	op  string
	gen func() mStep
}

func newModelGen(seed uint64) *modelGen {
	return &modelGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// modelSequence is the create step followed by n random steps.
func modelSequence(seed uint64, n int) []mStep {
	g := newModelGen(seed)
	steps := []mStep{g.initial()}
	for range n {
		steps = append(steps, g.next())
	}
	return steps
}

func (g *modelGen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *modelGen, xs []T) T { return xs[g.r.IntN(len(xs))] }

func (g *modelGen) initial() mStep {
	n := 3 + g.r.IntN(3)
	fleet := g.r.Perm(modelFleetSize)[:n]
	slices.Sort(fleet)
	c := mConfig{Version: "2.0.0", AutoRollback: !g.chance(0.15), ExpectVersion: true}
	for i, x := range fleet {
		id := fmt.Sprintf("t%d", x+1)
		c.Targets = append(c.Targets, mTarget{ID: id, Fleet: id, Slot: []string{"blue", "green"}[i%2]})
	}
	g.cfg = c
	g.prev = modelInitial
	g.setStrategy(pick(g, modelStrategies))
	g.cfg.FeedVersion = g.chance(0.2)
	g.cfg.Analysis = g.chance(0.25)
	return mStep{Op: "create", Desc: "first apply", Cfg: g.cfg.clone(), CLI: cliApply}
}

// setStrategy switches strategy with random settings for it.
func (g *modelGen) setStrategy(s string) {
	c := &g.cfg
	c.Strategy = s
	c.BatchSize = pick(g, []int{1, 2, 10})
	c.Delay = g.r.IntN(3)
	c.MaxFailuresSet = g.chance(0.3)
	c.Stages = g.r.IntN(len(modelStages))
	c.Interval = g.r.IntN(len(modelZeroDurations))
	c.Threshold = g.r.IntN(len(modelThresholds))
	c.Rollout = g.r.IntN(len(modelRollouts))
	g.fixSlots()
	c.Gates, c.PauseBeforeSwitch = nil, false
	switch s {
	case "canary":
		if g.chance(0.5) {
			c.Gates = g.randomGates()
		}
	case "blue_green":
		c.PauseBeforeSwitch = g.chance(0.5)
	}
}

// randomGates are one or two gates at stages below 100, manual, short or
// long, written in a random order.
func (g *modelGen) randomGates() []mGate {
	stages := g.cfg.stageList()
	cands := stages[:len(stages)-1]
	k := 1
	if len(cands) > 1 && g.chance(0.4) {
		k = 2
	}
	var out []mGate
	for _, i := range g.r.Perm(len(cands))[:k] {
		out = append(out, mGate{At: cands[i], Wait: g.randomWait()})
	}
	return out
}

func (g *modelGen) randomWait() string {
	switch n := g.r.Float64(); {
	case n < 0.55:
		return ""
	case n < 0.85:
		return pick(g, modelShortWaits)
	default:
		return modelLongWait
	}
}

// fixGates drops the gates that no longer stand at a stage.
func (g *modelGen) fixGates() {
	stages := g.cfg.stageList()
	g.cfg.Gates = slices.DeleteFunc(g.cfg.Gates, func(x mGate) bool {
		return !slices.Contains(stages[:len(stages)-1], x.At)
	})
}

// fixSlots keeps both slots in use (blue_green requires it): when every
// target has one slot, the last one gets the other.
func (g *modelGen) fixSlots() string {
	ts := g.cfg.Targets
	for _, t := range ts {
		if t.Slot != ts[0].Slot {
			return ""
		}
	}
	last := &ts[len(ts)-1]
	last.Slot = otherSlot(last.Slot)
	return fmt.Sprintf(" (%s moves to slot %s so both slots are used)", last.ID, last.Slot)
}

func otherSlot(s string) string {
	if s == "blue" {
		return "green"
	}
	return "blue"
}

func (g *modelGen) newVersion() string {
	var vs []string
	for _, v := range modelVersions {
		if v != g.cfg.Version {
			vs = append(vs, v)
		}
	}
	return pick(g, vs)
}

func (g *modelGen) usedFleet() map[string]bool {
	used := map[string]bool{}
	for _, t := range g.cfg.Targets {
		used[t.Fleet] = true
	}
	return used
}

func (g *modelGen) freeFleet() []string {
	used := g.usedFleet()
	var free []string
	for i := 1; i <= modelFleetSize; i++ {
		if id := fmt.Sprintf("t%d", i); !used[id] {
			free = append(free, id)
		}
	}
	return free
}

func (g *modelGen) hasID(id string) bool {
	for _, t := range g.cfg.Targets {
		if t.ID == id {
			return true
		}
	}
	return false
}

// someTargets picks k distinct configured targets' fleet ids, in list order.
func (g *modelGen) someTargets(k int) []string {
	k = min(k, len(g.cfg.Targets))
	idx := g.r.Perm(len(g.cfg.Targets))[:k]
	slices.Sort(idx)
	out := make([]string, k)
	for i, j := range idx {
		out[i] = g.cfg.Targets[j].Fleet
	}
	return out
}

type modelOp struct {
	name   string
	weight int
	gen    func(*modelGen) (mStep, bool)
}

var modelOps = []modelOp{
	{"version", 6, (*modelGen).opVersion},
	{"repair", 2, (*modelGen).opRepair},
	{"settings", 3, (*modelGen).opSettings},
	{"equivalent", 3, (*modelGen).opEquivalent},
	{"targets", 4, (*modelGen).opTargets},
	{"fail-version", 4, (*modelGen).opFailVersion},
	{"fail-repair", 3, (*modelGen).opFailRepair},
	{"health-fault", 2, (*modelGen).opHealthFault},
	{"service-down", 2, (*modelGen).opServiceDown},
	{"drift", 3, (*modelGen).opDrift},
	{"saved-plan", 3, (*modelGen).opSavedPlan},
	{"refresh-only", 1, (*modelGen).opRefresh},
	{"destroy", 1, (*modelGen).opDestroy},
	{"clear-faults", 2, (*modelGen).opClear},
	{"unknown", 2, (*modelGen).opUnknown},
	{"gates", 4, (*modelGen).opGates},
	{"approve", 5, (*modelGen).opApprove},
	{"approve-other", 2, (*modelGen).opApproveOther},
	{"revert", 3, (*modelGen).opRevert},
	{"wait-gate", 2, (*modelGen).opWaitGate},
	{"analysis", 2, (*modelGen).opAnalysis},
	{"fail-analysis", 2, (*modelGen).opFailAnalysis},
	{"interrupt", 6, (*modelGen).opInterrupt},
	{"edit-gate", 4, (*modelGen).opEditGate},
	{"unknown-gates", 2, (*modelGen).opUnknownGates},
	{"revert-chain", 2, (*modelGen).opRevertChain},
	{"gate-plan", 2, (*modelGen).opGatePlan},
}

func (g *modelGen) next() mStep {
	if len(g.pending) > 0 {
		p := g.pending[0]
		g.pending = g.pending[1:]
		before := g.cfg.Version
		s := p.gen()
		return g.finish(s, p.op, before)
	}
	total := 0
	for _, op := range modelOps {
		total += op.weight
	}
	for {
		n := g.r.IntN(total)
		for _, op := range modelOps {
			if n -= op.weight; n < 0 {
				before := g.cfg.clone()
				s, ok := op.gen(g)
				if !ok {
					g.cfg = before
					g.pending = nil
					break
				}
				return g.finish(s, op.name, before.Version)
			}
		}
	}
}

// finish names the step and gives it the configuration; what holds for
// one step only (timeouts.update) is not kept for the next.
func (g *modelGen) finish(s mStep, op, before string) mStep {
	s.Op = op
	s.Cfg = g.cfg.clone()
	g.cfg.UpdateTimeout = ""
	if before != g.cfg.Version {
		g.prev = before
	}
	return s
}

func (g *modelGen) opVersion() (mStep, bool) {
	g.cfg.Version = g.newVersion()
	return mStep{Desc: "version → " + g.cfg.Version, CLI: cliApply}, true
}

func (g *modelGen) opRepair() (mStep, bool) {
	return mStep{Desc: "apply the configuration unchanged", CLI: cliApply}, true
}

// realSetting changes a setting for real (what runs, or how it is rolled
// out, differs).
func (g *modelGen) realSetting() string {
	c := &g.cfg
	switch g.r.IntN(5) {
	case 0:
		var others []string
		for _, s := range modelStrategies {
			if s != c.Strategy {
				others = append(others, s)
			}
		}
		from := c.Strategy
		g.setStrategy(pick(g, others))
		return fmt.Sprintf("strategy %s → %s", from, c.Strategy)
	case 1:
		c.AutoRollback = !c.AutoRollback
		return fmt.Sprintf("auto_rollback → %v", c.AutoRollback)
	case 2:
		c.ExpectVersion = !c.ExpectVersion
		return fmt.Sprintf("expect_version → %v", c.ExpectVersion)
	}
	switch c.Strategy {
	case "rolling":
		var sizes []int
		for _, b := range []int{1, 2, 10} {
			if b != c.BatchSize {
				sizes = append(sizes, b)
			}
		}
		c.BatchSize, c.Delay = pick(g, sizes), 0
		return fmt.Sprintf("batch_size → %d", c.BatchSize)
	case "canary":
		if g.chance(0.5) {
			class := func(i int) int { return max(i, 1) } // 0 and 1 are the same stages
			var alt []int
			for i := range modelStages {
				if class(i) != class(c.Stages) && i != 0 {
					alt = append(alt, i)
				}
			}
			c.Stages = pick(g, alt)
			g.fixGates()
			return "stages → " + modelStages[c.Stages]
		}
		if c.Threshold == 2 {
			c.Threshold = g.r.IntN(2)
		} else {
			c.Threshold = 2
		}
		return "success_threshold → " + modelThresholds[c.Threshold]
	case "feature_flag":
		class := func(i int) int { return max(i, 1) }
		var alt []int
		for i := range modelRollouts {
			if class(i) != class(c.Rollout) && i != 0 {
				alt = append(alt, i)
			}
		}
		c.Rollout = pick(g, alt)
		return "initial_rollout → " + modelRollouts[c.Rollout]
	default:
		c.AutoRollback = !c.AutoRollback
		return fmt.Sprintf("auto_rollback → %v", c.AutoRollback)
	}
}

func (g *modelGen) opSettings() (mStep, bool) {
	desc := g.realSetting()
	if g.chance(0.3) {
		g.cfg.Version = g.newVersion()
		desc += ", version → " + g.cfg.Version
	}
	return mStep{Desc: desc, CLI: cliApply}, true
}

// equivalentEdit changes how a value is written, not the value.
func (g *modelGen) equivalentEdit() string {
	c := &g.cfg
	var edits []func() string
	if c.AutoRollback {
		edits = append(edits, func() string {
			c.AutoRollbackSet = !c.AutoRollbackSet
			return fmt.Sprintf("auto_rollback = true written out: %v", c.AutoRollbackSet)
		})
	}
	if c.ExpectVersion {
		edits = append(edits, func() string {
			c.ExpectVersionSet = !c.ExpectVersionSet
			return fmt.Sprintf("health_check.expect_version = true written out: %v", c.ExpectVersionSet)
		})
	}
	edits = append(edits, func() string {
		i := g.r.IntN(len(c.Targets))
		c.Targets[i].EmptyName = !c.Targets[i].EmptyName
		return fmt.Sprintf("name = \"\" on %s: %v", c.Targets[i].ID, c.Targets[i].EmptyName)
	})
	switch c.Strategy {
	case "rolling":
		if !c.FeedSetting {
			edits = append(edits, func() string {
				old := c.delayLiteral()
				c.Delay = (c.Delay + 1 + g.r.IntN(2)) % 3
				return fmt.Sprintf("batch_delay %q → %q", old, c.delayLiteral())
			})
		}
		edits = append(edits, func() string {
			c.MaxFailuresSet = !c.MaxFailuresSet
			return fmt.Sprintf("max_failures = 0 written out: %v", c.MaxFailuresSet)
		})
	case "canary":
		if c.Stages <= 1 {
			edits = append(edits, func() string {
				c.Stages = 1 - c.Stages
				return fmt.Sprintf("stages %q (default spelled out or not)", modelStages[c.Stages])
			})
		}
		if !c.FeedSetting {
			edits = append(edits, func() string {
				old := modelZeroDurations[c.Interval]
				c.Interval = (c.Interval + 1 + g.r.IntN(2)) % 3
				return fmt.Sprintf("stage_interval %q → %q", old, modelZeroDurations[c.Interval])
			})
		}
		if c.Threshold <= 1 {
			edits = append(edits, func() string {
				c.Threshold = 1 - c.Threshold
				return fmt.Sprintf("success_threshold %q (default spelled out or not)", modelThresholds[c.Threshold])
			})
		}
	case "feature_flag":
		if c.Rollout <= 1 && !c.FeedSetting {
			edits = append(edits, func() string {
				c.Rollout = 1 - c.Rollout
				return fmt.Sprintf("initial_rollout %q (default spelled out or not)", modelRollouts[c.Rollout])
			})
		}
	}
	if c.Strategy == "canary" && len(c.Gates) > 1 {
		edits = append(edits, func() string {
			slices.Reverse(c.Gates)
			return "gates written in the other order"
		})
	}
	if c.Strategy == "canary" {
		for i, gt := range c.Gates {
			if slices.Contains(modelShortWaits, gt.Wait) {
				edits = append(edits, func() string {
					old := gt.Wait
					c.Gates[i].Wait = modelShortWaits[1-slices.Index(modelShortWaits, old)]
					return fmt.Sprintf("gate at %d: wait %q → %q", gt.At, old, c.Gates[i].Wait)
				})
				break
			}
		}
	}
	if c.ApproveVersion != "" && (c.ApproveThrough == "" || c.ApproveThrough == "100") {
		edits = append(edits, func() string {
			if c.ApproveThrough == "" {
				c.ApproveThrough = "100"
			} else {
				c.ApproveThrough = ""
			}
			return fmt.Sprintf("approve.through = 100 written out: %v", c.ApproveThrough != "")
		})
	}
	return pick(g, edits)()
}

func (g *modelGen) opEquivalent() (mStep, bool) {
	return mStep{Desc: "equivalent edit: " + g.equivalentEdit(), CLI: cliApply, Equivalent: true}, true
}

func (g *modelGen) opTargets() (mStep, bool) {
	c := &g.cfg
	free := g.freeFleet()
	var kinds []string
	if len(c.Targets) < modelMaxTargets && len(free) > 0 {
		kinds = append(kinds, "add", "add")
	}
	if len(c.Targets) > 2 {
		kinds = append(kinds, "remove", "remove")
	}
	kinds = append(kinds, "rename", "readdress")
	if c.Strategy == "blue_green" {
		kinds = append(kinds, "slot")
	}
	if len(free) == 0 {
		kinds = slices.DeleteFunc(kinds, func(k string) bool { return k == "readdress" })
	}
	var desc string
	switch kind := pick(g, kinds); kind {
	case "add":
		fleet := pick(g, free)
		id := fleet
		if g.hasID(id) {
			g.fresh++
			id = fmt.Sprintf("n%d", g.fresh)
		}
		at := g.r.IntN(len(c.Targets) + 1)
		c.Targets = slices.Insert(c.Targets, at, mTarget{ID: id, Fleet: fleet, Slot: pick(g, []string{"blue", "green"})})
		desc = fmt.Sprintf("add target %s@%s at position %d", id, fleet, at)
	case "remove":
		i := g.r.IntN(len(c.Targets))
		desc = "remove target " + c.Targets[i].ID
		c.Targets = slices.Delete(c.Targets, i, i+1)
	case "rename":
		i := g.r.IntN(len(c.Targets))
		g.fresh++
		old := c.Targets[i].ID
		c.Targets[i].ID = fmt.Sprintf("r%d", g.fresh)
		desc = fmt.Sprintf("rename target %s → %s (same address)", old, c.Targets[i].ID)
	case "readdress":
		i := g.r.IntN(len(c.Targets))
		old := c.Targets[i].Fleet
		c.Targets[i].Fleet = pick(g, free)
		desc = fmt.Sprintf("re-address target %s from /t/%s to /t/%s", c.Targets[i].ID, old, c.Targets[i].Fleet)
	case "slot":
		i := g.r.IntN(len(c.Targets))
		c.Targets[i].Slot = otherSlot(c.Targets[i].Slot)
		desc = fmt.Sprintf("target %s → slot %s", c.Targets[i].ID, c.Targets[i].Slot)
	}
	desc += g.fixSlots()
	if g.chance(0.35) {
		c.Version = g.newVersion()
		desc += ", version → " + c.Version
	}
	return mStep{Desc: desc, CLI: cliApply}, true
}

// versionFaults are faults that make a deploy of one version fail.
func (g *modelGen) versionFault(v string) simulator.Fault {
	switch g.r.IntN(3) {
	case 0:
		return simulator.Fault{DeployStatus: 500, FailVersion: v}
	case 1:
		return simulator.Fault{Unhealthy: true, FailVersion: v}
	default:
		return simulator.Fault{ReportVersion: "9.9.9", FailVersion: v}
	}
}

func (g *modelGen) opFailVersion() (mStep, bool) {
	v := g.newVersion()
	k := 1 + g.r.IntN(2)
	if g.chance(0.2) {
		k = len(g.cfg.Targets)
	}
	var world []mAction
	for _, x := range g.someTargets(k) {
		world = append(world, mAction{Kind: "fault", Target: x, Fault: g.versionFault(v)})
	}
	g.cfg.Version = v
	return mStep{Desc: "version → " + v + " which fails on some targets", World: world, CLI: cliApply}, true
}

// opFailRepair: targets drift, and redeploying the configured version to
// them fails: an apply that only repairs, and fails. With gates the faults
// often pass after it, so that the next apply starts from the failed
// repair of a paused rollout.
func (g *modelGen) opFailRepair() (mStep, bool) {
	world := g.drift(1 + g.r.IntN(2))
	if c := &g.cfg; c.Strategy == "canary" && len(c.Gates) > 0 && g.chance(0.6) {
		// The first target runs the version of a paused canary: a repair
		// redeploys it.
		world = []mAction{{Kind: "drift", Target: c.Targets[0].Fleet, Version: pick(g, modelDriftVersions)}}
	}
	for _, a := range world[:1+g.r.IntN(len(world))] {
		world = append(world, mAction{Kind: "fault", Target: a.Target, Fault: g.versionFault(g.cfg.Version)})
	}
	s := mStep{Desc: "drifted targets cannot be brought back to " + g.cfg.Version, World: world, CLI: cliApply}
	if g.cfg.hasGates() && g.chance(0.6) {
		s.After = []mAction{{Kind: "clear"}}
	}
	return s, true
}

func (g *modelGen) opHealthFault() (mStep, bool) {
	x := g.someTargets(1)[0]
	var f simulator.Fault
	switch g.r.IntN(3) {
	case 0:
		f = simulator.Fault{Unhealthy: true}
	case 1:
		f = simulator.Fault{NoVersion: true}
	default:
		f = simulator.Fault{HealthStatus: 503}
	}
	desc := "a target's health goes bad"
	if g.chance(0.5) {
		g.cfg.Version = g.newVersion()
		desc += ", version → " + g.cfg.Version
	}
	return mStep{Desc: desc, World: []mAction{{Kind: "fault", Target: x, Fault: f}}, CLI: cliApply}, true
}

func (g *modelGen) opServiceDown() (mStep, bool) {
	var a mAction
	switch g.cfg.Strategy {
	case "canary", "blue_green":
		a = mAction{Kind: "router", Down: true}
	case "feature_flag":
		a = mAction{Kind: "flags", Down: true}
	default:
		return mStep{}, false
	}
	desc := a.Kind + " down during the apply (back up after it)"
	if g.chance(0.8) {
		g.cfg.Version = g.newVersion()
		desc += ", version → " + g.cfg.Version
	}
	return mStep{Desc: desc, World: []mAction{a}, CLI: cliApply}, true
}

func (g *modelGen) drift(k int) []mAction {
	var out []mAction
	for _, x := range g.someTargets(k) {
		out = append(out, mAction{Kind: "drift", Target: x, Version: pick(g, modelDriftVersions)})
	}
	return out
}

func (g *modelGen) opDrift() (mStep, bool) {
	return mStep{Desc: "out-of-band change of running versions", World: g.drift(1 + g.r.IntN(2))}, true
}

func (g *modelGen) opSavedPlan() (mStep, bool) {
	var desc string
	switch n := g.r.Float64(); {
	case n < 0.6:
		g.cfg.Version = g.newVersion()
		desc = "version → " + g.cfg.Version
	case n < 0.8:
		desc = g.realSetting()
	default:
		desc = "configuration unchanged"
	}
	var between []mAction
	kinds := []string{"drift", "fault", "clear"}
	if g.cfg.Strategy == "canary" || g.cfg.Strategy == "blue_green" {
		kinds = append(kinds, "router")
	}
	if g.cfg.Strategy == "feature_flag" {
		kinds = append(kinds, "flags")
	}
	switch pick(g, kinds) {
	case "drift":
		between = g.drift(1)
	case "fault":
		between = []mAction{{Kind: "fault", Target: g.someTargets(1)[0], Fault: g.versionFault(g.cfg.Version)}}
	case "clear":
		between = []mAction{{Kind: "clear"}}
	case "router":
		between = []mAction{{Kind: "router", Down: true}}
	case "flags":
		between = []mAction{{Kind: "flags", Down: true}}
	}
	return mStep{Desc: desc + ", saved plan applied after the world changed", CLI: cliPlanfile, Between: between}, true
}

// opGates changes the gates: new ones on a canary, pause_before_switch
// toggled on a blue/green, or a switch to one of them with gates; often
// with a new version that meets them.
func (g *modelGen) opGates() (mStep, bool) {
	c := &g.cfg
	var desc string
	switch c.Strategy {
	case "canary":
		switch n := g.r.Float64(); {
		case n < 0.2 && len(c.Gates) > 0:
			c.Gates = nil
			desc = "gates removed"
		case n < 0.45 && len(c.Gates) > 0:
			i := g.r.IntN(len(c.Gates))
			old := c.Gates[i]
			kind := func(w string) int {
				switch w {
				case "":
					return 0
				case modelLongWait:
					return 2
				}
				return 1
			}
			for kind(c.Gates[i].Wait) == kind(old.Wait) {
				c.Gates[i].Wait = g.randomWait()
			}
			desc = fmt.Sprintf("gate %s → %s", old, c.Gates[i])
		default:
			c.Gates = g.randomGates()
			desc = "gates → " + fmt.Sprint(c.Gates)
		}
	case "blue_green":
		c.PauseBeforeSwitch = !c.PauseBeforeSwitch
		desc = fmt.Sprintf("pause_before_switch → %v", c.PauseBeforeSwitch)
	default:
		from := c.Strategy
		g.setStrategy(pick(g, []string{"canary", "blue_green"}))
		if c.Strategy == "canary" && len(c.Gates) == 0 {
			c.Gates = g.randomGates()
		}
		c.PauseBeforeSwitch = c.Strategy == "blue_green"
		desc = fmt.Sprintf("strategy %s → %s with gates", from, c.Strategy)
	}
	if g.chance(0.6) {
		c.Version = g.newVersion()
		desc += ", version → " + c.Version
	}
	return mStep{Desc: desc, CLI: cliApply}, true
}

// opApprove approves the configured version, through one of the gates, a
// percentage between them, or every manual gate.
func (g *modelGen) opApprove() (mStep, bool) {
	c := &g.cfg
	if !c.hasGates() {
		return mStep{}, false
	}
	c.ApproveVersion = c.Version
	throughs := []string{"", "", "100"}
	if c.Strategy == "canary" {
		for _, gt := range c.Gates {
			throughs = append(throughs, strconv.Itoa(gt.At), strconv.Itoa(gt.At))
		}
		throughs = append(throughs, "30")
	}
	c.ApproveThrough = pick(g, throughs)
	th := c.ApproveThrough
	if th == "" {
		th = "(100)"
	}
	return mStep{Desc: fmt.Sprintf("approve %s through %s", c.Version, th), CLI: cliApply}, true
}

// opApproveOther approves another version: it opens nothing.
func (g *modelGen) opApproveOther() (mStep, bool) {
	c := &g.cfg
	var vs []string
	for _, v := range append(slices.Clone(modelVersions), "9.9.9") {
		if v != c.Version && v != c.ApproveVersion {
			vs = append(vs, v)
		}
	}
	c.ApproveVersion = pick(g, vs)
	c.ApproveThrough = pick(g, []string{"", "100", "50"})
	return mStep{Desc: "approve another version: " + c.ApproveVersion, CLI: cliApply, NoOp: true}, true
}

// opRevert sets version back to the one configured before: a revert when
// the rollout is paused.
func (g *modelGen) opRevert() (mStep, bool) {
	c := &g.cfg
	if !c.hasGates() || g.prev == "" || g.prev == c.Version {
		return mStep{}, false
	}
	c.Version = g.prev
	return mStep{Desc: "version back to " + c.Version + " (a revert if paused)", CLI: cliApply}, true
}

// opWaitGate: a short time gate's wait is over; the plan, then the apply,
// of the unchanged configuration continue the rollout.
func (g *modelGen) opWaitGate() (mStep, bool) {
	if !g.cfg.hasShortGate() {
		return mStep{}, false
	}
	return mStep{Desc: "time passes a time gate's wait; plan, then apply unchanged", CLI: cliApply, WaitGate: true}, true
}

func (g *modelGen) opRefresh() (mStep, bool) {
	return mStep{Desc: "refresh only", CLI: cliRefresh}, true
}

func (g *modelGen) opDestroy() (mStep, bool) {
	return mStep{Desc: "destroy (the next apply creates it again)", CLI: cliDestroy}, true
}

func (g *modelGen) opClear() (mStep, bool) {
	return mStep{Desc: "faults cleared, services up", World: []mAction{{Kind: "clear"}}}, true
}

// opUnknown routes values through terraform_data, or replaces it, so that
// they are unknown at plan time.
func (g *modelGen) opUnknown() (mStep, bool) {
	c := &g.cfg
	var desc string
	equivalent := false
	switch g.r.IntN(4) {
	case 0:
		c.Token++
		desc = "replace terraform_data (its output is unknown at plan, with the same values)"
		equivalent = true
	case 1:
		c.FeedVersion = !c.FeedVersion
		desc = fmt.Sprintf("version through terraform_data: %v", c.FeedVersion)
	case 2:
		c.FeedIDs = !c.FeedIDs
		desc = fmt.Sprintf("target ids through terraform_data: %v", c.FeedIDs)
	default:
		c.FeedSetting = !c.FeedSetting
		desc = fmt.Sprintf("strategy setting through terraform_data: %v", c.FeedSetting)
	}
	if g.chance(0.4) {
		equivalent = false
		if g.chance(0.5) {
			c.Version = g.newVersion()
			desc += ", version → " + c.Version
		} else {
			g.fresh++
			i := g.r.IntN(len(c.Targets))
			old := c.Targets[i].ID
			c.Targets[i].ID = fmt.Sprintf("r%d", g.fresh)
			desc += fmt.Sprintf(", rename target %s → %s", old, c.Targets[i].ID)
		}
	}
	return mStep{Desc: desc, CLI: cliApply, Equivalent: equivalent}, true
}

// TestModelSequence_deterministic: a seed always gives the same steps and
// configurations, which is what makes a failing sequence replayable.
func TestModelSequence_deterministic(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 20; seed++ {
		a, b := modelSequence(seed, 30), modelSequence(seed, 30)
		for i := range a {
			if a[i].String() != b[i].String() || a[i].Cfg.render("http://x") != b[i].Cfg.render("http://x") {
				t.Fatalf("seed %d step %d differs between two generations:\n%s\n%s", seed, i, a[i], b[i])
			}
			cfg := a[i].Cfg
			if len(cfg.Targets) < 2 || len(cfg.Targets) > modelMaxTargets {
				t.Fatalf("seed %d step %d: %d targets", seed, i, len(cfg.Targets))
			}
			ids, fleet, slots := map[string]bool{}, map[string]bool{}, map[string]bool{}
			for _, tg := range cfg.Targets {
				if ids[tg.ID] || fleet[tg.Fleet] {
					t.Fatalf("seed %d step %d: duplicate id or address: %s", seed, i, cfg.summary())
				}
				ids[tg.ID], fleet[tg.Fleet], slots[tg.Slot] = true, true, true
			}
			if !slots["blue"] || !slots["green"] {
				t.Fatalf("seed %d step %d: not both slots used: %s", seed, i, cfg.summary())
			}
			stages, at := cfg.stageList(), map[int]bool{}
			for _, gt := range cfg.Gates {
				if at[gt.At] || !slices.Contains(stages[:len(stages)-1], gt.At) {
					t.Fatalf("seed %d step %d: gate %s not at a stage below 100, once: %s", seed, i, gt, cfg.summary())
				}
				at[gt.At] = true
			}
		}
	}
}
