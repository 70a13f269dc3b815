package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

var _ function.Function = (*rolloutBucketFunction)(nil)

// NewRolloutBucketFunction returns provider::codomyrmex::rollout_bucket.
func NewRolloutBucketFunction() function.Function { return &rolloutBucketFunction{} }

type rolloutBucketFunction struct{}

func (f *rolloutBucketFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "rollout_bucket"
}

func (f *rolloutBucketFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
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
			function.StringParameter{
				Name:                "flag_name",
				Description:         "Name of the feature flag; the same key lands in unrelated buckets for different flags.",
				MarkdownDescription: "Name of the feature flag; the same key lands in unrelated buckets for different flags.",
			},
			function.StringParameter{
				Name:                "key",
				Description:         "Stable identifier of the subject being bucketed, such as a user or tenant id.",
				MarkdownDescription: "Stable identifier of the subject being bucketed, such as a user or tenant id.",
			},
		},
		Return: function.Float64Return{},
	}
}

func (f *rolloutBucketFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var flagName, key string
	resp.Error = req.Arguments.Get(ctx, &flagName, &key)
	if resp.Error != nil {
		return
	}
	resp.Error = resp.Result.Set(ctx, rollout.Bucket(flagName, key))
}
