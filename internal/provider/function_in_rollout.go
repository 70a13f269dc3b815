package provider

import (
	"context"
	"fmt"

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
			"0 exposes no key and 100 every key.",
		MarkdownDescription: "Returns `true` when `rollout_bucket(flag_name, key) < percentage`. " +
			"Raising the percentage only ever adds keys: a key that is in at 10 stays in at 25. " +
			"`0` exposes no key and `100` every key.",
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
			function.Float64Parameter{
				Name: "percentage",
				Description: "Share of keys exposed, from 0 to 100, such as the percentage attribute " +
					"of a codomyrmex_feature_rollout.",
				MarkdownDescription: "Share of keys exposed, from `0` to `100`, such as the `percentage` attribute " +
					"of a `codomyrmex_feature_rollout`.",
			},
		},
		Return: function.BoolReturn{},
	}
}

func (f *inRolloutFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var flagName, key string
	var percentage float64
	resp.Error = req.Arguments.Get(ctx, &flagName, &key, &percentage)
	if resp.Error != nil {
		return
	}
	// Outside [0, 100] the answer would still be defined (nobody or
	// everybody), but such a value is almost certainly a mistake.
	if !(percentage >= 0 && percentage <= 100) {
		resp.Error = function.NewArgumentFuncError(2, fmt.Sprintf("percentage must be between 0 and 100, got %g", percentage))
		return
	}
	resp.Error = resp.Result.Set(ctx, rollout.InRollout(flagName, key, percentage))
}
