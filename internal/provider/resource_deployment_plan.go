package provider

// Planning a deployment: what the apply will do, decided by the engine's
// rules (strategies.NewPlan) and shown in the plan.

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

func (r *deploymentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		r.warnOnDestroy(ctx, req, resp)
		return
	}
	var plan deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := strategyName(&plan)
	if name == strategies.NameFeatureFlag && r.data != nil && r.data.flagEndpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("feature_flag"), "Missing flag endpoint",
			"feature_flag publishes the flag to the flag service: set the provider's flag_endpoint (or the "+EnvFlagEndpoint+" environment variable).")
		return
	}
	plan.ID = plan.Name
	plan.Strategy = types.StringValue(name)
	if name != strategies.NameBlueGreen {
		plan.ActiveSlot = types.StringNull()
	}

	// Whatever decides changed_targets that is unknown now makes it
	// unknown: the apply computes it.
	if plan.Targets.IsUnknown() || plan.Version.IsUnknown() || targetIdentityUnknown(plan.Targets) || strategyUnknown(&plan) || rolloutSettingsUnknown(ctx, &plan) {
		if strategyUnknown(&plan) {
			plan.Strategy = types.StringUnknown()
			plan.ActiveSlot = types.StringUnknown()
		}
		markRolloutUnknown(&plan)
		plan.ChangedTargets = types.ListUnknown(types.StringType)
		if req.State.Raw.IsNull() {
			plan.PreviousVersion = types.StringUnknown()
		}
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	spec, diags := r.spec(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	ctx = maskSecrets(ctx, spec.analysis.secrets())
	warnIgnoredApproval(spec, &resp.Diagnostics)

	if req.State.Raw.IsNull() {
		r.planCreate(ctx, spec, &plan, resp)
		return
	}
	r.planUpdate(ctx, req, spec, &plan, resp)
}

// planCreate plans a create: every target the strategy deploys first.
func (r *deploymentResource) planCreate(ctx context.Context, spec *deploymentSpec, plan *deploymentModel, resp *resource.ModifyPlanResponse) {
	r.checkQueries(ctx, spec, "", unknownQueries(ctx, plan.Analysis), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p := strategies.NewPlan(spec.strategy, spec.config, spec.version, spec.targets, strategies.Prior{})
	plan.ChangedTargets = stringListValue(targetIDs(p.Pending))
	plan.PreviousVersion = types.StringUnknown()
	markRolloutUnknown(plan)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
	r.summarize(spec, p, &resp.Diagnostics)
}

// planUpdate plans an update from the state and the private state: what
// is owed, or nothing to deploy.
func (r *deploymentResource) planUpdate(ctx context.Context, req resource.ModifyPlanRequest, spec *deploymentSpec, plan *deploymentModel, resp *resource.ModifyPlanResponse) {
	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	prior, d := r.prior(ctx, &state, readDeploymentPrivate(ctx, req.Private))
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	p := strategies.NewPlan(spec.strategy, spec.config, spec.version, spec.targets, prior)
	if p.Work() || !plan.Analysis.Equal(state.Analysis) {
		// Only a plan that measures, or changes what is measured, asks
		// Prometheus: an unchanged deployment plans without a call.
		r.checkQueries(ctx, spec, p.Request.PreviousVersion, unknownQueries(ctx, plan.Analysis), &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	plan.ChangedTargets = stringListValue(targetIDs(p.Pending))
	// The version a rollback would go to: the saved version after a change
	// of version, null after a revert to previous_version.
	plan.PreviousVersion = types.StringNull()
	if pv := p.Request.PreviousVersion; pv != "" {
		plan.PreviousVersion = types.StringValue(pv)
	}
	if p.Work() {
		markRolloutUnknown(plan)
		if !req.Config.Raw.IsFullyKnown() {
			// A setting unknown now may decide whether anything is owed
			// (a flag's initial_rollout): the apply decides.
			plan.ChangedTargets = types.ListUnknown(types.StringType)
			resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
			return
		}
		resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
		r.summarize(spec, p, &resp.Diagnostics)
		return
	}

	r.planUnchanged(ctx, plan, &state, spec, prior, p, req.Config.Raw.IsFullyKnown(), &resp.Diagnostics)
	warnPausedPlan(spec, prior, p, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// planUnchanged plans an update with nothing to deploy: a change of
// settings alone keeps the last rollout's outcome, and the apply makes no
// target call. configKnown is false when a setting is unknown at plan.
func (r *deploymentResource) planUnchanged(ctx context.Context, plan, state *deploymentModel, spec *deploymentSpec, prior strategies.Prior, p strategies.Plan, configKnown bool, diags *diag.Diagnostics) {
	keepOutcome(plan, state, spec, prior, p)
	// changed_targets describes the last apply; keep it while nothing
	// else changes, so a converged deployment plans no change. When
	// settings change, the update changes no target: say so. A setting
	// unknown now may turn out either way: the apply decides.
	stateSpec, d := r.spec(ctx, state)
	diags.Append(d...)
	switch {
	case !configKnown:
		plan.ChangedTargets = types.ListUnknown(types.StringType)
	case sameSettings(spec, stateSpec) && plan.OnDestroy.Equal(state.OnDestroy) && plan.Timeouts.Equal(state.Timeouts):
		plan.ChangedTargets = state.ChangedTargets
	default:
		plan.ChangedTargets = stringListValue(nil)
	}
}

// summarize says in the plan's text which targets the apply deploys:
// Terraform's diff hides list elements equal to the prior ones, and
// changed_targets may equal its prior value (a retry after a failure).
func (r *deploymentResource) summarize(spec *deploymentSpec, p strategies.Plan, diags *diag.Diagnostics) {
	ids := targetIDs(p.Pending)
	what := fmt.Sprintf("deploys %q to %d of %d targets: %s", spec.version, len(ids), len(spec.targets), listForPlan(ids))
	switch {
	case len(ids) == 0 && len(p.Unread) > 0:
		what = fmt.Sprintf("deploys no target; it reads what %s run, which state does not know", listForPlan(targetIDs(p.Unread)))
	case p.Revert:
		what = fmt.Sprintf("reverts to %q: it takes %q's traffic away, then deploys %q to %d of %d targets: %s",
			spec.version, p.RevertRequest.Version, spec.version, len(ids), len(spec.targets), listForPlan(ids))
		if rel := p.RevertRequest.Reinstate; rel != nil {
			var others []string
			for _, t := range p.RevertTargets {
				if v := rel.RestoreTo(t.ID); v != spec.version {
					others = append(others, t.ID+" ("+v+")")
				}
			}
			if len(others) > 0 {
				what += "; and gives back what they ran before to " + listForPlan(others)
			}
			what += fmt.Sprintf("; %q was paused at a gate and stays paused there (paused_at = %s)", spec.version, percent(rel.PausedAt))
		}
	case len(ids) == 0:
		what = fmt.Sprintf("deploys no target: every target already runs %q; it completes the %s traffic step", spec.version, spec.strategy)
	}
	if !p.Revert {
		what += gateStop(spec, p.Request)
	}
	// The CLI plans once more while applying, and shows this warning again
	// after "Apply complete!": nothing in the request tells the two plans
	// apart, so the text says it.
	diags.AddWarning("Rollout planned",
		fmt.Sprintf("Deployment %q: this apply %s (changed_targets; in JSON plans: resource_changes[].change.after.changed_targets). "+
			"Terraform plans again while it applies, so this note shows again after the apply.", spec.name, what))
}

// listForPlan names up to 50 ids.
func listForPlan(ids []string) string {
	const most = 50
	if len(ids) <= most {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:most], ", "), len(ids)-most)
}

// keepOutcome copies the last rollout's outcome into a plan that deploys
// nothing.
func keepOutcome(plan, state *deploymentModel, spec *deploymentSpec, prior strategies.Prior, p strategies.Plan) {
	plan.Status = state.Status
	plan.TargetsUpdated = state.TargetsUpdated
	plan.TargetsFailed = state.TargetsFailed
	plan.DurationMs = state.DurationMs
	plan.DeployedAt = state.DeployedAt
	plan.TargetVersions = state.TargetVersions
	if pruned := prior.Versions.Listed(spec.targets); len(pruned) != len(prior.Versions) {
		// Targets removed from the list are left alone and forgotten.
		plan.TargetVersions = stringMapValue(pruned)
	}
	plan.TrafficPercentage = state.TrafficPercentage
	plan.AnalysisResults = state.AnalysisResults
	if plan.Analysis.IsNull() {
		// Without analysis there are no results (removed in this plan).
		plan.AnalysisResults = types.ListNull(analysisResultType)
	}
	plan.PausedAt = state.PausedAt
	plan.ResumeAt = state.ResumeAt
	if g := p.Request.Gates; g.Paused {
		// Still paused: the gate's wait as configured now decides when it
		// opens.
		plan.ResumeAt = resumeValue(g.ResumeAt)
	}
	if spec.strategy == strategies.NameBlueGreen {
		plan.ActiveSlot = state.ActiveSlot
		if prior.ActiveSlot != "" {
			plan.ActiveSlot = types.StringValue(prior.ActiveSlot)
		}
	}
	if p.VersionChanged {
		plan.Status = types.StringValue(string(strategies.StatusCompleted))
	}
}

// targetIdentityUnknown reports whether some target's id, address or slot
// is unknown, while the list itself is known.
func targetIdentityUnknown(l types.List) bool {
	if l.IsNull() || l.IsUnknown() {
		return false
	}
	for _, e := range l.Elements() {
		obj, ok := e.(types.Object)
		if !ok || obj.IsUnknown() {
			return true
		}
		for _, name := range []string{"id", "address", "slot"} {
			if v, ok := obj.Attributes()[name]; ok && v.IsUnknown() {
				return true
			}
		}
	}
	return false
}

// rolloutSettingsUnknown reports whether a setting of the strategy that
// runs, or the approval, is unknown: stages, gates and their waits,
// pause_before_switch and approve decide which targets the apply deploys
// and where it stops.
func rolloutSettingsUnknown(ctx context.Context, m *deploymentModel) bool {
	block := map[string]attr.Value{
		strategies.NameRolling:     m.Rolling,
		strategies.NameBlueGreen:   m.BlueGreen,
		strategies.NameCanary:      m.Canary,
		strategies.NameFeatureFlag: m.FeatureFlag,
	}[strategyName(m)]
	return !fullyKnown(ctx, block) || !fullyKnown(ctx, m.Approve)
}

// fullyKnown reports whether v and everything inside it is known.
func fullyKnown(ctx context.Context, v attr.Value) bool {
	tv, err := v.ToTerraformValue(ctx)
	return err == nil && tv.IsFullyKnown()
}

// strategyUnknown reports whether which strategy runs is unknown.
func strategyUnknown(m *deploymentModel) bool {
	return m.Rolling.IsUnknown() || m.BlueGreen.IsUnknown() || m.Canary.IsUnknown() || m.FeatureFlag.IsUnknown()
}

// sameSettings compares two configurations in engine terms, where numbers
// are float64 and compare by value whatever precision Terraform kept.
func sameSettings(a, b *deploymentSpec) bool {
	return reflect.DeepEqual(a, b)
}

func markRolloutUnknown(m *deploymentModel) {
	m.Status = types.StringUnknown()
	m.TargetsUpdated = types.Int64Unknown()
	m.TargetsFailed = types.Int64Unknown()
	m.DurationMs = types.Int64Unknown()
	m.DeployedAt = types.StringUnknown()
	m.TargetVersions = types.MapUnknown(types.StringType)
	m.TrafficPercentage = types.Float64Unknown()
	m.PausedAt = types.Float64Unknown()
	m.ResumeAt = types.StringUnknown()
	m.AnalysisResults = types.ListUnknown(analysisResultType)
	if m.Analysis.IsNull() {
		m.AnalysisResults = types.ListNull(analysisResultType)
	}
	if m.Strategy.ValueString() == strategies.NameBlueGreen {
		m.ActiveSlot = types.StringUnknown()
	}
}

func (r *deploymentResource) warnOnDestroy(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	switch {
	case state.OnDestroy.ValueString() == onDestroyNone:
		resp.Diagnostics.AddWarning("Destroy will not roll back",
			fmt.Sprintf("Deployment %q has on_destroy = \"none\", so destroying it only removes it from state; the targets keep running %q.",
				state.Name.ValueString(), state.Version.ValueString()))
	case state.PreviousVersion.IsNull() || state.PreviousVersion.ValueString() == "":
		resp.Diagnostics.AddWarning("Destroy will not roll back",
			fmt.Sprintf("Deployment %q has no known previous_version, so destroying it only removes it from state; the targets keep running %q.",
				state.Name.ValueString(), state.Version.ValueString()))
	}
}
