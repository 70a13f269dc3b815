package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"
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
	MaxStage   types.Number      `tfsdk:"max_stage"`
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
	ms, acc := m.MaxStage.ValueBigFloat().Int64()
	if acc != big.Exact {
		return // not a whole index: the attribute's validator says so
	}
	if ms >= int64(n) {
		resp.Diagnostics.AddAttributeError(path.Root("max_stage"), "Invalid max_stage",
			fmt.Sprintf("max_stage is %d but stages has %d entries: it must be a stage index from 0 to %d.", ms, n, n-1))
	}
}

// stagesOf reads a stages list as the nearest float64 of each number;
// known is false when the list or one of its elements is unknown.
func stagesOf(list types.List) (stages []float64, known bool) {
	if list.IsNull() {
		return rollout.DefaultStages(), true
	}
	if list.IsUnknown() {
		return nil, false
	}
	for _, e := range list.Elements() {
		n, ok := e.(types.Number)
		if !ok || n.IsUnknown() {
			return nil, false
		}
		if n.IsNull() {
			return nil, true // the validator rejects it
		}
		stages = append(stages, nearestFloat64(n))
	}
	return stages, true
}

// settingsKnown reports whether every argument that shapes the rollout is
// known: unknown values at plan are resolved at apply.
func (m *featureRolloutModel) settingsKnown() bool {
	_, stagesKnown := stagesOf(m.Stages)
	return stagesKnown && !m.FlagName.IsUnknown() && !m.StageDelay.IsUnknown() && !m.Paused.IsUnknown() &&
		!m.Aborted.IsUnknown() && !m.MaxStage.IsUnknown() && !m.StartAt.IsUnknown() && !m.Endpoint.IsUnknown()
}

// rolloutConfig translates the model into the state machine's config.
func rolloutConfig(m *featureRolloutModel) (rollout.Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	stages, _ := stagesOf(m.Stages)
	cfg := rollout.Config{
		Stages:     stages,
		StageDelay: mustDuration(m.StageDelay, defaultStageDelay),
		Paused:     m.Paused.ValueBool(),
		Aborted:    m.Aborted.ValueBool(),
	}
	if !m.MaxStage.IsNull() && !m.MaxStage.IsUnknown() {
		ms, _ := m.MaxStage.ValueBigFloat().Int64()
		i := int(ms)
		cfg.MaxStage = &i
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
func priorRollout(m *featureRolloutModel, own *ownRollout) rollout.Rollout {
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
	r.Stages, _ = stagesOf(m.Stages)
	if r.Stage < 0 || r.Stage >= len(r.Stages) {
		r.Stage = 0
	}
	r.StartedAt = parseTime(m.StartedAt)
	r.UpdatedAt = parseTime(m.UpdatedAt)
	return r
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

// setComputedUnknown leaves every computed value of the rollout to apply.
func setComputedUnknown(m *featureRolloutModel) {
	m.State = types.StringUnknown()
	m.CurrentStage = types.Int64Unknown()
	m.Percentage = types.Float64Unknown()
	m.StartedAt = types.StringUnknown()
	m.UpdatedAt = types.StringUnknown()
	m.NextAdvanceAt = types.StringUnknown()
}

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

// providerEndpoint is the provider's flag endpoint (flag_endpoint or
// CODOMYRMEX_FLAG_ENDPOINT); unknown while the provider block depends on
// values known at apply.
func (r *featureRolloutResource) providerEndpoint() (endpoint string, unknown bool) {
	if r.data == nil {
		return "", false
	}
	return r.data.flagEndpoint, r.data.flagEndpointUnknown
}

// plannedEndpoint is where the rollout publishes: its own endpoint, else the
// provider's, else the one saved in state. savedUsed is that saved endpoint
// when it is used for lack of any other.
func (r *featureRolloutResource) plannedEndpoint(config, state *featureRolloutModel) (endpoint types.String, savedUsed string) {
	if !config.Endpoint.IsNull() {
		return config.Endpoint, ""
	}
	switch ep, unknown := r.providerEndpoint(); {
	case unknown:
		return types.StringUnknown(), ""
	case ep != "":
		return types.StringValue(ep), ""
	}
	if state != nil && state.Endpoint.ValueString() != "" {
		return state.Endpoint, state.Endpoint.ValueString()
	}
	return types.StringNull(), ""
}

// destroyEndpointWarning says when destroy deletes at the saved endpoint
// while the provider names another one (or none) and the rollout's own
// endpoint did not set it.
func (r *featureRolloutResource) destroyEndpointWarning(state *featureRolloutModel, priv rolloutPrivate) diag.Diagnostics {
	var diags diag.Diagnostics
	saved := state.Endpoint.ValueString()
	ep, unknown := r.providerEndpoint()
	if saved == "" || unknown || ep == saved || priv.endpointFrom == endpointFromAttribute || state.OnDestroy.ValueString() == onDestroyRetain {
		return diags
	}
	diags.AddWarning("Destroying at the saved endpoint",
		fmt.Sprintf("Rollout %q was published to %s, saved in state; the provider now gives %s. Destroy disables the flag at the saved endpoint.",
			state.FlagName.ValueString(), saved, describeEndpoint(ep)))
	return diags
}

func describeEndpoint(ep string) string {
	if ep == "" {
		return "no flag endpoint (neither flag_endpoint nor " + EnvFlagEndpoint + ")"
	}
	return ep
}

// publish sends the planned rollout to its endpoint, if it has one.
func (r *featureRolloutResource) publish(ctx context.Context, m *featureRolloutModel) diag.Diagnostics {
	var diags diag.Diagnostics
	endpoint := m.Endpoint.ValueString()
	if endpoint == "" {
		return diags
	}
	stages, _ := stagesOf(m.Stages)
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
	r.data.published.add(endpoint, doc.Flag)
	tflog.Info(ctx, "flag published", map[string]any{"flag": doc.Flag, "stage": doc.Stage, "percentage": doc.Percentage, "state": doc.State})
	return diags
}

// endpointFrom is where the configuration takes the rollout's endpoint
// from.
func endpointFrom(config *featureRolloutModel) string {
	if config.Endpoint.IsNull() {
		return endpointFromProvider
	}
	return endpointFromAttribute
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
