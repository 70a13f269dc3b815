package provider

import (
	"context"
	"errors"
	"fmt"
	"math/big"

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
			"linear_stages(10, 20, 5) is [10, 30, 50, 70, 90, 100]. Each stage is rounded to the decimals of initial " +
			"and step, so linear_stages(0.1, 0.2, 5) is [0.1, 0.3, 0.5, 0.7, 0.9, 100]. The list is strictly ascending, " +
			"ready for canary.stages of a codomyrmex_deployment or stages of a codomyrmex_feature_rollout " +
			"(which accepts at most 20 stages).",
		MarkdownDescription: "Returns the step-based canary stages `initial`, `initial + step`, `initial + 2 * step`, … " +
			"below `100` (at most `max_steps` of them), followed by `100`, which is never repeated: at most `max_steps + 1` values. " +
			"`linear_stages(10, 20, 5)` is `[10, 30, 50, 70, 90, 100]`. Each stage is rounded to the decimals of `initial` " +
			"and `step`, so `linear_stages(0.1, 0.2, 5)` is `[0.1, 0.3, 0.5, 0.7, 0.9, 100]`. The list is strictly ascending, " +
			"ready for `canary.stages` of a `codomyrmex_deployment` or `stages` of a `codomyrmex_feature_rollout` " +
			"(which accepts at most 20 stages).",
		Parameters: []function.Parameter{
			function.NumberParameter{
				Name:                "initial",
				Description:         "First stage, in (0, 100].",
				MarkdownDescription: "First stage, in `(0, 100]`.",
			},
			function.NumberParameter{
				Name:                "step",
				Description:         "Increase from one stage to the next, greater than 0.",
				MarkdownDescription: "Increase from one stage to the next, greater than `0`.",
			},
			function.NumberParameter{
				Name: "max_steps",
				Description: fmt.Sprintf("Most stages before the final 100, a whole number from 1 to %d (2.0 is 2, 2.5 is refused); "+
					"fewer when the steps reach 100 first.", rollout.MaxLinearSteps),
				MarkdownDescription: fmt.Sprintf("Most stages before the final `100`, a whole number from `1` to `%d` (`2.0` is 2, `2.5` is refused); "+
					"fewer when the steps reach `100` first.", rollout.MaxLinearSteps),
			},
		},
		Return: function.ListReturn{ElementType: types.Float64Type},
	}
}

func (f *linearStagesFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var initial, step, maxSteps *big.Float
	resp.Error = req.Arguments.Get(ctx, &initial, &step, &maxSteps)
	if resp.Error != nil {
		return
	}
	if !maxSteps.IsInt() {
		resp.Error = function.NewArgumentFuncError(2, fmt.Sprintf("max_steps must be a whole number from 1 to %d, got %s",
			rollout.MaxLinearSteps, maxSteps.Text('g', 10)))
		return
	}
	if maxSteps.Cmp(big.NewFloat(1)) < 0 || maxSteps.Cmp(big.NewFloat(rollout.MaxLinearSteps)) > 0 {
		resp.Error = function.NewArgumentFuncError(2, fmt.Sprintf("max_steps must be between 1 and %d, got %s",
			rollout.MaxLinearSteps, maxSteps.Text('g', 20)))
		return
	}
	n, _ := maxSteps.Int64()
	first, _ := initial.Float64()
	by, _ := step.Float64()
	stages, err := rollout.LinearStages(first, by, int(n))
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
