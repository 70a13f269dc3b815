package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
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
	data  *providerData
	clock clock.Clock
}

type featureRolloutModel struct {
	ID         types.String      `tfsdk:"id"`
	FlagName   types.String      `tfsdk:"flag_name"`
	Stages     types.List        `tfsdk:"stages"`
	StageDelay types.String      `tfsdk:"stage_delay"`
	Paused     types.Bool        `tfsdk:"paused"`
	Aborted    types.Bool        `tfsdk:"aborted"`
	MaxStage   types.Int64       `tfsdk:"max_stage"`
	StartAt    timetypes.RFC3339 `tfsdk:"start_at"`
	Endpoint   types.String      `tfsdk:"endpoint"`
	OnDestroy  types.String      `tfsdk:"on_destroy"`

	State         types.String  `tfsdk:"state"`
	CurrentStage  types.Int64   `tfsdk:"current_stage"`
	Percentage    types.Float64 `tfsdk:"percentage"`
	StartedAt     types.String  `tfsdk:"started_at"`
	UpdatedAt     types.String  `tfsdk:"updated_at"`
	NextAdvanceAt types.String  `tfsdk:"next_advance_at"`
}

func (r *featureRolloutResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_feature_rollout"
}

func (r *featureRolloutResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	d, err := configuredData(req.ProviderData)
	if err != nil {
		resp.Diagnostics.AddError("Unexpected provider data", err.Error())
		return
	}
	r.data = d
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
	if ms := m.MaxStage.ValueInt64(); ms >= int64(n) {
		resp.Diagnostics.AddAttributeError(path.Root("max_stage"), "Invalid max_stage",
			fmt.Sprintf("max_stage is %d but stages has %d entries: it must be a stage index from 0 to %d.", ms, n, n-1))
	}
}

// rolloutConfig translates the model into the state machine's config.
func rolloutConfig(ctx context.Context, m *featureRolloutModel) (rollout.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	cfg := rollout.Config{
		Stages:     rollout.DefaultStages(),
		StageDelay: mustDuration(m.StageDelay, defaultStageDelay),
		Paused:     m.Paused.ValueBool(),
		Aborted:    m.Aborted.ValueBool(),
	}
	if !m.Stages.IsNull() && !m.Stages.IsUnknown() {
		var stages []float64
		diags.Append(m.Stages.ElementsAs(ctx, &stages, false)...)
		cfg.Stages = stages
	}
	if !m.MaxStage.IsNull() && !m.MaxStage.IsUnknown() {
		ms := int(m.MaxStage.ValueInt64())
		cfg.MaxStage = &ms
	}
	if !m.StartAt.IsNull() && !m.StartAt.IsUnknown() {
		t, d := m.StartAt.ValueRFC3339Time()
		diags.Append(d...)
		cfg.StartAt = &t
	}
	return cfg, diags
}

// priorRollout rebuilds the rollout saved in state. own, when set, is the
// rollout's own state and stage while state records what the flag service
// reports instead (drift): the rollout goes on from its own.
func priorRollout(ctx context.Context, m *featureRolloutModel, own *ownRollout) (rollout.Rollout, diag.Diagnostics) {
	var diags diag.Diagnostics
	r := rollout.Rollout{
		Flag:  m.FlagName.ValueString(),
		State: rollout.State(m.State.ValueString()),
		Stage: int(m.CurrentStage.ValueInt64()),
	}
	if own != nil {
		r.State, r.Stage = rollout.State(own.State), own.Stage
	}
	if !slices.Contains(rollout.States(), r.State) {
		// The flag service reported something we do not know; the plan
		// publishes the configured state again.
		r.State = rollout.StateActive
	}
	diags.Append(m.Stages.ElementsAs(ctx, &r.Stages, false)...)
	if r.Stage < 0 || r.Stage >= len(r.Stages) {
		r.Stage = 0
	}
	r.StartedAt = parseTime(m.StartedAt)
	r.UpdatedAt = parseTime(m.UpdatedAt)
	return r, diags
}

func parseTime(v types.String) time.Time {
	if v.IsNull() || v.IsUnknown() {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v.ValueString())
	if err != nil {
		return time.Time{}
	}
	return t
}

func timeValue(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

// setRollout writes a rollout's computed attributes into the model.
func setRollout(m *featureRolloutModel, ro rollout.Rollout, cfg rollout.Config) {
	m.ID = m.FlagName
	m.State = types.StringValue(string(ro.State))
	m.CurrentStage = types.Int64Value(int64(ro.Stage))
	m.Percentage = types.Float64Value(ro.Percentage())
	m.StartedAt = timeValue(ro.StartedAt)
	m.UpdatedAt = timeValue(ro.UpdatedAt)
	m.NextAdvanceAt = types.StringNull()
	if next := ro.NextAdvanceAt(cfg); next != nil {
		m.NextAdvanceAt = timeValue(*next)
	}
}

func (r *featureRolloutResource) now() time.Time {
	// RFC 3339 in state keeps seconds: plan at that precision so apply and
	// the saved value agree.
	return r.clock.Now().UTC().Truncate(time.Second)
}

func (r *featureRolloutResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan featureRolloutModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Stages.IsUnknown() || plan.StageDelay.IsUnknown() || plan.Paused.IsUnknown() || plan.Aborted.IsUnknown() ||
		plan.MaxStage.IsUnknown() || plan.StartAt.IsUnknown() || plan.FlagName.IsUnknown() {
		return // the framework marks computed values unknown
	}
	var state *featureRolloutModel
	if !req.State.Raw.IsNull() {
		state = &featureRolloutModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	priv := readRolloutPrivate(ctx, req.Private)
	next, cfg, changed, diags := r.nextRollout(ctx, &plan, state, priv.own, priv.at(r.now()))
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	setRollout(&plan, next, cfg)
	if state == nil && next.State == rollout.StatePending {
		// Nothing remembers this plan's time until the apply: were start_at
		// to pass in between, the plan remade during apply would differ.
		// The apply decides, and every later plan is made at the time of
		// its refresh.
		plan.State = types.StringUnknown()
		plan.CurrentStage = types.Int64Unknown()
		plan.Percentage = types.Float64Unknown()
		plan.StartedAt = types.StringUnknown()
		plan.UpdatedAt = types.StringUnknown()
		plan.NextAdvanceAt = types.StringUnknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	if changed {
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
	} else if next.Percentage() != state.Percentage.ValueFloat64() || string(next.State) != state.State.ValueString() {
		tflog.Info(ctx, "the flag service differs from the rollout: publishing it again", map[string]any{"flag": next.Flag})
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// nextRollout is what the rollout becomes at now: a new rollout on create
// (or replacement after an abort), otherwise the saved one reconciled with
// the configuration. A change of configuration is settled without an
// advance, so the plan made before apply and the one re-made during apply
// agree however much time passed in between; elapsed time alone advances
// at most one stage. changed reports a change of state, stage or stages.
func (r *featureRolloutResource) nextRollout(ctx context.Context, plan, state *featureRolloutModel, own *ownRollout, now time.Time) (rollout.Rollout, rollout.Config, bool, diag.Diagnostics) {
	cfg, diags := rolloutConfig(ctx, plan)
	if diags.HasError() {
		return rollout.Rollout{}, cfg, false, diags
	}
	if state == nil || (state.Aborted.ValueBool() && !plan.Aborted.ValueBool()) {
		next, err := rollout.Start(plan.FlagName.ValueString(), cfg, now)
		if err != nil {
			diags.AddAttributeError(path.Root("stages"), "Invalid rollout", err.Error())
		}
		return next, cfg, true, diags
	}
	prior, d := priorRollout(ctx, state, own)
	diags.Append(d...)
	reconcile := rollout.Reconcile
	if !sameRolloutSettings(plan, state) {
		reconcile = rollout.Settle
	}
	next, err := reconcile(prior, cfg, now)
	if err != nil {
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

// sameRolloutSettings compares the arguments that shape the rollout.
func sameRolloutSettings(a, b *featureRolloutModel) bool {
	return a.Stages.Equal(b.Stages) && a.StageDelay.Equal(b.StageDelay) && a.Paused.Equal(b.Paused) &&
		a.Aborted.Equal(b.Aborted) && a.MaxStage.Equal(b.MaxStage) && a.StartAt.Equal(b.StartAt)
}

func (r *featureRolloutResource) endpoint(m *featureRolloutModel) string {
	if v := m.Endpoint.ValueString(); v != "" {
		return v
	}
	if r.data == nil {
		return ""
	}
	return r.data.flagEndpoint
}

// publish sends the planned rollout to the flag service, if there is one.
func (r *featureRolloutResource) publish(ctx context.Context, m *featureRolloutModel) diag.Diagnostics {
	var diags diag.Diagnostics
	endpoint := r.endpoint(m)
	if endpoint == "" {
		return diags
	}
	var stages []float64
	diags.Append(m.Stages.ElementsAs(ctx, &stages, false)...)
	doc := protocol.Flag{
		Flag:       m.FlagName.ValueString(),
		State:      m.State.ValueString(),
		Stage:      int(m.CurrentStage.ValueInt64()),
		Percentage: m.Percentage.ValueFloat64(),
		Stages:     stages,
		UpdatedAt:  m.UpdatedAt.ValueString(),
	}
	if err := r.data.client.PublishFlag(ctx, endpoint, doc); err != nil {
		tflog.Error(ctx, "publishing the flag failed", map[string]any{"flag": doc.Flag, "stage": doc.Stage, "percentage": doc.Percentage, "error": err.Error()})
		diags.AddError("Publishing the flag failed",
			fmt.Sprintf("Flag %q at stage %d (%g%%, %s) could not be published to %s: %s\nThe saved state keeps the last published value; the next apply tries again.",
				doc.Flag, doc.Stage, doc.Percentage, doc.State, endpoint, err))
		return diags
	}
	tflog.Info(ctx, "flag published", map[string]any{"flag": doc.Flag, "stage": doc.Stage, "percentage": doc.Percentage, "state": doc.State})
	return diags
}

func (r *featureRolloutResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan featureRolloutModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.mask(ctx)
	if resp.Diagnostics.Append(r.resolve(ctx, &plan, nil, rolloutPrivate{})...); resp.Diagnostics.HasError() {
		return
	}
	if resp.Diagnostics.Append(r.publish(ctx, &plan)...); resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// resolve fills the timestamps the plan left unknown, from the apply's
// clock, after checking that the rollout is still the one the plan showed.
func (r *featureRolloutResource) resolve(ctx context.Context, plan, state *featureRolloutModel, priv rolloutPrivate) diag.Diagnostics {
	var diags diag.Diagnostics
	if !plan.UpdatedAt.IsUnknown() && !plan.NextAdvanceAt.IsUnknown() && !plan.StartedAt.IsUnknown() {
		return diags
	}
	next, cfg, _, d := r.nextRollout(ctx, plan, state, priv.own, priv.at(r.now()))
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	if !plan.State.IsUnknown() && (string(next.State) != plan.State.ValueString() || int64(next.Stage) != plan.CurrentStage.ValueInt64()) {
		diags.AddError("The rollout moved since the plan",
			fmt.Sprintf("Flag %q was planned at stage %d (%s) but is now due stage %d (%s), for example because start_at passed in between. Nothing was published; plan and apply again.",
				next.Flag, plan.CurrentStage.ValueInt64(), plan.State.ValueString(), next.Stage, next.State))
		return diags
	}
	setRollout(plan, next, cfg)
	return diags
}

func (r *featureRolloutResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan featureRolloutModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = r.data.mask(ctx)
	var state featureRolloutModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.Append(r.resolve(ctx, &plan, &state, readRolloutPrivate(ctx, req.Private))...); resp.Diagnostics.HasError() {
		resp.State.Raw = req.State.Raw.Copy()
		return
	}
	if resp.Diagnostics.Append(r.publish(ctx, &plan)...); resp.Diagnostics.HasError() {
		// State keeps the last published value (and the private state what
		// the rollout's own was).
		resp.State.Raw = req.State.Raw.Copy()
		return
	}
	// The flag service now holds the rollout's own values; a plan without a
	// refresh decides at its own time.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateOwn, nil)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateAsOf, nil)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *featureRolloutResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state featureRolloutModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	endpoint := r.endpoint(&state)
	if endpoint == "" {
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
	ownRo, d := priorRollout(ctx, &state, own)
	resp.Diagnostics.Append(d...)
	if doc.State != own.State || doc.Stage != own.Stage || doc.Percentage != ownRo.Percentage() {
		tflog.Info(ctx, "the flag service differs from the rollout", map[string]any{"flag": doc.Flag, "state": doc.State, "stage": doc.Stage, "percentage": doc.Percentage})
		resp.Diagnostics.Append(setRolloutPrivate(ctx, resp.Private, privateOwn, own)...)
		state.State = types.StringValue(doc.State)
		state.CurrentStage = types.Int64Value(int64(doc.Stage))
		state.Percentage = types.Float64Value(doc.Percentage)
	} else if priv.own != nil {
		// The flag service holds the rollout's own values again.
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateOwn, nil)...)
		state.State = types.StringValue(own.State)
		state.CurrentStage = types.Int64Value(int64(own.Stage))
		state.Percentage = types.Float64Value(ownRo.Percentage())
	}
	// Plans decide advances at the time of this refresh, so a plan applied
	// later (saved, or after a slow approval) does exactly what it showed.
	resp.Diagnostics.Append(setRolloutPrivate(ctx, resp.Private, privateAsOf, r.now().Format(time.RFC3339))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *featureRolloutResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state featureRolloutModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	endpoint := r.endpoint(&state)
	if state.OnDestroy.ValueString() == onDestroyRetain || endpoint == "" {
		return
	}
	ctx = r.data.mask(ctx)
	if err := r.data.client.DeleteFlag(ctx, endpoint, state.FlagName.ValueString()); err != nil {
		tflog.Error(ctx, "deleting the flag failed", map[string]any{"flag": state.FlagName.ValueString(), "error": err.Error()})
		resp.Diagnostics.AddError("Disabling the flag failed",
			fmt.Sprintf("Deleting flag %q at %s failed: %s\nThe rollout stays in state; destroy again, or set on_destroy = \"retain\".", state.FlagName.ValueString(), endpoint, err))
	}
}

func (r *featureRolloutResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := req.ID
	if !nameRegexp.MatchString(name) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Import a rollout by its flag name (1–128 characters from A-Z a-z 0-9 . _ -); got %q.", name))
		return
	}
	if r.data == nil || r.data.flagEndpoint == "" {
		resp.Diagnostics.AddError("No flag endpoint", "Importing a rollout reads the flag document from the flag service: set the provider's flag_endpoint (or "+EnvFlagEndpoint+").")
		return
	}
	ctx = r.data.mask(ctx)
	doc, err := r.data.client.ReadFlag(ctx, r.data.flagEndpoint, name)
	if err != nil {
		resp.Diagnostics.AddError("Import failed", fmt.Sprintf("Reading flag %q from %s: %s", name, r.data.flagEndpoint, err))
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
		Stages:     float64List(doc.Stages),
		StageDelay: types.StringValue(defaultStageDelay),
		Paused:     types.BoolValue(st == rollout.StatePaused),
		Aborted:    types.BoolValue(st == rollout.StateAborted),
		MaxStage:   types.Int64Null(),
		StartAt:    timetypes.NewRFC3339Null(),
		Endpoint:   types.StringNull(),
		OnDestroy:  types.StringValue(onDestroyDisable),
	}
	ro := rollout.Rollout{Flag: name, State: st, Stage: doc.Stage, Stages: doc.Stages, UpdatedAt: updated}
	if st != rollout.StatePending {
		// The flag document does not say when exposure began; the last
		// change is the best honest answer.
		ro.StartedAt = updated
	}
	cfg, _ := rolloutConfig(ctx, &m)
	setRollout(&m, ro, cfg)
	m.Percentage = types.Float64Value(doc.Percentage)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
