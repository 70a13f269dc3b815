package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

const defaultOperationTimeout = 30 * time.Minute

// withOperationTimeout bounds an operation by its timeouts entry; the
// context's cause names it, so a rollout it cuts short says which timeout
// expired.
func withOperationTimeout(ctx context.Context, op string, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, timeout, fmt.Errorf("timeouts.%s (%s) expired", op, timeout))
}

var (
	_ resource.Resource                     = (*deploymentResource)(nil)
	_ resource.ResourceWithConfigure        = (*deploymentResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*deploymentResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*deploymentResource)(nil)
	_ resource.ResourceWithConfigValidators = (*deploymentResource)(nil)
)

type deploymentResource struct {
	resourceBase
}

func (r *deploymentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_deployment"
}

func (r *deploymentResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m deploymentModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	validateAnalysis(ctx, m.Analysis, &resp.Diagnostics)
	validateGates(ctx, m.Canary, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || m.BlueGreen.IsNull() || m.BlueGreen.IsUnknown() || m.Targets.IsUnknown() || m.Targets.IsNull() {
		return
	}
	var targets []targetModel
	resp.Diagnostics.Append(m.Targets.ElementsAs(ctx, &targets, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	used := map[string]bool{}
	for i, t := range targets {
		if t.Slot.IsUnknown() {
			return
		}
		if t.Slot.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("targets").AtListIndex(i).AtName("slot"), "Missing slot",
				fmt.Sprintf("targets[%d].slot: with blue_green every target needs slot = \"blue\" or \"green\".", i))
			continue
		}
		used[t.Slot.ValueString()] = true
	}
	if !resp.Diagnostics.HasError() && (!used[strategies.SlotBlue] || !used[strategies.SlotGreen]) {
		resp.Diagnostics.AddAttributeError(path.Root("targets"), "Both slots must be used",
			"targets: with blue_green, at least one target must have slot = \"blue\" and at least one slot = \"green\".")
	}
}

func (r *deploymentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := withOperationTimeout(r.data.mask(ctx), "create", timeout)
	defer cancel()

	spec, d := r.spec(ctx, &plan)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = maskSecrets(ctx, append(spec.analysis.secrets(), notificationSecrets(plan.Notifications)...))
	env := r.env(ctx, spec)
	sender, d := r.data.newSender(ctx, notify.DeploymentType, spec.name, plan.Notifications, r.clock.Now)
	resp.Diagnostics.Append(d...)
	defer closeSender(sender, &resp.Diagnostics)
	env.Notify = noticeSink(sender)

	// The fleet's current versions give previous_version, and what each
	// target goes back to should the rollout fail.
	versions, readErrs := strategies.ReadVersions(ctx, spec.targets, env)
	prev, ok := strategies.DetectPreviousVersion(versions, readErrs, spec.version)
	if !ok {
		resp.Diagnostics.AddWarning("previous_version is unknown",
			fmt.Sprintf("The targets of deployment %q do not all report one version other than %q (%s), so previous_version is null: a failure cannot be rolled back automatically and destroy will not roll back.",
				spec.name, spec.version, describeVersions(spec.targets, versions, readErrs)))
		prev = ""
	}
	tflog.Info(ctx, "rollout starting", map[string]any{"deployment": spec.name, "version": spec.version, "strategy": spec.strategy, "previous_version": prev, "targets": len(spec.targets)})

	p := strategies.NewPlan(spec.strategy, spec.config, spec.version, spec.targets, strategies.Prior{})
	rq := r.request(spec, p.Request)
	rq.PreviousVersion = prev
	rq.Before = versions
	res := r.execute(ctx, spec, env, rq)
	saved := strategies.AfterApply(spec.strategy, rq, strategies.Prior{}, res)
	r.applyResult(&plan, spec, res, saved)
	if !res.Success {
		next := nextAfterFailure(spec, res, saved, res.Status != strategies.StatusRolledBack)
		resp.Diagnostics.AddError("Deployment failed", failureMessage(spec, res, rq.PreviousVersion, next))
		if res.Status == strategies.StatusRolledBack {
			// Everything this apply touched runs what it ran before: save no
			// state, so the next apply starts afresh.
			return
		}
	}
	r.warnTolerated(spec, res, &resp.Diagnostics)
	pausedWarning(spec, res, saved.PreviousVersion, &resp.Diagnostics)
	resp.Diagnostics.Append(r.applied(res, saved).write(ctx, resp.Private)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *deploymentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Status.IsUnknown() {
		// The plan deploys nothing and already holds the outcome (ModifyPlan
		// leaves status unknown exactly when the apply calls the fleet).
		priv := readDeploymentPrivate(ctx, req.Private)
		priv.asOf = r.clock.Now()
		resp.Diagnostics.Append(priv.write(ctx, resp.Private)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := withOperationTimeout(r.data.mask(ctx), "update", timeout)
	defer cancel()

	spec, d := r.spec(ctx, &plan)
	resp.Diagnostics.Append(d...)
	priv := readDeploymentPrivate(ctx, req.Private)
	prior, d := r.prior(ctx, &state, priv)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	p := strategies.NewPlan(spec.strategy, spec.config, spec.version, spec.targets, prior)
	rq := r.request(spec, p.Request)
	ctx = maskSecrets(ctx, append(spec.analysis.secrets(), notificationSecrets(plan.Notifications)...))
	env := r.env(ctx, spec)
	sender, d := r.data.newSender(ctx, notify.DeploymentType, spec.name, plan.Notifications, r.clock.Now)
	resp.Diagnostics.Append(d...)
	defer closeSender(sender, &resp.Diagnostics)
	env.Notify = noticeSink(sender)
	if p.Revert {
		r.revert(ctx, spec, env, p, prior, &plan, resp)
		return
	}
	res, saved := r.rollout(ctx, spec, env, rq, prior, len(p.Pending))
	if !res.Success {
		resp.Diagnostics.AddError("Deployment failed", failureMessage(spec, res, rq.PreviousVersion, nextAfterFailure(spec, res, saved, true)))
	}
	r.applyResult(&plan, spec, res, saved)
	r.warnTolerated(spec, res, &resp.Diagnostics)
	pausedWarning(spec, res, saved.PreviousVersion, &resp.Diagnostics)
	resp.Diagnostics.Append(r.applied(res, saved).write(ctx, resp.Private)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// rollout runs the planned request rq on top of prior and returns the
// result and what state saves.
func (r *deploymentResource) rollout(ctx context.Context, spec *deploymentSpec, env strategies.Env, rq strategies.Request, prior strategies.Prior, changed int) (*strategies.Result, strategies.Saved) {
	// Targets state knows nothing about (added, or at another address) are
	// read first: a rollback puts back what they ran.
	if unknown := strategies.Unknown(rq); len(unknown) > 0 {
		rq.Before, _ = strategies.ReadVersions(ctx, unknown, env)
	}
	tflog.Info(ctx, "rollout starting", map[string]any{"deployment": spec.name, "version": spec.version, "strategy": spec.strategy, "previous_version": rq.PreviousVersion, "changed_targets": changed})
	res := r.execute(ctx, spec, env, rq)
	saved := strategies.AfterApply(spec.strategy, rq, prior, res)
	// A failure that left everything as a paused rollout had it is paused
	// again.
	saved, back := strategies.BackAtGate(rq, prior, saved, res)
	if back && env.Notify != nil {
		env.Notify(strategies.PausedAgainNotice(spec.name, saved, res, "the failure left the rollout where it was paused; the gate still holds"))
	}
	return res, saved
}

// applied is the private state an apply that ended with res, saving
// saved, keeps.
func (r *deploymentResource) applied(res *strategies.Result, saved strategies.Saved) deploymentPrivate {
	p := deploymentPrivate{asOf: r.clock.Now(), superseded: saved.Superseded}
	if res.Status == strategies.StatusPaused {
		p.pausedSince = res.PausedSince
	}
	return p
}

// revert sets version back to previous_version at once (docs/resources/deployment.md, "Analysis, bake and gates"): the
// abandoned version's traffic first, then every target running it, no
// stages, gates or bakes.
func (r *deploymentResource) revert(ctx context.Context, spec *deploymentSpec, env strategies.Env, p strategies.Plan, prior strategies.Prior, plan *deploymentModel, resp *resource.UpdateResponse) {
	strategy, err := strategies.New(spec.strategy, spec.config)
	if err != nil {
		resp.Diagnostics.AddError("Deployment failed", err.Error())
		return
	}
	rq := p.RevertRequest
	rq.Deployment, rq.HealthCheck = spec.name, spec.health
	tflog.Info(ctx, "reverting", map[string]any{"deployment": spec.name, "abandoned": prior.Version, "version": spec.version, "changed_targets": len(p.Pending), "targets": len(p.RevertTargets)})
	res := strategy.Rollback(ctx, rq, env, p.RevertTargets)
	saved := strategies.AfterRevert(spec.strategy, p, prior, res)
	if res.Status == strategies.StatusPaused && env.Notify != nil {
		env.Notify(strategies.PausedAgainNotice(spec.name, saved, res, "reverted to the paused release "+saved.Version+": paused at its gate as it was"))
	}
	abandoned := prior.Version
	if res.Success && p.FollowUp != nil {
		// What the next plan would do on the reverted fleet (targets added
		// in this apply, a restored pause's repair), done now.
		after := strategies.PriorAfter(spec.strategy, spec.targets, saved, res, prior.Now)
		follow := strategies.NewPlan(spec.strategy, spec.config, spec.version, spec.targets, after)
		res, saved = r.rollout(ctx, spec, env, r.request(spec, follow.Request), after, len(follow.Pending))
		abandoned = follow.Request.PreviousVersion
	}
	r.applyResult(plan, spec, res, saved)
	if !res.Success {
		resp.Diagnostics.AddError("Deployment failed", failureMessage(spec, res, abandoned, nextAfterFailure(spec, res, saved, true)))
	}
	pausedWarning(spec, res, saved.PreviousVersion, &resp.Diagnostics)
	resp.Diagnostics.Append(r.applied(res, saved).write(ctx, resp.Private)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// request completes a planned request with the settings of spec.
func (r *deploymentResource) request(spec *deploymentSpec, rq strategies.Request) strategies.Request {
	rq.Deployment = spec.name
	rq.AutoRollback = spec.autoRollback
	rq.HealthCheck = spec.health
	rq.Bake = spec.analysis.bake
	rq.Analysis = spec.analysis.analysis
	return rq
}

func (r *deploymentResource) execute(ctx context.Context, spec *deploymentSpec, env strategies.Env, req strategies.Request) *strategies.Result {
	strategy, err := strategies.New(spec.strategy, spec.config)
	if err != nil {
		// Validation at plan time makes this unreachable; keep the apply honest anyway.
		return &strategies.Result{Strategy: spec.strategy, Status: strategies.StatusFailed, Errors: []error{err}, StoppedAt: "configuration"}
	}
	return strategy.Execute(ctx, req, env)
}

// applyResult writes what an apply saves into m.
func (r *deploymentResource) applyResult(m *deploymentModel, spec *deploymentSpec, res *strategies.Result, saved strategies.Saved) {
	m.ID = m.Name
	m.Strategy = types.StringValue(spec.strategy)
	status := res.Status
	if status == "" {
		status = strategies.StatusFailed
	}
	m.Status = types.StringValue(string(status))
	m.Version = types.StringValue(saved.Version)
	m.PreviousVersion = types.StringNull()
	if saved.PreviousVersion != "" {
		m.PreviousVersion = types.StringValue(saved.PreviousVersion)
	}
	m.TargetsUpdated = types.Int64Value(int64(res.TargetsUpdated))
	m.TargetsFailed = types.Int64Value(int64(res.TargetsFailed))
	m.DurationMs = types.Int64Value(res.Duration.Milliseconds())
	m.DeployedAt = types.StringValue(r.clock.Now().UTC().Format(time.RFC3339))
	m.TargetVersions = stringMapValue(saved.Versions)
	m.TrafficPercentage = types.Float64Value(saved.Traffic)
	m.ActiveSlot = types.StringNull()
	if spec.strategy == strategies.NameBlueGreen && saved.ActiveSlot != "" {
		m.ActiveSlot = types.StringValue(saved.ActiveSlot)
	}
	m.AnalysisResults = resultsValue(spec, res.LastMeasurements())
	m.PausedAt, m.ResumeAt = pausedValues(res)
}

func (r *deploymentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.mask(ctx)
	spec, d := r.spec(ctx, &state)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	env := r.env(ctx, spec)
	versions, errs := strategies.ReadVersions(ctx, spec.targets, env)
	known, d := stringMap(ctx, state.TargetVersions)
	resp.Diagnostics.Append(d...)
	fleet := strategies.Versions(known).AfterRefresh(spec.targets, versions, errs, spec.health.ExpectVersion)
	if len(errs) > 0 {
		ids := make([]string, 0, len(errs))
		for _, t := range spec.targets {
			if err, ok := errs[t.ID]; ok {
				ids = append(ids, fmt.Sprintf("%s %s (%s)", t.ID, healthFailure(err), err))
			}
		}
		tflog.Warn(ctx, "targets not read during refresh", map[string]any{"deployment": spec.name, "count": len(errs)})
		resp.Diagnostics.AddWarning("Targets not read",
			fmt.Sprintf("Deployment %q: %d target(s) could not be read during refresh and keep their last known version: %s",
				spec.name, len(errs), strings.Join(ids, "; ")))
	}
	state.TargetVersions = stringMapValue(fleet)
	active := strategies.ActiveTargets(spec.strategy, spec.targets, state.ActiveSlot.ValueString())
	state.Version = types.StringValue(fleet.ClaimAtRefresh(spec.strategy, spec.version, strategies.Status(state.Status.ValueString()), state.TrafficPercentage.ValueFloat64(), active))
	if reported := fleet.Claim(spec.version, active); reported != spec.version {
		tflog.Info(ctx, "drift detected", map[string]any{"deployment": spec.name, "version": spec.version, "reported": reported})
	}
	priv := readDeploymentPrivate(ctx, req.Private)
	priv.asOf = r.clock.Now()
	resp.Diagnostics.Append(priv.write(ctx, resp.Private)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *deploymentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := withOperationTimeout(r.data.mask(ctx), "delete", timeout)
	defer cancel()

	prev := state.PreviousVersion.ValueString()
	if state.OnDestroy.ValueString() == onDestroyNone {
		tflog.Info(ctx, "on_destroy = none: forgetting the deployment", map[string]any{"deployment": state.Name.ValueString()})
		resp.Diagnostics.AddWarning("Destroy did not roll back",
			fmt.Sprintf("Deployment %q has on_destroy = \"none\": it was removed from state and the targets keep running %q.", state.Name.ValueString(), state.Version.ValueString()))
		return
	}
	if prev == "" {
		resp.Diagnostics.AddWarning("Destroy did not roll back",
			fmt.Sprintf("Deployment %q has no known previous_version; it was removed from state and the targets keep running what they run.", state.Name.ValueString()))
		return
	}
	spec, d := r.spec(ctx, &state)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	fleet, d := stringMap(ctx, state.TargetVersions)
	resp.Diagnostics.Append(d...)

	activeSlot := state.ActiveSlot.ValueString()
	targets := strategies.DestroyTargets(spec.strategy, spec.targets, fleet, prev, activeSlot)
	activeSlot = strategies.DestroySlot(spec.strategy, strategies.Status(state.Status.ValueString()), activeSlot)
	strategy, err := strategies.New(spec.strategy, spec.config)
	if err != nil {
		resp.Diagnostics.AddError("Destroy failed", err.Error())
		return
	}
	env := r.env(ctx, spec)
	tflog.Info(ctx, "destroy: rolling back", map[string]any{"deployment": spec.name, "previous_version": prev, "targets": len(targets)})
	res := strategy.Rollback(ctx, strategies.Request{
		Deployment:      spec.name,
		Version:         spec.version,
		PreviousVersion: prev,
		Targets:         spec.targets,
		Current:         fleet,
		ActiveSlot:      activeSlot,
		PriorTraffic:    state.TrafficPercentage.ValueFloat64(),
		AutoRollback:    true,
		HealthCheck:     spec.health,
	}, env, targets)
	if !res.Success {
		msg := fmt.Sprintf("Rolling deployment %q back to %q on destroy failed", spec.name, prev)
		if res.StoppedAt != "" {
			msg += " at " + res.StoppedAt
		}
		var errs []string
		for _, e := range append(append([]error{}, res.Errors...), res.RollbackErrors...) {
			errs = append(errs, e.Error())
		}
		resp.Diagnostics.AddError("Destroy failed", msg+":\n  - "+strings.Join(errs, "\n  - ")+
			"\nThe deployment stays in state and records what each target now runs. Fix the targets and destroy again, or, to leave the fleet as it is, remove the deployment from state (terraform state rm <address>): an apply would deploy the version again to the targets already rolled back.")
		// Keep the state honest about what the targets now report.
		state.TargetVersions = stringMapValue(strategies.Versions(fleet).AfterRollout(res))
		state.TrafficPercentage = types.Float64Value(res.TrafficPercentage)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
}
