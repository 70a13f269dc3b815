package provider

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

const defaultOperationTimeout = 30 * time.Minute

var (
	_ resource.Resource                     = (*deploymentResource)(nil)
	_ resource.ResourceWithConfigure        = (*deploymentResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*deploymentResource)(nil)
	_ resource.ResourceWithValidateConfig   = (*deploymentResource)(nil)
	_ resource.ResourceWithConfigValidators = (*deploymentResource)(nil)
)

// NewDeploymentResource is the codomyrmex_deployment resource.
func NewDeploymentResource() resource.Resource { return &deploymentResource{} }

type deploymentResource struct {
	data *providerData
}

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
	RouterURL types.String `tfsdk:"router_url"`
}

type canaryModel struct {
	Stages           types.List    `tfsdk:"stages"`
	StageInterval    types.String  `tfsdk:"stage_interval"`
	SuccessThreshold types.Float64 `tfsdk:"success_threshold"`
	RouterURL        types.String  `tfsdk:"router_url"`
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
}

func (r *deploymentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_deployment"
}

func (r *deploymentResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	d, err := configuredData(req.ProviderData)
	if err != nil {
		resp.Diagnostics.AddError("Unexpected provider data", err.Error())
		return
	}
	r.data = d
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

func (r *deploymentResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m deploymentModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
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
	}
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
	if plan.Targets.IsUnknown() || plan.Version.IsUnknown() || targetIdentityUnknown(plan.Targets) || strategyUnknown(&plan) {
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

	if req.State.Raw.IsNull() {
		p := strategies.NewPlan(spec.strategy, spec.version, spec.targets, strategies.Prior{})
		plan.ChangedTargets = stringListValue(targetIDs(p.Pending))
		plan.PreviousVersion = types.StringUnknown()
		markRolloutUnknown(&plan)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		r.summarize(spec, p, &resp.Diagnostics)
		return
	}

	var state deploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	prior, d := r.prior(ctx, &state)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	p := strategies.NewPlan(spec.strategy, spec.version, spec.targets, prior)
	plan.ChangedTargets = stringListValue(targetIDs(p.Pending))
	if p.VersionChanged {
		plan.PreviousVersion = state.Version
	} else {
		plan.PreviousVersion = state.PreviousVersion
	}
	if p.Work() {
		markRolloutUnknown(&plan)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		r.summarize(spec, p, &resp.Diagnostics)
		return
	}

	// Nothing to deploy: a change of settings alone keeps the last
	// rollout's outcome, and the apply makes no target call.
	keepOutcome(&plan, &state, spec, prior, p.VersionChanged)
	// changed_targets describes the last apply; keep it while nothing
	// else changes, so a converged deployment plans no change. When
	// settings change, the update changes no target: say so. A setting
	// unknown now may turn out either way: the apply decides.
	stateSpec, d := r.spec(ctx, &state)
	resp.Diagnostics.Append(d...)
	switch {
	case !req.Config.Raw.IsFullyKnown():
		plan.ChangedTargets = types.ListUnknown(types.StringType)
	case sameSettings(spec, stateSpec) && plan.OnDestroy.Equal(state.OnDestroy) && plan.Timeouts.Equal(state.Timeouts):
		plan.ChangedTargets = state.ChangedTargets
	default:
		plan.ChangedTargets = stringListValue(nil)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// summarize says in the plan's text which targets the apply deploys:
// Terraform's diff hides list elements equal to the prior ones, and
// changed_targets may equal its prior value (a retry after a failure).
func (r *deploymentResource) summarize(spec *deploymentSpec, p strategies.Plan, diags *diag.Diagnostics) {
	ids := targetIDs(p.Pending)
	what := fmt.Sprintf("deploys %q to %d of %d targets: %s", spec.version, len(ids), len(spec.targets), listForPlan(ids))
	if len(ids) == 0 {
		what = fmt.Sprintf("deploys no target: every target already runs %q; it completes the %s traffic step", spec.version, spec.strategy)
	}
	diags.AddWarning("Rollout planned",
		fmt.Sprintf("Deployment %q: this apply %s (changed_targets; in JSON plans: resource_changes[].change.after.changed_targets).", spec.name, what))
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
func keepOutcome(plan, state *deploymentModel, spec *deploymentSpec, prior strategies.Prior, versionChanged bool) {
	plan.Status = state.Status
	plan.TargetsUpdated = state.TargetsUpdated
	plan.TargetsFailed = state.TargetsFailed
	plan.DurationMs = state.DurationMs
	plan.DeployedAt = state.DeployedAt
	plan.TargetVersions = state.TargetVersions
	if pruned := strategies.ListedVersions(spec.targets, prior.Versions); len(pruned) != len(prior.Versions) {
		// Targets removed from the list are left alone and forgotten.
		plan.TargetVersions = stringMapValue(pruned)
	}
	plan.TrafficPercentage = state.TrafficPercentage
	if spec.strategy == strategies.NameBlueGreen {
		plan.ActiveSlot = state.ActiveSlot
		if prior.ActiveSlot != "" {
			plan.ActiveSlot = types.StringValue(prior.ActiveSlot)
		}
	}
	if versionChanged {
		plan.Status = types.StringValue(string(strategies.StatusCompleted))
	}
}

// prior translates the saved state into the engine's terms.
func (r *deploymentResource) prior(ctx context.Context, state *deploymentModel) (strategies.Prior, diag.Diagnostics) {
	var diags diag.Diagnostics
	p := strategies.Prior{
		Version:         state.Version.ValueString(),
		PreviousVersion: state.PreviousVersion.ValueString(),
		Status:          strategies.Status(state.Status.ValueString()),
		Traffic:         state.TrafficPercentage.ValueFloat64(),
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
		// The user asked for it; nothing to warn about.
	case state.PreviousVersion.IsNull() || state.PreviousVersion.ValueString() == "":
		resp.Diagnostics.AddWarning("Destroy will not roll back",
			fmt.Sprintf("Deployment %q has no known previous_version, so destroying it only removes it from state; the targets keep running %q.",
				state.Name.ValueString(), state.Version.ValueString()))
	}
}

// env builds the engine's side effects on top of the protocol client.
func (r *deploymentResource) env(ctx context.Context, s *deploymentSpec) strategies.Env {
	client := r.data.client
	name := s.name
	strategy := s.strategy
	env := strategies.Env{
		Clock: r.data.clock,
		Limit: r.data.limit,
		Deploy: func(ctx context.Context, t strategies.Target, version, previous string) error {
			var pv *string
			if previous != "" {
				pv = &previous
			}
			return client.Deploy(ctx, t.Address, protocol.DeployRequest{
				Deployment:      name,
				Version:         version,
				PreviousVersion: pv,
				TargetID:        t.ID,
				Strategy:        strategy,
				Metadata:        t.Metadata,
			})
		},
		Health: func(ctx context.Context, t strategies.Target) (string, error) {
			h, err := client.Health(ctx, t.Address, s.healthPath)
			return h.Version, err
		},
		// The engine polls again every health_check.interval: a poll that
		// retried with backoff itself would stretch the interval.
		Poll: func(ctx context.Context, t strategies.Target) (string, error) {
			h, err := client.Health(protocol.WithoutRetries(ctx), t.Address, s.healthPath)
			return h.Version, err
		},
		OnEvent: func(e strategies.Event) {
			fields := map[string]any{"deployment": name, "strategy": strategy}
			if e.Phase != "" {
				fields["phase"] = e.Phase
			}
			if e.TargetID != "" {
				fields["target_id"] = e.TargetID
			}
			if e.Version != "" {
				fields["version"] = e.Version
			}
			if e.Err != nil {
				fields["error"] = e.Err.Error()
			}
			if e.Level == "ERROR" {
				tflog.Error(ctx, e.Message, fields)
			} else {
				tflog.Info(ctx, e.Message, fields)
			}
		},
	}
	if s.routerURL != "" {
		router := s.routerURL
		env.Switch = func(ctx context.Context, slot, version string) error {
			return client.Switch(ctx, router, protocol.SwitchRequest{Deployment: name, Slot: slot, Version: version})
		}
		env.Weights = func(ctx context.Context, version string, percentage float64) error {
			return client.SetWeights(ctx, router, protocol.WeightsRequest{Deployment: name, Version: version, Percentage: percentage})
		}
	}
	if s.strategy == strategies.NameFeatureFlag {
		endpoint, flag, clk := r.data.flagEndpoint, s.flagName, r.data.clock
		env.Publish = func(ctx context.Context, percentage float64) error {
			return client.PublishFlag(ctx, endpoint, protocol.Flag{
				Flag:       flag,
				State:      "active",
				Stage:      0,
				Percentage: percentage,
				Stages:     []float64{percentage},
				UpdatedAt:  clk.Now().UTC().Format(time.RFC3339),
			})
		}
	}
	return env
}

func (r *deploymentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan deploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(r.data.mask(ctx), timeout)
	defer cancel()

	spec, d := r.spec(ctx, &plan)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	env := r.env(ctx, spec)

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

	p := strategies.NewPlan(spec.strategy, spec.version, spec.targets, strategies.Prior{})
	rq := r.request(spec, p.Request)
	rq.PreviousVersion = prev
	rq.Before = versions
	res := r.execute(ctx, spec, env, rq)
	saved := strategies.Settle(spec.strategy, rq, strategies.Prior{}, res)
	r.applyResult(&plan, spec, res, saved)
	if !res.Success {
		resp.Diagnostics.AddError("Deployment failed", failureMessage(spec, res, rq.PreviousVersion))
		if res.Status == strategies.StatusRolledBack {
			// Everything this apply touched runs what it ran before: save no
			// state, so the next apply starts afresh.
			return
		}
	}
	r.warnTolerated(spec, res, &resp.Diagnostics)
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
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultOperationTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(r.data.mask(ctx), timeout)
	defer cancel()

	spec, d := r.spec(ctx, &plan)
	resp.Diagnostics.Append(d...)
	prior, d := r.prior(ctx, &state)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	p := strategies.NewPlan(spec.strategy, spec.version, spec.targets, prior)
	rq := r.request(spec, p.Request)
	env := r.env(ctx, spec)
	// Targets state knows nothing about (added, or at another address) are
	// read first: a rollback puts back what they ran.
	if unknown := strategies.Unknown(rq); len(unknown) > 0 {
		rq.Before, _ = strategies.ReadVersions(ctx, unknown, env)
	}
	tflog.Info(ctx, "rollout starting", map[string]any{"deployment": spec.name, "version": spec.version, "strategy": spec.strategy, "previous_version": rq.PreviousVersion, "changed_targets": len(p.Pending)})
	res := r.execute(ctx, spec, env, rq)
	saved := strategies.Settle(spec.strategy, rq, prior, res)
	r.applyResult(&plan, spec, res, saved)
	if !res.Success {
		resp.Diagnostics.AddError("Deployment failed", failureMessage(spec, res, rq.PreviousVersion))
	}
	r.warnTolerated(spec, res, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// request completes a planned request with the settings of spec.
func (r *deploymentResource) request(spec *deploymentSpec, rq strategies.Request) strategies.Request {
	rq.Deployment = spec.name
	rq.AutoRollback = spec.autoRollback
	rq.HealthCheck = spec.health
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
	m.DeployedAt = types.StringValue(r.data.clock.Now().UTC().Format(time.RFC3339))
	m.TargetVersions = stringMapValue(saved.Versions)
	m.TrafficPercentage = types.Float64Value(saved.Traffic)
	m.ActiveSlot = types.StringNull()
	if spec.strategy == strategies.NameBlueGreen && saved.ActiveSlot != "" {
		m.ActiveSlot = types.StringValue(saved.ActiveSlot)
	}
}

func (r *deploymentResource) warnTolerated(spec *deploymentSpec, res *strategies.Result, diags *diag.Diagnostics) {
	if !res.Success || res.TargetsFailed == 0 {
		return
	}
	diags.AddWarning("Some targets failed",
		fmt.Sprintf("Deployment %q completed with %d failed target(s) tolerated by max_failures: %s. The next plan deploys %q to them again.",
			spec.name, res.TargetsFailed, strings.Join(failedIDs(spec, res), ", "), spec.version))
}

func failedIDs(spec *deploymentSpec, res *strategies.Result) []string {
	var ids []string
	for _, t := range spec.targets {
		if o := res.Outcomes[t.ID]; o != nil && o.Err != nil {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// failureMessage names the targets, where the rollout stopped, and what was
// rolled back.
func failureMessage(spec *deploymentSpec, res *strategies.Result, previous string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rolling out %q to deployment %q (%s) failed", spec.version, spec.name, spec.strategy)
	if res.StoppedAt != "" {
		fmt.Fprintf(&b, " at %s", res.StoppedAt)
	}
	b.WriteString(".\n")
	if ids := failedIDs(spec, res); len(ids) > 0 {
		fmt.Fprintf(&b, "\nFailed targets: %s\n", strings.Join(ids, ", "))
	}
	for _, err := range res.Errors {
		fmt.Fprintf(&b, "  - %s\n", err)
	}
	switch {
	case len(res.RolledBack) > 0 && restoredOwn(res, previous) != nil:
		fmt.Fprintf(&b, "\nRestored to the version each ran before: %s\n", strings.Join(restoredOwn(res, previous), ", "))
	case len(res.RolledBack) > 0:
		fmt.Fprintf(&b, "\nRolled back to previous_version: %s\n", strings.Join(res.RolledBack, ", "))
	case res.Status == strategies.StatusRolledBack:
		b.WriteString("\nRolled back: no target needed it (traffic was restored).\n")
	default:
		b.WriteString("\nNothing was rolled back")
		if !spec.autoRollback {
			b.WriteString(" (auto_rollback is false)")
		}
		b.WriteString(".\n")
	}
	for _, err := range res.RollbackErrors {
		fmt.Fprintf(&b, "  rollback: %s\n", err)
	}
	b.WriteString("\nState records only what the targets report, so the next plan proposes the rollout again.")
	return b.String()
}

// restoredOwn lists "id (version)" for every rolled-back target, when some
// went back to a version of its own rather than previous_version (a failed
// repair of drifted targets); nil otherwise.
func restoredOwn(res *strategies.Result, previous string) []string {
	var out []string
	own := false
	for _, id := range res.RolledBack {
		o := res.Outcomes[id]
		out = append(out, fmt.Sprintf("%s (%s)", id, o.RestoredTo))
		own = own || o.RestoredTo != previous
	}
	if !own {
		return nil
	}
	return out
}

func describeVersions(targets []strategies.Target, versions map[string]string, errs map[string]error) string {
	counts := map[string]int{}
	for _, t := range targets {
		if v, ok := versions[t.ID]; ok {
			counts[v]++
		}
	}
	parts := make([]string, 0, len(counts)+1)
	for v, n := range counts {
		parts = append(parts, fmt.Sprintf("%d at %q", n, v))
	}
	sort.Strings(parts)
	if len(errs) > 0 {
		parts = append(parts, fmt.Sprintf("%d unreachable", len(errs)))
	}
	if len(parts) == 0 {
		return "no target answered"
	}
	return strings.Join(parts, ", ")
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
	fleet := strategies.Refreshed(spec.targets, known, versions, errs, spec.health.ExpectVersion)
	if len(errs) > 0 {
		ids := make([]string, 0, len(errs))
		for _, t := range spec.targets {
			if err, ok := errs[t.ID]; ok {
				ids = append(ids, fmt.Sprintf("%s (%s)", t.ID, err))
			}
		}
		tflog.Warn(ctx, "targets unreachable during refresh", map[string]any{"deployment": spec.name, "count": len(errs)})
		resp.Diagnostics.AddWarning("Unreachable targets",
			fmt.Sprintf("Deployment %q: %d target(s) did not answer the health call during refresh and keep their last known version: %s",
				spec.name, len(errs), strings.Join(ids, "; ")))
	}
	state.TargetVersions = stringMapValue(fleet)
	active := strategies.ActiveTargets(spec.strategy, spec.targets, state.ActiveSlot.ValueString())
	state.Version = types.StringValue(strategies.RefreshedVersion(spec.version, fleet, active))
	if reported := strategies.HonestVersion(spec.version, fleet, active); reported != spec.version {
		tflog.Info(ctx, "drift detected", map[string]any{"deployment": spec.name, "version": spec.version, "reported": reported})
	}
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
	ctx, cancel := context.WithTimeout(r.data.mask(ctx), timeout)
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
			"\nThe deployment stays in state; fix the targets and destroy again, or set on_destroy = \"none\".")
		// Keep the state honest about what the targets now report.
		state.TargetVersions = stringMapValue(strategies.FleetVersions(fleet, res))
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
}

// objectAsOptions lets optional children stay null in the Go models.
var objectAsOptions = basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true}
