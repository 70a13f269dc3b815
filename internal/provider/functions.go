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

var _ function.Function = (*providerFunction)(nil)

// providerFunction is a provider-defined function: its name, its
// definition and what it computes.
type providerFunction struct {
	name       string
	definition function.Definition
	run        func(ctx context.Context, req function.RunRequest, resp *function.RunResponse)
}

func (f *providerFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = f.name
}

func (f *providerFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = f.definition
}

func (f *providerFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	f.run(ctx, req, resp)
}

// stringParameter is a string parameter with its plain and Markdown
// descriptions.
func stringParameter(name, description, markdown string) function.Parameter {
	return function.StringParameter{Name: name, Description: description, MarkdownDescription: markdown}
}

// numberParameter is a number parameter with its plain and Markdown
// descriptions.
func numberParameter(name, description, markdown string) function.Parameter {
	return function.NumberParameter{Name: name, Description: description, MarkdownDescription: markdown}
}

// NewRolloutBucketFunction returns provider::codomyrmex::rollout_bucket.
func NewRolloutBucketFunction() function.Function {
	return &providerFunction{name: "rollout_bucket", run: runRolloutBucket, definition: function.Definition{
		Summary: "Deterministic bucket of a key for a feature flag, in [0, 100)",
		Description: "Returns the bucket of key for flag_name, a number in [0, 100) with two decimals: " +
			"the SHA-256 of flag_name + \":\" + key (both normalised to Unicode NFC), its first 8 bytes read as a " +
			"big-endian unsigned integer n, and (n mod 10000) / 100. A key is in a rollout at percentage P when its " +
			"bucket is below P, so an application that computes the same bucket agrees with in_rollout.",
		MarkdownDescription: "Returns the bucket of `key` for `flag_name`, a number in `[0, 100)` with two decimals: " +
			"the SHA-256 of `flag_name + \":\" + key` (both normalised to Unicode NFC), its first 8 bytes read as a " +
			"big-endian unsigned integer `n`, and `(n mod 10000) / 100`. A key is in a rollout at percentage `P` when its " +
			"bucket is below `P`, so an application that computes the same bucket agrees with `in_rollout`.",
		Parameters: []function.Parameter{
			stringParameter("flag_name", "Name of the feature flag; the same key lands in unrelated buckets for different flags.",
				"Name of the feature flag; the same key lands in unrelated buckets for different flags."),
			stringParameter("key", "Stable identifier of the subject being bucketed, such as a user or tenant id.",
				"Stable identifier of the subject being bucketed, such as a user or tenant id."),
		},
		Return: function.Float64Return{},
	}}
}

func runRolloutBucket(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var flagName, key string
	resp.Error = req.Arguments.Get(ctx, &flagName, &key)
	if resp.Error != nil {
		return
	}
	resp.Error = resp.Result.Set(ctx, rollout.Bucket(flagName, key))
}

// NewInRolloutFunction returns provider::codomyrmex::in_rollout.
func NewInRolloutFunction() function.Function {
	return &providerFunction{name: "in_rollout", run: runInRollout, definition: function.Definition{
		Summary: "Whether a key is exposed by a feature flag rolled out to a percentage",
		Description: "Returns true when rollout_bucket(flag_name, key) < percentage. " +
			"Raising the percentage only ever adds keys: a key that is in at 10 stays in at 25. " +
			"0 exposes no key and 100 every key. Like rollout_bucket, it normalises flag_name and key to Unicode NFC.",
		MarkdownDescription: "Returns `true` when `rollout_bucket(flag_name, key) < percentage`. " +
			"Raising the percentage only ever adds keys: a key that is in at 10 stays in at 25. " +
			"`0` exposes no key and `100` every key. Like `rollout_bucket`, it normalises `flag_name` and `key` to Unicode NFC.",
		Parameters: []function.Parameter{
			stringParameter("flag_name", "Name of the feature flag.", "Name of the feature flag."),
			stringParameter("key", "Stable identifier of the subject, such as a user or tenant id.",
				"Stable identifier of the subject, such as a user or tenant id."),
			numberParameter("percentage",
				"Share of keys exposed, from 0 to 100, such as the percentage attribute "+
					"of a codomyrmex_feature_rollout. Any number in range, used as the nearest 64-bit float (100/3 is 33.333333333333336).",
				"Share of keys exposed, from `0` to `100`, such as the `percentage` attribute "+
					"of a `codomyrmex_feature_rollout`. Any number in range, used as the nearest 64-bit float (`100/3` is 33.333333333333336)."),
		},
		Return: function.BoolReturn{},
	}}
}

func runInRollout(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var flagName, key string
	var percentage *big.Float
	resp.Error = req.Arguments.Get(ctx, &flagName, &key, &percentage)
	if resp.Error != nil {
		return
	}
	// Outside [0, 100] the answer would still be defined (nobody or
	// everybody), but such a value is almost certainly a mistake.
	if percentage.Sign() < 0 || percentage.Cmp(big.NewFloat(100)) > 0 {
		resp.Error = function.NewArgumentFuncError(2, fmt.Sprintf("percentage must be between 0 and 100, got %s", percentage.Text('g', 10)))
		return
	}
	p, _ := percentage.Float64()
	resp.Error = resp.Result.Set(ctx, rollout.InRollout(flagName, key, p))
}

// NewLinearStagesFunction returns provider::codomyrmex::linear_stages.
func NewLinearStagesFunction() function.Function {
	return &providerFunction{name: "linear_stages", run: runLinearStages, definition: function.Definition{
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
			numberParameter("initial", "First stage, in (0, 100].", "First stage, in `(0, 100]`."),
			numberParameter("step", "Increase from one stage to the next, greater than 0.",
				"Increase from one stage to the next, greater than `0`."),
			numberParameter("max_steps",
				fmt.Sprintf("Most stages before the final 100, a whole number from 1 to %d (2.0 is 2, 2.5 is refused); "+
					"fewer when the steps reach 100 first.", rollout.MaxLinearSteps),
				fmt.Sprintf("Most stages before the final `100`, a whole number from `1` to `%d` (`2.0` is 2, `2.5` is refused); "+
					"fewer when the steps reach `100` first.", rollout.MaxLinearSteps)),
		},
		Return: function.ListReturn{ElementType: types.Float64Type},
	}}
}

func runLinearStages(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
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
