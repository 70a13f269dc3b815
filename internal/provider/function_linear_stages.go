package provider

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

var _ function.Function = (*linearStagesFunction)(nil)

// NewLinearStagesFunction returns provider::codomyrmex::linear_stages.
func NewLinearStagesFunction() function.Function { return &linearStagesFunction{} }

type linearStagesFunction struct{}

func (f *linearStagesFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "linear_stages"
}

func (f *linearStagesFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Evenly spaced rollout stages ending at 100",
		Description: "Returns the step-based canary stages initial, initial+step, initial+2*step, ... " +
			"below 100 (at most max_steps of them), followed by 100, which is never repeated: at most max_steps + 1 values. " +
			"linear_stages(10, 20, 5) is [10, 30, 50, 70, 90, 100]. The list is strictly ascending, " +
			"ready for canary.stages of a codomyrmex_deployment or stages of a codomyrmex_feature_rollout " +
			"(which accepts at most 20 stages).",
		MarkdownDescription: "Returns the step-based canary stages `initial`, `initial + step`, `initial + 2 * step`, … " +
			"below `100` (at most `max_steps` of them), followed by `100`, which is never repeated: at most `max_steps + 1` values. " +
			"`linear_stages(10, 20, 5)` is `[10, 30, 50, 70, 90, 100]`. The list is strictly ascending, " +
			"ready for `canary.stages` of a `codomyrmex_deployment` or `stages` of a `codomyrmex_feature_rollout` " +
			"(which accepts at most 20 stages).",
		Parameters: []function.Parameter{
			function.Float64Parameter{
				Name:                "initial",
				Description:         "First stage, in (0, 100].",
				MarkdownDescription: "First stage, in `(0, 100]`.",
			},
			function.Float64Parameter{
				Name:                "step",
				Description:         "Increase from one stage to the next, greater than 0.",
				MarkdownDescription: "Increase from one stage to the next, greater than `0`.",
			},
			function.Int64Parameter{
				Name: "max_steps",
				Description: fmt.Sprintf("Most stages before the final 100, from 1 to %d; "+
					"fewer when the steps reach 100 first.", rollout.MaxLinearSteps),
				MarkdownDescription: fmt.Sprintf("Most stages before the final `100`, from `1` to `%d`; "+
					"fewer when the steps reach `100` first.", rollout.MaxLinearSteps),
			},
		},
		Return: function.ListReturn{ElementType: types.Float64Type},
	}
}

func (f *linearStagesFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var initial, step float64
	var maxSteps int64
	resp.Error = req.Arguments.Get(ctx, &initial, &step, &maxSteps)
	if resp.Error != nil {
		return
	}
	// Clamping keeps a huge max_steps out of range on 32-bit platforms
	// instead of wrapping it into a valid-looking count.
	stages, err := rollout.LinearStages(initial, step, int(max(min(maxSteps, math.MaxInt), math.MinInt)))
	if err != nil {
		var argErr *rollout.ArgumentError
		if errors.As(err, &argErr) {
			resp.Error = function.NewArgumentFuncError(int64(argErr.Index), argErr.Error())
			return
		}
		resp.Error = function.NewFuncError(err.Error())
		return
	}
	resp.Error = resp.Result.Set(ctx, stages)
}
