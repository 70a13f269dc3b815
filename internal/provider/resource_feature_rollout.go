package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

const (
	onDestroyDisable = "disable"
	onDestroyRetain  = "retain"
)

var (
	_ resource.Resource                   = (*featureRolloutResource)(nil)
	_ resource.ResourceWithConfigure      = (*featureRolloutResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*featureRolloutResource)(nil)
	_ resource.ResourceWithImportState    = (*featureRolloutResource)(nil)
	_ resource.ResourceWithValidateConfig = (*featureRolloutResource)(nil)
)

type featureRolloutResource struct {
	resourceBase
}

func (r *featureRolloutResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_feature_rollout"
}

func (r *featureRolloutResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m featureRolloutModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.MaxStage.IsNull() || m.MaxStage.IsUnknown() || m.Stages.IsUnknown() {
		return
	}
	n := len(rollout.DefaultStages())
	if !m.Stages.IsNull() {
		n = len(m.Stages.Elements())
	}
	ms, acc := m.MaxStage.ValueBigFloat().Int64()
	if acc != big.Exact {
		return // not a whole index: the attribute's validator says so
	}
	if ms >= int64(n) {
		resp.Diagnostics.AddAttributeError(path.Root("max_stage"), "Invalid max_stage",
			fmt.Sprintf("max_stage is %d but stages has %d entries: it must be a stage index from 0 to %d.", ms, n, n-1))
	}
}

func (r *featureRolloutResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config featureRolloutModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.mask(ctx)
	if resp.Diagnostics.Append(r.resolve(ctx, &plan, nil, nil)...); resp.Diagnostics.HasError() {
		return
	}
	if resp.Diagnostics.Append(r.publish(ctx, &plan)...); resp.Diagnostics.HasError() {
		return
	}
	r.notify(ctx, nil, &plan, &resp.Diagnostics)
	resp.Diagnostics.Append(setRolloutPrivate(ctx, resp.Private, privateEndpointFrom, endpointFrom(&config))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// resolve fills what the plan left unknown (the apply's timestamps, and the
// state of a create planned as pending), after checking that the rollout is
// still the one the plan showed.
func (r *featureRolloutResource) resolve(ctx context.Context, plan, state *featureRolloutModel, own *ownRollout) diag.Diagnostics {
	var diags diag.Diagnostics
	if !plan.UpdatedAt.IsUnknown() && !plan.NextAdvanceAt.IsUnknown() && !plan.StartedAt.IsUnknown() {
		return diags
	}
	next, cfg, _, d := r.nextRollout(plan, state, own, r.now())
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	if !plan.State.IsUnknown() && (string(next.State) != plan.State.ValueString() || int64(next.Stage) != plan.CurrentStage.ValueInt64()) {
		diags.AddError("The rollout moved since the plan",
			fmt.Sprintf("Flag %q was planned at stage %d (%s) but is now due stage %d (%s). Nothing was published; plan and apply again.",
				next.Flag, plan.CurrentStage.ValueInt64(), plan.State.ValueString(), next.Stage, next.State))
		return diags
	}
	tflog.Debug(ctx, "rollout resolved at apply", map[string]any{"flag": next.Flag})
	setRollout(plan, next, cfg)
	return diags
}

func (r *featureRolloutResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, config, state featureRolloutModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.mask(ctx)
	priv := readRolloutPrivate(ctx, req.Private)
	if resp.Diagnostics.Append(r.resolve(ctx, &plan, &state, priv.own)...); resp.Diagnostics.HasError() {
		resp.State.Raw = req.State.Raw.Copy()
		return
	}
	if resp.Diagnostics.Append(r.publish(ctx, &plan)...); resp.Diagnostics.HasError() {
		// State keeps the last published value (and the private state what
		// the rollout's own was).
		resp.State.Raw = req.State.Raw.Copy()
		return
	}
	r.notify(ctx, &state, &plan, &resp.Diagnostics)
	// The flag service now holds the rollout's own values.
	resp.Diagnostics.Append(setRolloutPrivate(ctx, resp.Private, privateOwn, nil)...)
	resp.Diagnostics.Append(setRolloutPrivate(ctx, resp.Private, privateEndpointFrom, endpointFrom(&config))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *featureRolloutResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state featureRolloutModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	endpoint := state.Endpoint.ValueString()
	if endpoint == "" {
		return
	}
	if unknown := r.data.unknownSettings(); len(unknown) > 0 {
		// The provider block depends on values known at apply: refresh
		// would call the flag service without them.
		tflog.Info(ctx, "provider settings unknown until apply: the flag is not read", map[string]any{"flag": state.FlagName.ValueString(), "settings": unknown})
		return
	}
	ctx = r.data.mask(ctx)
	doc, err := r.data.client.ReadFlag(ctx, endpoint, state.FlagName.ValueString())
	if errors.Is(err, protocol.ErrNotFound) {
		tflog.Warn(ctx, "flag gone from the flag service: removing the rollout from state", map[string]any{"flag": state.FlagName.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddWarning("Flag service unreachable",
			fmt.Sprintf("Reading flag %q from %s failed, so the rollout keeps its saved state: %s", state.FlagName.ValueString(), endpoint, err))
		return
	}
	// What the flag service reports is what users get: record it, so a
	// difference makes the next plan publish again. The rollout's own state
	// and stage are kept aside: a state set outside Terraform is drift to
	// undo, never adopted.
	priv := readRolloutPrivate(ctx, req.Private)
	own := priv.own
	if own == nil {
		own = &ownRollout{State: state.State.ValueString(), Stage: int(state.CurrentStage.ValueInt64())}
	}
	ownRo := priorRollout(&state, own)
	if doc.State != own.State || doc.Stage != own.Stage || doc.Percentage != ownRo.Percentage() {
		tflog.Info(ctx, "the flag service differs from the rollout", map[string]any{"flag": doc.Flag, "state": doc.State, "stage": doc.Stage, "percentage": doc.Percentage})
		resp.Diagnostics.Append(setRolloutPrivate(ctx, resp.Private, privateOwn, own)...)
		state.State = types.StringValue(doc.State)
		state.CurrentStage = types.Int64Value(int64(doc.Stage))
		state.Percentage = types.Float64Value(doc.Percentage)
	} else if priv.own != nil {
		// The flag service holds the rollout's own values again.
		resp.Diagnostics.Append(setRolloutPrivate(ctx, resp.Private, privateOwn, nil)...)
		state.State = types.StringValue(own.State)
		state.CurrentStage = types.Int64Value(int64(own.Stage))
		state.Percentage = types.Float64Value(ownRo.Percentage())
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete disables the flag at the endpoint the rollout was published to,
// unless the document there is no longer this rollout's: published in this
// apply by another rollout of the same name (the new one of a
// create_before_destroy replacement), or since the rollout's last publish
// by anyone else (its updated_at is later).
func (r *featureRolloutResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state featureRolloutModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	endpoint, flag := state.Endpoint.ValueString(), state.FlagName.ValueString()
	if state.OnDestroy.ValueString() == onDestroyRetain || endpoint == "" {
		return
	}
	ctx = r.data.mask(ctx)
	resp.Diagnostics.Append(r.destroyEndpointWarning(&state, readRolloutPrivate(ctx, req.Private))...)
	if r.data.published.has(endpoint, flag) {
		tflog.Info(ctx, "the flag was published by another rollout in this apply: leaving it", map[string]any{"flag": flag})
		return
	}
	doc, err := r.data.client.ReadFlag(ctx, endpoint, flag)
	switch {
	case errors.Is(err, protocol.ErrNotFound):
		return
	case err != nil:
		tflog.Error(ctx, "reading the flag before deleting it failed", map[string]any{"flag": flag, "error": err.Error()})
		resp.Diagnostics.AddError("Disabling the flag failed",
			fmt.Sprintf("Reading flag %q at %s before deleting it failed: %s\nThe rollout stays in state; destroy again, or set on_destroy = \"retain\".", flag, endpoint, err))
		return
	case publishedSince(doc, state.UpdatedAt):
		resp.Diagnostics.AddWarning("Flag left in place",
			fmt.Sprintf("Flag %q at %s was published since this rollout last published it (updated_at %s, after %s): destroy leaves it alone. Delete it at the flag service if it should go.",
				flag, endpoint, doc.UpdatedAt, state.UpdatedAt.ValueString()))
		return
	}
	if err := r.data.client.DeleteFlag(ctx, endpoint, flag); err != nil {
		tflog.Error(ctx, "deleting the flag failed", map[string]any{"flag": flag, "error": err.Error()})
		resp.Diagnostics.AddError("Disabling the flag failed",
			fmt.Sprintf("Deleting flag %q at %s failed: %s\nThe rollout stays in state; destroy again, or set on_destroy = \"retain\".", flag, endpoint, err))
	}
}

// publishedSince reports whether doc was published after the rollout's
// last change (updated_at): by someone else.
func publishedSince(doc protocol.Flag, updatedAt types.String) bool {
	theirs, err := time.Parse(time.RFC3339Nano, doc.UpdatedAt)
	if err != nil {
		return false
	}
	ours := parseTime(updatedAt)
	return !ours.IsZero() && theirs.After(ours)
}

func (r *featureRolloutResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := req.ID
	if !nameRegexp.MatchString(name) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Import a rollout by its flag name (1–128 characters from A-Z a-z 0-9 . _ -); got %q.", name))
		return
	}
	endpoint, unknown := r.providerEndpoint()
	if endpoint == "" || unknown {
		resp.Diagnostics.AddError("No flag endpoint", "Importing a rollout reads the flag document from the flag service: set the provider's flag_endpoint (or "+EnvFlagEndpoint+").")
		return
	}
	ctx = r.data.mask(ctx)
	doc, err := r.data.client.ReadFlag(ctx, endpoint, name)
	if err != nil {
		resp.Diagnostics.AddError("Import failed", fmt.Sprintf("Reading flag %q from %s: %s", name, endpoint, err))
		return
	}
	if err := rollout.ValidateStages(doc.Stages); err != nil {
		resp.Diagnostics.AddError("Import failed", fmt.Sprintf("Flag %q has stages the provider cannot manage: %s", name, err))
		return
	}
	updated, err := time.Parse(time.RFC3339Nano, doc.UpdatedAt)
	if err != nil {
		resp.Diagnostics.AddError("Import failed", fmt.Sprintf("Flag %q has updated_at %q, not an RFC 3339 time.", name, doc.UpdatedAt))
		return
	}
	st := rollout.State(doc.State)
	m := featureRolloutModel{
		FlagName:   types.StringValue(name),
		Stages:     numberList(doc.Stages),
		StageDelay: types.StringValue(defaultStageDelay),
		Paused:     types.BoolValue(st == rollout.StatePaused),
		Aborted:    types.BoolValue(st == rollout.StateAborted),
		MaxStage:   types.NumberNull(),
		StartAt:    timetypes.NewRFC3339Null(),
		Endpoint:   types.StringValue(endpoint),
		OnDestroy:  types.StringValue(onDestroyDisable),
		// Notifications are configuration: an import has none.
		Notifications: notificationsNull,
	}
	ro := rollout.Rollout{Flag: name, State: st, Stage: doc.Stage, Stages: doc.Stages, UpdatedAt: updated}
	if st != rollout.StatePending {
		// The flag document does not say when exposure began; the last
		// change is the best honest answer.
		ro.StartedAt = updated
	}
	cfg, _ := rolloutConfig(&m)
	setRollout(&m, ro, cfg)
	m.Percentage = types.Float64Value(doc.Percentage)
	resp.Diagnostics.Append(setRolloutPrivate(ctx, resp.Private, privateEndpointFrom, endpointFromProvider)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// notify sends the notifications of an apply that published after (from
// before; nil on create).
func (r *featureRolloutResource) notify(ctx context.Context, before, after *featureRolloutModel, diags *diag.Diagnostics) {
	ctx = maskSecrets(ctx, notificationSecrets(after.Notifications))
	s, d := r.data.newSender(ctx, notify.RolloutType, after.FlagName.ValueString(), after.Notifications, r.now)
	diags.Append(d...)
	if s == nil {
		return
	}
	rolloutNotices(s, before, after)
	closeSender(s, diags)
}
