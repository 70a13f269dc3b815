package provider

import (
	"context"
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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

// defaultStageDelay is stage_delay when none is set.
const defaultStageDelay = "1h"

func (r *featureRolloutResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		// The shape of the state; a release that changes it adds an
		// UpgradeState from every earlier version (RELEASING.md, "Upgrades").
		Version: 0,
		MarkdownDescription: "Moves a feature flag through staged percentages (default 5 → 25 → 50 → 100 %). " +
			"Every `apply` advances at most one stage, once `stage_delay` has passed since the last change, and `plan` " +
			"shows the advance before it happens even though the configuration did not change: run `apply` on a " +
			"schedule (from CI) to progress the rollout.\n\n" +
			"Each state is published to the flag service (`{endpoint}/v1/flags/{flag_name}`) before it is saved; " +
			"without an endpoint the rollout lives in state only, and its `percentage` can feed other resources. " +
			"Import with the flag name: `terraform import codomyrmex_feature_rollout.x new-checkout`.",
		Attributes: map[string]schema.Attribute{
			"id":        idAttribute("Same as `flag_name`."),
			"flag_name": requiredName("Flag name, 1–128 characters from `A-Z a-z 0-9 . _ -`. Changing it replaces the rollout.", stringplanmodifier.RequiresReplace()),
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
			"stage_delay": durationAttribute("Minimum time between advances, a Go duration, counted from the apply that published the "+
				"last change (`updated_at`). Defaults to `\"1h\"`.",
				defaultStageDelay, false),
			"paused": defaultBool("Hold the rollout at its current stage (state `paused`). Defaults to `false`.", false),
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
			"on_destroy": defaultString("What destroy does to the flag. `\"disable\"` (default) disables the feature by deleting the flag (an evaluation then answers "+
				"`FLAG_NOT_FOUND` and an SDK falls back to your code's default), unless the flag service holds a document "+
				"this rollout did not publish (see below); `\"retain\"` leaves it as it is.", onDestroyDisable, stringvalidator.OneOf(onDestroyDisable, onDestroyRetain)),
			"notifications": notificationsSchema("feature rollout", "flag_name", notify.RolloutType, rolloutEvents),
			"state":         computedString("`pending`, `active`, `paused`, `completed` or `aborted`."),
			"current_stage": computedInt64("Index of the current stage in `stages`; always a valid index, also while pending or aborted."),
			"percentage":    computedFloat64("Exposure: 0 when pending or aborted, else `stages[current_stage]`."),
			"started_at":    computedString("When exposure began (RFC 3339); null while pending."),
			"updated_at": computedString("Last state change (RFC 3339): the time of the apply that published it, also when the plan " +
				"was saved and applied later. The next advance is due `stage_delay` after it."),
			"next_advance_at": computedString("When the next advance becomes due (RFC 3339); null when none is (paused, held by `max_stage`, completed, aborted)."),
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
