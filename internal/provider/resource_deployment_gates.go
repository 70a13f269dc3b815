package provider

// Gates across applies (docs/resources/deployment.md, "Analysis, bake and gates"): canary.gates, blue_green's
// pause_before_switch, approve, and what the plan and the apply say about
// them.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

type gateModel struct {
	At   types.Float64 `tfsdk:"at"`
	Wait types.String  `tfsdk:"wait"`
}

type approveModel struct {
	Version types.String  `tfsdk:"version"`
	Through types.Float64 `tfsdk:"through"`
}

func gatesSchema() schema.ListNestedAttribute {
	return schema.ListNestedAttribute{
		MarkdownDescription: "Gates across applies. Once the stage at `at` is healthy, its `stage_interval` has passed and its analysis too, " +
			"the apply ends successfully with `status = \"paused\"` and `paused_at = at`. A manual gate (no `wait`) continues when " +
			"`approve` names the version with `through` at or above `at`. A time gate opens `wait` after it was reached (`resume_at`, " +
			"which follows `wait` if you change it while paused): plan and apply again after that, from a scheduled job for instance. " +
			"The plan decides: a plan made before `resume_at` applies as paused even if applied later, and a plan with " +
			"`-refresh=false` decides as of the last refresh or apply. While paused, a plan with nothing new is empty.",
		Optional:   true,
		Validators: []validator.List{listvalidator.SizeAtMost(20)},
		NestedObject: schema.NestedAttributeObject{
			Attributes: map[string]schema.Attribute{
				"at": schema.Float64Attribute{
					MarkdownDescription: "One of `stages`, below 100.",
					Required:            true,
					Validators:          []validator.Float64{float64validator.Between(0, 100)},
				},
				"wait": schema.StringAttribute{
					MarkdownDescription: "Makes it a time gate: how long after reaching it the rollout may continue, a Go duration.",
					Optional:            true,
					Validators:          []validator.String{positiveDuration{}},
				},
			},
		},
	}
}

func pauseBeforeSwitchSchema() schema.BoolAttribute {
	return schema.BoolAttribute{
		MarkdownDescription: "A manual gate before the switch: the idle slot is deployed and healthy, traffic is untouched, and the apply ends " +
			"with `status = \"paused\"`; `approve = { version = ... }` makes the next apply switch. Defaults to `false`.",
		Optional: true,
	}
}

func approveSchema() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"approve": schema.SingleNestedAttribute{
			MarkdownDescription: "Opens manual gates for one version: those at or below `through` (canary), and `pause_before_switch`. An approval " +
				"for another version than `version` is ignored with a warning, so approvals never carry over into the next release.",
			Optional: true,
			Attributes: map[string]schema.Attribute{
				"version": schema.StringAttribute{
					MarkdownDescription: "The version approved; must equal `version` to open anything.",
					Required:            true,
				},
				"through": schema.Float64Attribute{
					MarkdownDescription: "Opens the manual gates at or below this percentage. Defaults to 100: every manual gate.",
					Optional:            true,
					Validators:          []validator.Float64{float64validator.Between(0, 100)},
				},
			},
		},
		"paused_at": computedFloat64("While `status = \"paused\"`: the percentage of the gate the rollout waits at (blue/green: 0, before the switch). Null otherwise."),
		"resume_at": computedString("While paused at a time gate: when it opens (RFC 3339), the time the gate was reached plus its current `wait`; " +
			"a plan and apply after it continue. Null otherwise."),
	}
}

// readGates translates canary.gates.
func readGates(ctx context.Context, l types.List) ([]strategies.Gate, diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, nil
	}
	var models []gateModel
	diags := l.ElementsAs(ctx, &models, false)
	gates := make([]strategies.Gate, 0, len(models))
	for _, m := range models {
		gates = append(gates, strategies.Gate{At: m.At.ValueFloat64(), Wait: mustDuration(m.Wait, zeroSeconds)})
	}
	return gates, diags
}

// readApprove translates approve; nil when it is not set.
func readApprove(ctx context.Context, o types.Object) (*strategies.Approval, diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return nil, nil
	}
	var am approveModel
	diags := o.As(ctx, &am, objectAsOptions)
	a := &strategies.Approval{Version: am.Version.ValueString(), Through: 100}
	if !am.Through.IsNull() && !am.Through.IsUnknown() {
		a.Through = am.Through.ValueFloat64()
	}
	return a, diags
}

// validateGates checks at plan that every gate stands at one of the stages,
// below 100, once.
func validateGates(ctx context.Context, canary types.Object, diags *diag.Diagnostics) {
	if canary.IsNull() || canary.IsUnknown() {
		return
	}
	var cm canaryModel
	diags.Append(canary.As(ctx, &cm, objectAsOptions)...)
	if diags.HasError() || cm.Gates.IsNull() || cm.Gates.IsUnknown() || cm.Stages.IsUnknown() {
		return
	}
	stages := defaultCanaryStages
	if !cm.Stages.IsNull() {
		var s []float64
		if d := cm.Stages.ElementsAs(ctx, &s, false); d.HasError() {
			return
		}
		stages = s
	}
	var gates []gateModel
	diags.Append(cm.Gates.ElementsAs(ctx, &gates, false)...)
	seen := map[float64]bool{}
	for i, g := range gates {
		if g.At.IsUnknown() {
			continue
		}
		at, p := g.At.ValueFloat64(), path.Root("canary").AtName("gates").AtListIndex(i).AtName("at")
		switch {
		case at >= 100:
			diags.AddAttributeError(p, "Gate at 100", fmt.Sprintf("%s = %g: a gate must stand below 100; at 100 the rollout is done.", p, at))
		case !slices.Contains(stages, at):
			diags.AddAttributeError(p, "Gate not at a stage", fmt.Sprintf("%s = %g must be one of canary.stages %v.", p, at, stages))
		case seen[at]:
			diags.AddAttributeError(p, "Two gates at one stage", fmt.Sprintf("%s = %g: another gate stands at that stage.", p, at))
		}
		seen[at] = true
	}
}

// warnIgnoredApproval says when approve opens nothing.
func warnIgnoredApproval(spec *deploymentSpec, diags *diag.Diagnostics) {
	a := spec.config.Approve
	if a == nil || a.Version == spec.version {
		return
	}
	diags.AddAttributeWarning(path.Root("approve").AtName("version"), "Approval ignored",
		fmt.Sprintf("approve.version is %q but deployment %q rolls out %q: the approval opens no gate. Approvals name the version they approve, so they never carry into the next release.",
			a.Version, spec.name, spec.version))
}

// pausedWarning says, after an apply that paused, what continues the
// rollout, which gate comes next, and how to abandon it (previous is
// previous_version).
func pausedWarning(spec *deploymentSpec, res *strategies.Result, previous string, diags *diag.Diagnostics) {
	if res.Status != strategies.StatusPaused {
		return
	}
	diags.AddWarning("Rollout paused", fmt.Sprintf("Deployment %q is paused %s",
		spec.name, pausedText(spec, res.PausedAt, time.Time{}, res.ResumeAt, previous)))
}

// warnPausedPlan says, in a plan that leaves a paused rollout where it is
// (an empty plan, or a change of settings alone), where it waits, since
// when, and what continues it: the plan itself shows no change.
func warnPausedPlan(spec *deploymentSpec, prior strategies.Prior, p strategies.Plan, diags *diag.Diagnostics) {
	if !p.Request.Gates.Paused || p.Work() {
		return
	}
	diags.AddWarning("Rollout paused", fmt.Sprintf("Deployment %q is paused %s This plan continues nothing.",
		spec.name, pausedText(spec, prior.PausedAt, prior.PausedSince, p.Request.Gates.ResumeAt, prior.PreviousVersion)))
}

// pausedText says where a paused rollout waits (since when, when known),
// what continues it, the gate after it, and how to abandon it.
func pausedText(spec *deploymentSpec, at float64, since, resumeAt time.Time, previous string) string {
	var b strings.Builder
	when := ""
	if !since.IsZero() {
		when = " since " + since.UTC().Format(time.RFC3339)
	}
	switch {
	case spec.strategy == strategies.NameBlueGreen:
		fmt.Fprintf(&b, "before the switch%s: the idle slot runs %q and is healthy, traffic is untouched. To switch, set approve = { version = %q }.",
			when, spec.version, spec.version)
	case !resumeAt.IsZero():
		fmt.Fprintf(&b, "at %s%%%s until the time gate opens at %s: plan and apply again after that (from a scheduled job, for instance) to continue the rollout; nothing moves until an apply.",
			percent(at), when, resumeValue(resumeAt).ValueString())
	default:
		fmt.Fprintf(&b, "at %s%%%s: to continue, set approve = { version = %q, through = %s }.",
			percent(at), when, spec.version, percent(at))
	}
	if spec.strategy == strategies.NameCanary {
		if g, ok := nextGate(spec.config.Canary.Gates, at); ok {
			fmt.Fprintf(&b, " The next gate is %s.", gateText(g))
		} else {
			b.WriteString(" No gate follows: from there the rollout goes on to 100%.")
		}
	}
	if previous != "" {
		fmt.Fprintf(&b, " To abandon it, set version back to %q.", previous)
	} else {
		b.WriteString(" To abandon it, set version back to the previous version.")
	}
	return b.String()
}

// nextGate is the first gate above at.
func nextGate(gates []strategies.Gate, at float64) (strategies.Gate, bool) {
	var next strategies.Gate
	found := false
	for _, g := range gates {
		if g.At > at && (!found || g.At < next.At) {
			next, found = g, true
		}
	}
	return next, found
}

// gateText names a gate, its kind and what opens it.
func gateText(g strategies.Gate) string {
	if g.Wait > 0 {
		return fmt.Sprintf("the time gate at %s%% (it opens %s after the rollout reaches it; approve does not open it)", percent(g.At), waitText(g.Wait))
	}
	return fmt.Sprintf("the manual gate at %s%% (approve with through = %s or higher opens it)", percent(g.At), percent(g.At))
}

// gateStop says where a planned canary or blue/green apply stops at a gate
// ("" when it goes to the end).
func gateStop(spec *deploymentSpec, req strategies.Request) string {
	switch spec.strategy {
	case strategies.NameCanary:
		until := spec.config.Canary.Until(req)
		for _, g := range spec.config.Canary.Gates {
			if g.At == until {
				return fmt.Sprintf("; it stops at %s, with status = \"paused\"", gateText(g))
			}
		}
	case strategies.NameBlueGreen:
		if spec.config.BlueGreen.PauseBeforeSwitch && !req.Gates.Approved {
			return fmt.Sprintf("; it stops before the switch (pause_before_switch), with status = \"paused\", until approve names %q", spec.version)
		}
	}
	return ""
}

// waitText prints a gate's wait without zero units: 24h, 1h30m, 90s as 1m30s.
func waitText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// pausedValues are paused_at and resume_at after an apply.
func pausedValues(res *strategies.Result) (types.Float64, types.String) {
	if res.Status != strategies.StatusPaused {
		return types.Float64Null(), types.StringNull()
	}
	return types.Float64Value(res.PausedAt), resumeValue(res.ResumeAt)
}

// resumeValue is resume_at: RFC 3339 (the engine rounds it up to the
// second), null for none.
func resumeValue(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

// percent prints a percentage without trailing zeros: 25, 12.5.
func percent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }
