package provider

// The feature rollout's Terraform model and its translation into the state
// machine's terms (internal/rollout): config, prior rollout, computed values.

import (
	"slices"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

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
	// Notifications: docs/guides/watching-a-rollout.md.
	Notifications types.List `tfsdk:"notifications"`

	State         types.String  `tfsdk:"state"`
	CurrentStage  types.Int64   `tfsdk:"current_stage"`
	Percentage    types.Float64 `tfsdk:"percentage"`
	StartedAt     types.String  `tfsdk:"started_at"`
	UpdatedAt     types.String  `tfsdk:"updated_at"`
	NextAdvanceAt types.String  `tfsdk:"next_advance_at"`
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
