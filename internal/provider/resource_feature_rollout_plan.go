package provider

// Planning a feature rollout: what the apply publishes, decided by the clock
// when the plan is made.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

func (r *featureRolloutResource) now() time.Time {
	// RFC 3339 in state keeps seconds: decide at that precision so apply
	// and the saved value agree.
	return r.clock.Now().UTC().Truncate(time.Second)
}

// ModifyPlan decides, by the clock when the plan is made, what the apply
// publishes: a change of the configuration is settled (no start, no
// advance, whatever the time), and with nothing else to do a plan shows the
// start or the one advance that is due. Because the apply remakes the plan
// with the same configuration and prior state, this keeps the two in
// agreement however late a saved plan is applied: an advance that was not
// due when the plan was made is no change, so nothing is remade for it.
func (r *featureRolloutResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var state *featureRolloutModel
	if !req.State.Raw.IsNull() {
		state = &featureRolloutModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if req.Plan.Raw.IsNull() {
		return // destroy: Delete says where it disables the flag
	}
	priv := readRolloutPrivate(ctx, req.Private)
	var plan, config featureRolloutModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}

	endpoint, savedUsed := r.plannedEndpoint(&config, state)
	plan.Endpoint = endpoint
	if savedUsed != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("endpoint"), "Publishing to the saved endpoint",
			fmt.Sprintf("Neither endpoint, the provider's flag_endpoint nor %s gives a flag service, so rollout %q keeps "+
				"publishing to the endpoint it was published to, saved in state: %s. Configure one to silence this warning; "+
				"another endpoint replaces the rollout.", EnvFlagEndpoint, plan.FlagName.ValueString(), savedUsed))
	}
	if state != nil && !plan.Endpoint.Equal(state.Endpoint) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("endpoint"))
	}
	if state != nil && replaces(&plan, state) {
		if savedUsed != "" {
			// Terraform plans (and, at apply, plans again) the new rollout
			// of a replacement without the old one's state: it cannot learn
			// the saved endpoint, and would live in state only.
			resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "No endpoint for the replacement",
				fmt.Sprintf("Rollout %q is replaced, and neither endpoint, the provider's flag_endpoint nor %s gives a flag service "+
					"for the new rollout. The old one was published to %s: configure that endpoint (or another one) so the "+
					"new rollout is published too.", plan.FlagName.ValueString(), EnvFlagEndpoint, savedUsed))
			return
		}
		state = nil // planned as the create of the replacement
		priv.own = nil
	}

	if !plan.settingsKnown() {
		setComputedUnknown(&plan)
		plan.ID = plan.FlagName
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	next, cfg, changed, diags := r.nextRollout(&plan, state, priv.own, r.now())
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	setRollout(&plan, next, cfg)
	switch {
	case state == nil && next.State == rollout.StatePending:
		// Nothing remembers this plan's time until the apply of a create:
		// were start_at to pass in between, the plan remade during apply
		// would differ. The apply decides.
		setComputedUnknown(&plan)
	case changed:
		// The stage, percentage and state are known now and apply does
		// exactly that; the timestamps are those of the apply.
		plan.UpdatedAt = types.StringUnknown()
		plan.NextAdvanceAt = types.StringUnknown()
		if state == nil || state.StartedAt.IsNull() {
			plan.StartedAt = types.StringUnknown()
		}
		if state != nil && next.Stage != int(state.CurrentStage.ValueInt64()) {
			tflog.Info(ctx, "rollout advance planned", map[string]any{"flag": next.Flag, "from_stage": state.CurrentStage.ValueInt64(), "to_stage": next.Stage, "percentage": next.Percentage(), "state": string(next.State)})
		}
	case next.Percentage() != state.Percentage.ValueFloat64() || string(next.State) != state.State.ValueString():
		tflog.Info(ctx, "the flag service differs from the rollout: publishing it again", map[string]any{"flag": next.Flag})
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// replaces reports whether plan replaces the rollout in state: a new
// flag_name or endpoint, or aborted turned off (the attributes' plan
// modifiers and ModifyPlan ask for the replacement).
func replaces(plan, state *featureRolloutModel) bool {
	return !plan.FlagName.Equal(state.FlagName) || !plan.Endpoint.Equal(state.Endpoint) ||
		(state.Aborted.ValueBool() && !plan.Aborted.ValueBool())
}

// nextRollout is what the rollout becomes at now: a new rollout on create
// (or replacement), otherwise the saved one reconciled with the
// configuration. When the configuration changed, or the flag service holds
// foreign values to publish over (own is set), it is settled: the result
// does not depend on now, so the plan made before apply and the one remade
// during apply agree however much time passed in between. Otherwise at
// most the one start or advance due at now. changed reports a change of
// state, stage or stages.
func (r *featureRolloutResource) nextRollout(plan, state *featureRolloutModel, own *ownRollout, now time.Time) (rollout.Rollout, rollout.Config, bool, diag.Diagnostics) {
	cfg, diags := rolloutConfig(plan)
	if diags.HasError() {
		return rollout.Rollout{}, cfg, false, diags
	}
	if state == nil {
		next, err := rollout.Start(plan.FlagName.ValueString(), cfg, now)
		if err != nil {
			diags.AddAttributeError(path.Root("stages"), "Invalid rollout", err.Error())
		}
		return next, cfg, true, diags
	}
	prior := priorRollout(state, own)
	reconcile := rollout.Reconcile
	if own != nil || !sameRolloutSettings(plan, state) {
		reconcile = rollout.Settle
	}
	next, err := reconcile(prior, cfg, now)
	var exposure *rollout.ExposureError
	switch {
	case errors.As(err, &exposure):
		diags.AddAttributeError(path.Root("stages"), "Stages would raise exposure",
			fmt.Sprintf("Rollout %q is %s and exposes %g %% (stage %d of %v), but the first new stage is %g %%. "+
				"A change of stages never raises exposure: include a stage at or below %g %% (it becomes the current "+
				"stage, and the rollout advances from there), or abort the rollout first.",
				prior.Flag, exposure.State, exposure.Current, prior.Stage, prior.Stages, exposure.FirstNew, exposure.Current))
		return next, cfg, false, diags
	case err != nil:
		diags.AddAttributeError(path.Root("stages"), "Invalid rollout", err.Error())
		return next, cfg, false, diags
	}
	changed := next.State != prior.State || next.Stage != prior.Stage || !slices.Equal(next.Stages, prior.Stages)
	if !changed {
		// Keep the saved timestamps byte for byte.
		next.StartedAt, next.UpdatedAt = prior.StartedAt, prior.UpdatedAt
	}
	return next, cfg, changed, diags
}

// sameRolloutSettings reports whether every argument is unchanged.
func sameRolloutSettings(a, b *featureRolloutModel) bool {
	return a.FlagName.Equal(b.FlagName) && a.Stages.Equal(b.Stages) && a.StageDelay.Equal(b.StageDelay) &&
		a.Paused.Equal(b.Paused) && a.Aborted.Equal(b.Aborted) && a.MaxStage.Equal(b.MaxStage) &&
		a.StartAt.Equal(b.StartAt) && a.Endpoint.Equal(b.Endpoint) && a.OnDestroy.Equal(b.OnDestroy)
}
