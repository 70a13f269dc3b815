package provider

// The model of TestAccModel_randomSequences: a small description of a
// codomyrmex_deployment configuration, the things users and the world do to
// it, and a seeded generator of sequences of them. Everything here is pure:
// a seed gives the same sequence of steps on every machine, so a failing
// sequence is replayed with CODOMYRMEX_MODEL_SEEDS=<seed>. The
// configuration is rendered to HCL in model_render_test.go, the generator
// is model_gen_test.go; the driver that runs the steps against the real CLI
// and checks the invariants is in model_acc_test.go.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

const (
	// modelFleetSize targets t1 … t8 are simulated; a configuration uses
	// at most modelMaxTargets of them, so re-addressing has somewhere to go.
	modelFleetSize  = 8
	modelMaxTargets = 6
	modelInitial    = "1.0.0"
	modelFlag       = "web-flag"
)

// modelVersions is the pool of versions a configuration moves between; the
// "-bad" ones are the ones faults are usually aimed at.
var modelVersions = []string{"1.0.0", "2.0.0", "3.0.0", "4.0.0", "2.1.0-bad", "3.1.0-bad"}

// modelDriftVersions are what a target is changed to behind the provider's
// back.
var modelDriftVersions = []string{"0.9.0-hotfix", "1.0.0", "3.0.0", "4.0.0"}

var modelStrategies = []string{"rolling", "blue_green", "canary", "feature_flag"}

// Spellings of equivalent values: the index into each list is part of the
// model, so that an "equivalent edit" changes only how a value is written.
var (
	// rolling.batch_delay when a single batch holds every target (batch_size
	// 10): "" leaves it out, its default being 5s.
	modelLongDelays = []string{"", "5s", "5000ms"}
	// rolling.batch_delay with several batches, and canary.stage_interval.
	modelZeroDurations = []string{"0s", "0ms", "0m"}
	modelStages        = []string{"", "[10, 25, 50, 100]", "[50, 100]", "[34, 100]"}
	modelThresholds    = []string{"", "0.95", "0.5"}
	modelRollouts      = []string{"", "0", "10", "50"}
)

// Gates. A time gate's wait is short (the driver sleeps
// until it is over before the next step, so that every step after a pause
// at one sees it open: the real clock of the CLI decides, and this keeps a
// seed's outcomes the same from run to run) or long (it never opens during
// a sequence: only an approval of nothing, a revert or a new version get
// past it). The two spellings of the short wait are the same duration.
var (
	modelShortWaits = []string{"2s", "2000ms"}
	modelLongWait   = "1h"
	// modelPlanWaits are the wait of the gate a saved plan is made at
	// before it is due, and the longer wait that plan sets (opGatePlan):
	// long enough for a plan to finish before the gate is due on a busy
	// machine.
	modelPlanWaits = []string{"8s", "10s"}
)

// mGate is one element of canary.gates: At is one of the stages below 100;
// Wait "" is a manual gate.
type mGate struct {
	At   int
	Wait string
}

func (g mGate) short() bool { return g.Wait != "" && g.Wait != modelLongWait }

// waitDuration is the gate's wait (0 for a manual gate).
func (g mGate) waitDuration() time.Duration {
	d, _ := time.ParseDuration(g.Wait)
	return d
}

func (g mGate) String() string {
	if g.Wait == "" {
		return fmt.Sprintf("%d", g.At)
	}
	return fmt.Sprintf("%d(wait %s)", g.At, g.Wait)
}

// mTarget is one element of targets: its id, the simulated fleet target its
// address points at, its slot (rendered only with blue_green) and whether
// it says name = "".
type mTarget struct {
	ID, Fleet, Slot string
	EmptyName       bool
}

// mConfig is the configuration of codomyrmex_deployment.web (and the
// terraform_data.gen that can feed it values unknown at plan time).
type mConfig struct {
	Version  string
	Strategy string
	Targets  []mTarget

	AutoRollback, AutoRollbackSet   bool // Set: written out although it is the default
	ExpectVersion, ExpectVersionSet bool

	BatchSize      int // rolling: 1, 2 or 10
	Delay          int // rolling: index into modelLongDelays (batch 10) or modelZeroDurations
	MaxFailuresSet bool
	Stages         int // canary: index into modelStages (0 and 1 are the same stages)
	Interval       int // canary: index into modelZeroDurations
	Threshold      int // canary: index into modelThresholds (0 and 1 are the same)
	Rollout        int // feature_flag: index into modelRollouts (0 and 1 are the same)

	// Gates (canary), in the order they are written; PauseBeforeSwitch
	// (blue_green). Approve: approve = { version = ApproveVersion, through =
	// ApproveThrough } when ApproveVersion is set; ApproveThrough "" leaves
	// through out (100).
	Gates                          []mGate
	PauseBeforeSwitch              bool
	ApproveVersion, ApproveThrough string

	// Analysis: a web check of the driver's (modelWorld) measured in
	// every window; AnalysisDelay: its initial_delay is 300ms; Bake: bake
	// is 1s.
	Analysis, AnalysisDelay, Bake bool

	// UpdateTimeout is timeouts.update, set for one step only (an apply
	// that times out).
	UpdateTimeout string

	// Values routed through terraform_data.gen.output: any change of them,
	// or of Token (triggers_replace), makes them unknown at plan time.
	// FeedGates: 1 the whole canary.gates list, 2 each gate's wait.
	FeedVersion, FeedIDs, FeedSetting, FeedApprove bool
	FeedGates                                      int
	Token                                          int
}

func (c mConfig) clone() mConfig {
	c.Targets = slices.Clone(c.Targets)
	c.Gates = slices.Clone(c.Gates)
	return c
}

// stageList is canary.stages as numbers.
func (c *mConfig) stageList() []int {
	switch c.Stages % len(modelStages) {
	case 2:
		return []int{50, 100}
	case 3:
		return []int{34, 100}
	default:
		return []int{10, 25, 50, 100}
	}
}

// hasGates: the configuration stops a rollout of its strategy somewhere.
func (c *mConfig) hasGates() bool {
	return (c.Strategy == "canary" && len(c.Gates) > 0) || (c.Strategy == "blue_green" && c.PauseBeforeSwitch)
}

// hasShortGate: a canary time gate that opens during a sequence.
func (c *mConfig) hasShortGate() bool {
	if c.Strategy != "canary" {
		return false
	}
	for _, g := range c.Gates {
		if g.short() {
			return true
		}
	}
	return false
}

// approveThrough is the through of approve (100 when left out).
func (c *mConfig) approveThrough() float64 {
	if c.ApproveThrough == "" {
		return 100
	}
	n, _ := strconv.ParseFloat(c.ApproveThrough, 64)
	return n
}

// approves: approve names the configured version and opens the manual
// gates at or below at.
func (c *mConfig) approves(at float64) bool {
	return c.ApproveVersion == c.Version && at <= c.approveThrough()
}

// gateAt is the configured canary gate at pct.
func (c *mConfig) gateAt(pct float64) (mGate, bool) {
	for _, g := range c.Gates {
		if float64(g.At) == pct {
			return g, true
		}
	}
	return mGate{}, false
}

// canaryStop is where a canary rollout of the configured version stops:
// at the first gate ahead that is still closed, 100 when none is. from is
// the traffic the version has (a gate there is ahead); paused: the
// rollout is paused at from; due: the time gate there has waited long
// enough.
func (c *mConfig) canaryStop(from float64, paused, due bool) float64 {
	gates := slices.Clone(c.Gates)
	slices.SortFunc(gates, func(a, b mGate) int { return a.At - b.At })
	for _, g := range gates {
		at := float64(g.At)
		if at < from {
			continue
		}
		if g.Wait != "" && paused && due && at == from {
			continue
		}
		if g.Wait == "" && c.approves(at) {
			continue
		}
		return at
	}
	return 100
}

// mAction is something the world does: drift, a fault, a service outage,
// the web check failing or slow, deploys slow.
type mAction struct {
	// "drift", "fault", "clear", "router", "flags"; "check": the web check
	// fails for Versions and answers after Hang; "hang": deploys of Version
	// reach the fleet after Hang; "calm": no check or deploy is slow any
	// more (a failing check still fails).
	Kind     string
	Target   string // fleet target id
	Version  string // drift: the version the target now runs; hang
	Versions []string
	Fault    simulator.Fault
	Down     bool // router, flags
	Hang     time.Duration
}

func (a mAction) String() string {
	switch a.Kind {
	case "drift":
		return fmt.Sprintf("drift %s→%s", a.Target, a.Version)
	case "fault":
		return fmt.Sprintf("fault %s{%s}", a.Target, describeFault(a.Fault))
	case "clear":
		return "clear faults"
	case "check":
		s := "web check"
		if len(a.Versions) > 0 {
			s += " fails for " + strings.Join(a.Versions, ",")
		}
		if a.Hang > 0 {
			s += fmt.Sprintf(" answers after %s", a.Hang)
		}
		return s
	case "hang":
		return fmt.Sprintf("deploys of %s take %s", a.Version, a.Hang)
	case "calm":
		return "nothing slow"
	default:
		if a.Down {
			return a.Kind + " down"
		}
		return a.Kind + " up"
	}
}

// mInterrupt says where the driver interrupts an apply: SIGINT once the
// world saw the Nth deploy of Version ("deploy", "revert") or a web check
// of it (in Stage, when set: "window", "bake", "resume"); or, without
// Signal, timeouts.update expires while such a call is slow.
type mInterrupt struct {
	Point   string
	Signal  bool
	Version string
	Stage   string
	Nth     int
}

func (in mInterrupt) String() string {
	how := "timeouts.update expires"
	if in.Signal {
		how = "Ctrl-C"
	}
	what := fmt.Sprintf("deploy #%d of %s", in.Nth, in.Version)
	if in.Point != "deploy" && in.Point != "revert" {
		what = "a web check of " + in.Version
		if in.Stage != "" {
			what += " in " + in.Stage
		}
	}
	return fmt.Sprintf("%s at the %s (%s)", how, in.Point, what)
}

// mStep is one step of a sequence: the world changes, the configuration
// becomes Cfg, the CLI runs.
type mStep struct {
	Op string
	// Variant: which kind of its op the step is (an edit-gate's edit, an
	// interrupt's point), for the coverage of the default seeds.
	Variant string
	Desc    string
	Cfg     mConfig
	World   []mAction // before the CLI
	CLI     string
	Between []mAction // cliPlanfile: after the plan, before its apply
	After   []mAction // after the CLI (a fault that passes)
	// Equivalent: the configuration changed only in ways that do not
	// change what runs (or only went through an unknown-at-plan value).
	Equivalent bool
	// NoOp: the configuration changed a setting that opens nothing (an
	// approval of another version): no target, router or flag call.
	NoOp bool
	// WaitGate: time passed a time gate's wait; the driver first checks
	// that the plan continues the rollout.
	WaitGate bool
	// Interrupt: the apply is interrupted (or times out) at a point.
	Interrupt *mInterrupt
	// First: cliPlanAcross's first configuration.
	First *mConfig
	// noPlanCheck: the driver leaves out the plan after a successful apply
	// (invariant d), as the step goes on.
	noPlanCheck bool
}

func (s mStep) String() string {
	var p []string
	p = append(p, s.Op+": "+s.Desc)
	if len(s.World) > 0 {
		p = append(p, "world: "+joinActions(s.World))
	}
	if s.CLI != cliNone {
		p = append(p, "cli: "+s.CLI)
	}
	if len(s.Between) > 0 {
		p = append(p, "between plan and apply: "+joinActions(s.Between))
	}
	if s.Interrupt != nil {
		p = append(p, "interrupt: "+s.Interrupt.String())
	}
	if len(s.After) > 0 {
		p = append(p, "after it: "+joinActions(s.After))
	}
	return strings.Join(p, "; ")
}

func joinActions(as []mAction) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
