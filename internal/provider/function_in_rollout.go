package provider

import (
	"context"
	"fmt"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

var _ function.Function = (*inRolloutFunction)(nil)

// NewInRolloutFunction returns provider::codomyrmex::in_rollout.
func NewInRolloutFunction() function.Function { return &inRolloutFunction{} }

type inRolloutFunction struct{}

func (f *inRolloutFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "in_rollout"
}

func (f *inRolloutFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Whether a key is exposed by a feature flag rolled out to a percentage",
		Description: "Returns true when rollout_bucket(flag_name, key) < percentage. " +
			"Raising the percentage only ever adds keys: a key that is in at 10 stays in at 25. " +
			"0 exposes no key and 100 every key. Like rollout_bucket, it normalises flag_name and key to Unicode NFC.",
		MarkdownDescription: "Returns `true` when `rollout_bucket(flag_name, key) < percentage`. " +
			"Raising the percentage only ever adds keys: a key that is in at 10 stays in at 25. " +
			"`0` exposes no key and `100` every key. Like `rollout_bucket`, it normalises `flag_name` and `key` to Unicode NFC.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "flag_name",
				Description:         "Name of the feature flag.",
				MarkdownDescription: "Name of the feature flag.",
			},
			function.StringParameter{
				Name:                "key",
				Description:         "Stable identifier of the subject, such as a user or tenant id.",
				MarkdownDescription: "Stable identifier of the subject, such as a user or tenant id.",
			},
			function.NumberParameter{
				Name: "percentage",
				Description: "Share of keys exposed, from 0 to 100, such as the percentage attribute " +
					"of a codomyrmex_feature_rollout. Any number in range, used as the nearest 64-bit float (100/3 is 33.333333333333336).",
				MarkdownDescription: "Share of keys exposed, from `0` to `100`, such as the `percentage` attribute " +
					"of a `codomyrmex_feature_rollout`. Any number in range, used as the nearest 64-bit float (`100/3` is 33.333333333333336).",
			},
		},
		Return: function.BoolReturn{},
	}
}

func (f *inRolloutFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
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
