package provider

// The deployment's Terraform models and their translation into engine terms.

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

type deploymentModel struct {
	ID           types.String   `tfsdk:"id"`
	Name         types.String   `tfsdk:"name"`
	Version      types.String   `tfsdk:"version"`
	Targets      types.List     `tfsdk:"targets"`
	Rolling      types.Object   `tfsdk:"rolling"`
	BlueGreen    types.Object   `tfsdk:"blue_green"`
	Canary       types.Object   `tfsdk:"canary"`
	FeatureFlag  types.Object   `tfsdk:"feature_flag"`
	HealthCheck  types.Object   `tfsdk:"health_check"`
	AutoRollback types.Bool     `tfsdk:"auto_rollback"`
	OnDestroy    types.String   `tfsdk:"on_destroy"`
	Timeouts     timeouts.Value `tfsdk:"timeouts"`
	Bake         types.String   `tfsdk:"bake"`
	Analysis     types.Object   `tfsdk:"analysis"`
	Approve      types.Object   `tfsdk:"approve"`
	// Notifications: docs/guides/watching-a-rollout.md.
	Notifications types.List `tfsdk:"notifications"`

	Strategy          types.String  `tfsdk:"strategy"`
	Status            types.String  `tfsdk:"status"`
	PreviousVersion   types.String  `tfsdk:"previous_version"`
	ActiveSlot        types.String  `tfsdk:"active_slot"`
	TrafficPercentage types.Float64 `tfsdk:"traffic_percentage"`
	TargetsUpdated    types.Int64   `tfsdk:"targets_updated"`
	TargetsFailed     types.Int64   `tfsdk:"targets_failed"`
	DurationMs        types.Int64   `tfsdk:"duration_ms"`
	DeployedAt        types.String  `tfsdk:"deployed_at"`
	TargetVersions    types.Map     `tfsdk:"target_versions"`
	ChangedTargets    types.List    `tfsdk:"changed_targets"`
	AnalysisResults   types.List    `tfsdk:"analysis_results"`
	PausedAt          types.Float64 `tfsdk:"paused_at"`
	ResumeAt          types.String  `tfsdk:"resume_at"`
}

type targetModel struct {
	ID       types.String `tfsdk:"id"`
	Address  types.String `tfsdk:"address"`
	Name     types.String `tfsdk:"name"`
	Slot     types.String `tfsdk:"slot"`
	Metadata types.Map    `tfsdk:"metadata"`
}

type rollingModel struct {
	BatchSize   types.Int64  `tfsdk:"batch_size"`
	BatchCount  types.Int64  `tfsdk:"batch_count"`
	BatchDelay  types.String `tfsdk:"batch_delay"`
	MaxFailures types.Int64  `tfsdk:"max_failures"`
}

type blueGreenModel struct {
	RouterURL         types.String `tfsdk:"router_url"`
	PauseBeforeSwitch types.Bool   `tfsdk:"pause_before_switch"`
}

type canaryModel struct {
	Stages           types.List    `tfsdk:"stages"`
	StageInterval    types.String  `tfsdk:"stage_interval"`
	SuccessThreshold types.Float64 `tfsdk:"success_threshold"`
	RouterURL        types.String  `tfsdk:"router_url"`
	Gates            types.List    `tfsdk:"gates"`
}

type featureFlagModel struct {
	FlagName       types.String  `tfsdk:"flag_name"`
	InitialRollout types.Float64 `tfsdk:"initial_rollout"`
}

type healthCheckModel struct {
	Enabled       types.Bool   `tfsdk:"enabled"`
	Path          types.String `tfsdk:"path"`
	Interval      types.String `tfsdk:"interval"`
	Timeout       types.String `tfsdk:"timeout"`
	ExpectVersion types.Bool   `tfsdk:"expect_version"`
	MinHealthy    types.String `tfsdk:"min_healthy"`
}

// deploymentSpec is the configuration translated into engine terms.
type deploymentSpec struct {
	name         string
	version      string
	targets      []strategies.Target
	strategy     string
	config       strategies.Config
	routerURL    string
	flagName     string
	health       strategies.HealthCheck
	healthPath   string
	autoRollback bool
	analysis     analysisSpec
}

// strategyName says which strategy block is set; none means rolling.
func strategyName(m *deploymentModel) string {
	switch {
	case !m.BlueGreen.IsNull():
		return strategies.NameBlueGreen
	case !m.Canary.IsNull():
		return strategies.NameCanary
	case !m.FeatureFlag.IsNull():
		return strategies.NameFeatureFlag
	default:
		return strategies.NameRolling
	}
}

// spec translates a plan (or state) into engine terms.
func (r *deploymentResource) spec(ctx context.Context, m *deploymentModel) (*deploymentSpec, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := &deploymentSpec{
		name:         m.Name.ValueString(),
		version:      m.Version.ValueString(),
		strategy:     strategyName(m),
		config:       strategies.DefaultConfig(),
		autoRollback: m.AutoRollback.IsNull() || m.AutoRollback.ValueBool(),
	}
	targets, d := targetsFromList(ctx, m.Targets)
	diags.Append(d...)
	s.targets = targets

	switch s.strategy {
	case strategies.NameRolling:
		if !m.Rolling.IsNull() {
			var rm rollingModel
			diags.Append(m.Rolling.As(ctx, &rm, objectAsOptions)...)
			if !rm.BatchSize.IsNull() {
				s.config.Rolling.BatchSize = int(rm.BatchSize.ValueInt64())
			}
			if !rm.BatchCount.IsNull() {
				s.config.Rolling.BatchCount = int(rm.BatchCount.ValueInt64())
			}
			s.config.Rolling.BatchDelay = mustDuration(rm.BatchDelay, defaultBatchDelay)
			s.config.Rolling.MaxFailures = int(rm.MaxFailures.ValueInt64())
		}
	case strategies.NameBlueGreen:
		var bg blueGreenModel
		diags.Append(m.BlueGreen.As(ctx, &bg, objectAsOptions)...)
		s.routerURL = bg.RouterURL.ValueString()
		s.config.BlueGreen.PauseBeforeSwitch = bg.PauseBeforeSwitch.ValueBool()
	case strategies.NameCanary:
		var cm canaryModel
		diags.Append(m.Canary.As(ctx, &cm, objectAsOptions)...)
		if !cm.Stages.IsNull() && !cm.Stages.IsUnknown() {
			var stages []float64
			diags.Append(cm.Stages.ElementsAs(ctx, &stages, false)...)
			s.config.Canary.Stages = stages
		}
		s.config.Canary.StageInterval = mustDuration(cm.StageInterval, defaultStageInterval)
		if !cm.SuccessThreshold.IsNull() {
			s.config.Canary.SuccessThreshold = cm.SuccessThreshold.ValueFloat64()
		}
		s.routerURL = cm.RouterURL.ValueString()
		gates, d := readGates(ctx, cm.Gates)
		diags.Append(d...)
		s.config.Canary.Gates = gates
	case strategies.NameFeatureFlag:
		var fm featureFlagModel
		diags.Append(m.FeatureFlag.As(ctx, &fm, objectAsOptions)...)
		s.flagName = fm.FlagName.ValueString()
		s.config.FeatureFlag.FlagName = s.flagName
		s.config.FeatureFlag.InitialRollout = fm.InitialRollout.ValueFloat64()
	}

	hc := healthCheckModel{}
	if !m.HealthCheck.IsNull() && !m.HealthCheck.IsUnknown() {
		diags.Append(m.HealthCheck.As(ctx, &hc, objectAsOptions)...)
	}
	s.health = strategies.HealthCheck{
		Enabled:       hc.Enabled.IsNull() || hc.Enabled.ValueBool(),
		Interval:      mustDuration(hc.Interval, defaultHealthInterval),
		Timeout:       mustDuration(hc.Timeout, defaultHealthTimeout),
		ExpectVersion: hc.ExpectVersion.IsNull() || hc.ExpectVersion.ValueBool(),
		MinHealthy:    mustDuration(hc.MinHealthy, zeroSeconds),
	}
	as, d := readAnalysis(ctx, m)
	diags.Append(d...)
	s.analysis = as
	approve, d := readApprove(ctx, m.Approve)
	diags.Append(d...)
	s.config.Approve = approve
	s.healthPath = hc.Path.ValueString()
	if s.healthPath == "" {
		s.healthPath = protocol.DefaultHealthPath
	}
	return s, diags
}

// targetsFromList converts the targets list into engine targets. Every plan,
// apply and refresh does it, so the usual shape (known objects, metadata of
// known strings) is read directly: the framework's reflection
// (ElementsAs into []targetModel) cost some 300 allocations per target, a
// third of a second and 95 MB of garbage per call at 5000 targets. Anything
// else goes through ElementsAs, whose diagnostics then stay the framework's.
func targetsFromList(ctx context.Context, l types.List) ([]strategies.Target, diag.Diagnostics) {
	if targets, ok := knownTargets(l); ok {
		return targets, nil
	}
	var models []targetModel
	diags := l.ElementsAs(ctx, &models, false)
	if diags.HasError() {
		return nil, diags
	}
	targets := make([]strategies.Target, len(models))
	for i, t := range models {
		targets[i] = strategies.Target{
			ID:      t.ID.ValueString(),
			Address: t.Address.ValueString(),
			Name:    t.Name.ValueString(),
			Slot:    t.Slot.ValueString(),
		}
		if !t.Metadata.IsNull() && !t.Metadata.IsUnknown() {
			md := map[string]string{}
			diags.Append(t.Metadata.ElementsAs(ctx, &md, false)...)
			targets[i].Metadata = md
		}
	}
	return targets, diags
}

// knownTargets reads l without reflection, the way targetsFromList's
// ElementsAs does, and reports false for any shape it does not handle the
// same way: a null or unknown list or element, an unexpected attribute set,
// metadata holding a null or unknown value.
func knownTargets(l types.List) ([]strategies.Target, bool) {
	if l.IsNull() || l.IsUnknown() {
		return nil, false
	}
	elems := l.Elements()
	targets := make([]strategies.Target, len(elems))
	for i, e := range elems {
		obj, ok := e.(types.Object)
		if !ok || obj.IsNull() || obj.IsUnknown() {
			return nil, false
		}
		attrs := obj.Attributes()
		id, okID := attrs["id"].(types.String)
		address, okAddress := attrs["address"].(types.String)
		name, okName := attrs["name"].(types.String)
		slot, okSlot := attrs["slot"].(types.String)
		metadata, okMetadata := attrs["metadata"].(types.Map)
		if len(attrs) != 5 || !okID || !okAddress || !okName || !okSlot || !okMetadata {
			return nil, false
		}
		targets[i] = strategies.Target{
			ID:      id.ValueString(),
			Address: address.ValueString(),
			Name:    name.ValueString(),
			Slot:    slot.ValueString(),
		}
		if metadata.IsNull() || metadata.IsUnknown() {
			continue
		}
		values := metadata.Elements()
		md := make(map[string]string, len(values))
		for k, v := range values {
			s, ok := v.(types.String)
			if !ok || s.IsNull() || s.IsUnknown() {
				return nil, false
			}
			md[k] = s.ValueString()
		}
		targets[i].Metadata = md
	}
	return targets, true
}

// mustDuration reads a validated duration attribute; validation at plan
// time guarantees it parses, and null falls back to the default.
func mustDuration(v types.String, def string) time.Duration {
	s := def
	if !v.IsNull() && !v.IsUnknown() {
		s = v.ValueString()
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		d, _ = time.ParseDuration(def)
	}
	return d
}

func stringMap(ctx context.Context, m types.Map) (map[string]string, diag.Diagnostics) {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out, nil
	}
	diags := m.ElementsAs(ctx, &out, false)
	return out, diags
}

func stringMapValue(m map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

func stringListValue(ids []string) types.List {
	elems := make([]attr.Value, len(ids))
	for i, id := range ids {
		elems[i] = types.StringValue(id)
	}
	return types.ListValueMust(types.StringType, elems)
}

func targetIDs(targets []strategies.Target) []string {
	ids := make([]string, len(targets))
	for i, t := range targets {
		ids[i] = t.ID
	}
	return ids
}

// prior translates the saved state and its private state into the
// engine's terms. The time a plan decides at is the private as_of: the
// last refresh's or apply's, the same in the plan, in the plan remade
// during the apply and in the apply. A state written before as_of was
// kept decides at its deployed_at (the last apply), and was paused since
// then.
func (r *deploymentResource) prior(ctx context.Context, state *deploymentModel, priv deploymentPrivate) (strategies.Prior, diag.Diagnostics) {
	var diags diag.Diagnostics
	deployed, err := time.Parse(time.RFC3339, state.DeployedAt.ValueString())
	if err != nil {
		deployed = r.clock.Now()
	}
	p := strategies.Prior{
		Strategy:        state.Strategy.ValueString(),
		Version:         state.Version.ValueString(),
		PreviousVersion: state.PreviousVersion.ValueString(),
		Status:          strategies.Status(state.Status.ValueString()),
		Traffic:         state.TrafficPercentage.ValueFloat64(),
		PausedAt:        state.PausedAt.ValueFloat64(),
		PausedSince:     priv.pausedSince,
		Superseded:      priv.superseded,
		Now:             priv.asOf,
	}
	if p.Now.IsZero() {
		p.Now = deployed
	}
	if p.PausedSince.IsZero() && p.Status == strategies.StatusPaused {
		p.PausedSince = deployed
	}
	if state.Strategy.ValueString() == strategies.NameBlueGreen {
		p.ActiveSlot = state.ActiveSlot.ValueString()
	}
	p.Targets, diags = targetsFromList(ctx, state.Targets)
	versions, d := stringMap(ctx, state.TargetVersions)
	diags.Append(d...)
	p.Versions = versions
	return p, diags
}

// objectAsOptions lets optional children stay null in the Go models.
var objectAsOptions = basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true}
