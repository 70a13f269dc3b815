package provider

import (
	"context"
	"fmt"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

// defaultStageDelay is stage_delay when none is set.
const defaultStageDelay = "1h"

func (r *featureRolloutResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Moves a feature flag through staged percentages (default 5 → 25 → 50 → 100 %). " +
			"Every `apply` advances at most one stage, once `stage_delay` has passed since the last change, and `plan` " +
			"shows the advance before it happens even though the configuration did not change: run `apply` on a " +
			"schedule (from CI) to progress the rollout.\n\n" +
			"Each state is published to the flag service (`{endpoint}/v1/flags/{flag_name}`) before it is saved; " +
			"without an endpoint the rollout lives in state only, and its `percentage` can feed other resources. " +
			"Import with the flag name: `terraform import codomyrmex_feature_rollout.x new-checkout`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Same as `flag_name`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"flag_name": schema.StringAttribute{
				MarkdownDescription: "Flag name, 1–128 characters from `A-Z a-z 0-9 . _ -`. Changing it replaces the rollout.",
				Required:            true,
				Validators:          []validator.String{nameValidator()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"stages": schema.ListAttribute{
				MarkdownDescription: "Percentages, strictly ascending, each in (0, 100], 1 to 20 of them. Defaults to `[5, 25, 50, 100]`. " +
					"Any number is accepted and used as the nearest 64-bit float (`100/3` is 33.333333333333336). " +
					"A change never raises exposure: `current_stage` becomes the highest new stage whose percentage is at most " +
					"the current one. When the rollout exposes keys (active, paused, completed) and every new stage is above " +
					"its percentage, the plan fails and names both; while pending or aborted (0 %) the index becomes 0.",
				Optional:    true,
				Computed:    true,
				ElementType: types.NumberType,
				Default:     listdefault.StaticValue(numberList(rollout.DefaultStages())),
				Validators:  []validator.List{listvalidator.SizeBetween(1, rollout.MaxStages), rolloutStagesValidator{}},
			},
			"stage_delay": schema.StringAttribute{
				MarkdownDescription: "Minimum time between advances, a Go duration, counted from the apply that published the " +
					"last change (`updated_at`). Defaults to `\"1h\"`.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(defaultStageDelay),
				Validators: []validator.String{positiveDuration{}},
			},
			"paused": schema.BoolAttribute{
				MarkdownDescription: "Hold the rollout at its current stage (state `paused`). Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
			"aborted": schema.BoolAttribute{
				MarkdownDescription: "Abort: state `aborted`, percentage 0, from any state. Final: setting it back to `false` replaces the rollout, which starts again at stage 0. Defaults to `false`.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplaceIf(
					func(ctx context.Context, req planmodifier.BoolRequest, resp *boolplanmodifier.RequiresReplaceIfFuncResponse) {
						resp.RequiresReplace = req.StateValue.ValueBool() && !req.PlanValue.ValueBool()
					},
					"Turning aborted off replaces the rollout: it starts again at stage 0.",
					"Turning `aborted` off replaces the rollout: it starts again at stage 0.",
				)},
			},
			"max_stage": schema.NumberAttribute{
				MarkdownDescription: "Auto-advance stops at this stage index, a whole number from 0 to 19; the rollout holds there until it is raised or removed.",
				Optional:            true,
				Validators:          []validator.Number{stageIndexValidator{}},
			},
			"start_at": schema.StringAttribute{
				MarkdownDescription: "RFC 3339 time before which the rollout is `pending` (0 %). The rollout starts at the first " +
					"plan after it; a plan that also changes the configuration leaves the start to the next plan.",
				Optional:   true,
				CustomType: timetypes.RFC3339Type{},
			},
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Flag service base URL; overrides the provider's `flag_endpoint` (or `" + EnvFlagEndpoint + "`). " +
					"Saved in state: the endpoint a rollout was published to stays its endpoint, and an apply or destroy " +
					"whose configuration and environment give none uses the saved one, with a warning. Changing it " +
					"(also from none to one) replaces the rollout. With no endpoint anywhere the rollout lives in state only.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{addressValidator{}},
			},
			"on_destroy": schema.StringAttribute{
				MarkdownDescription: "`\"disable\"` (default) deletes the flag on destroy, unless the flag service holds a document " +
					"this rollout did not publish (see below); `\"retain\"` leaves it as it is.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(onDestroyDisable),
				Validators: []validator.String{stringvalidator.OneOf(onDestroyDisable, onDestroyRetain)},
			},
			"state": schema.StringAttribute{
				MarkdownDescription: "`pending`, `active`, `paused`, `completed` or `aborted`.",
				Computed:            true,
			},
			"current_stage": schema.Int64Attribute{
				MarkdownDescription: "Index of the current stage in `stages`; always a valid index, also while pending or aborted.",
				Computed:            true,
			},
			"percentage": schema.Float64Attribute{
				MarkdownDescription: "Exposure: 0 when pending or aborted, else `stages[current_stage]`.",
				Computed:            true,
			},
			"started_at": schema.StringAttribute{
				MarkdownDescription: "When exposure began (RFC 3339); null while pending.",
				Computed:            true,
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "Last state change (RFC 3339): the time of the apply that published it, also when the plan " +
					"was saved and applied later. The next advance is due `stage_delay` after it.",
				Computed: true,
			},
			"next_advance_at": schema.StringAttribute{
				MarkdownDescription: "When the next advance becomes due (RFC 3339); null when none is (paused, held by `max_stage`, completed, aborted).",
				Computed:            true,
			},
		},
	}
}

// numberList is a list of numbers holding values.
func numberList(values []float64) types.List {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.NumberValue(big.NewFloat(v))
	}
	return types.ListValueMust(types.NumberType, elems)
}

// nearestFloat64 is the float64 nearest to a number as Terraform holds it
// (arbitrary precision): 100/3 is 33.333333333333336.
func nearestFloat64(n types.Number) float64 {
	f, _ := n.ValueBigFloat().Float64()
	return f
}

// rolloutStagesValidator checks the known stages of a rollout: each in
// (0, 100] as its nearest float64, strictly ascending. Unknown elements are
// left to apply.
type rolloutStagesValidator struct{}

func (rolloutStagesValidator) Description(context.Context) string {
	return "stages must be strictly ascending percentages in (0, 100]"
}

func (v rolloutStagesValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v rolloutStagesValidator) ValidateList(ctx context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	prev, prevIdx := 0.0, -1
	for i, elem := range req.ConfigValue.Elements() {
		n, ok := elem.(types.Number)
		if !ok || n.IsUnknown() {
			prevIdx = -1
			continue
		}
		if n.IsNull() {
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage", fmt.Sprintf("%s: stage %d is null; %s.", req.Path, i, v.Description(ctx)))
			return
		}
		p := nearestFloat64(n)
		switch {
		case !(p > 0 && p <= 100):
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage",
				fmt.Sprintf("%s: stage %d is %s; each stage must be a percentage in (0, 100].", req.Path, i, n.ValueBigFloat().Text('g', 10)))
			return
		case prevIdx >= 0 && p <= prev:
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage",
				fmt.Sprintf("%s: stage %d is %g, not above stage %d (%g); stages must be strictly ascending.", req.Path, i, p, prevIdx, prev))
			return
		}
		prev, prevIdx = p, i
	}
}

// stageIndexValidator requires max_stage to be a whole stage index.
type stageIndexValidator struct{}

func (stageIndexValidator) Description(context.Context) string {
	return fmt.Sprintf("must be a whole stage index from 0 to %d", rollout.MaxStages-1)
}

func (v stageIndexValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v stageIndexValidator) ValidateNumber(ctx context.Context, req validator.NumberRequest, resp *validator.NumberResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	n := req.ConfigValue.ValueBigFloat()
	if i, acc := n.Int64(); !n.IsInt() || acc != big.Exact || i < 0 || i > rollout.MaxStages-1 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid max_stage",
			fmt.Sprintf("%s %s, got %s.", req.Path, v.Description(ctx), n.Text('g', 10)))
	}
}
