package provider

// Where a feature rollout publishes (its own endpoint, the provider's, or the
// one saved in state), and the publish itself.

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// providerEndpoint is the provider's flag endpoint (flag_endpoint or
// CODOMYRMEX_FLAG_ENDPOINT); unknown while the provider block depends on
// values known at apply.
func (r *featureRolloutResource) providerEndpoint() (endpoint string, unknown bool) {
	if r.data == nil {
		return "", false
	}
	return r.data.flagEndpoint, r.data.flagEndpointUnknown
}

// plannedEndpoint is where the rollout publishes: its own endpoint, else the
// provider's, else the one saved in state. savedUsed is that saved endpoint
// when it is used for lack of any other.
func (r *featureRolloutResource) plannedEndpoint(config, state *featureRolloutModel) (endpoint types.String, savedUsed string) {
	if !config.Endpoint.IsNull() {
		return config.Endpoint, ""
	}
	switch ep, unknown := r.providerEndpoint(); {
	case unknown:
		return types.StringUnknown(), ""
	case ep != "":
		return types.StringValue(ep), ""
	}
	if state != nil && state.Endpoint.ValueString() != "" {
		return state.Endpoint, state.Endpoint.ValueString()
	}
	return types.StringNull(), ""
}

// destroyEndpointWarning says when destroy deletes at the saved endpoint
// while the provider names another one (or none) and the rollout's own
// endpoint did not set it.
func (r *featureRolloutResource) destroyEndpointWarning(state *featureRolloutModel, priv rolloutPrivate) diag.Diagnostics {
	var diags diag.Diagnostics
	saved := state.Endpoint.ValueString()
	ep, unknown := r.providerEndpoint()
	if saved == "" || unknown || ep == saved || priv.endpointFrom == endpointFromAttribute || state.OnDestroy.ValueString() == onDestroyRetain {
		return diags
	}
	diags.AddWarning("Destroying at the saved endpoint",
		fmt.Sprintf("Rollout %q was published to %s, saved in state; the provider now gives %s. Destroy disables the flag at the saved endpoint.",
			state.FlagName.ValueString(), saved, describeEndpoint(ep)))
	return diags
}

func describeEndpoint(ep string) string {
	if ep == "" {
		return "no flag endpoint (neither flag_endpoint nor " + EnvFlagEndpoint + ")"
	}
	return ep
}

// publish sends the planned rollout to its endpoint, if it has one.
func (r *featureRolloutResource) publish(ctx context.Context, m *featureRolloutModel) diag.Diagnostics {
	var diags diag.Diagnostics
	endpoint := m.Endpoint.ValueString()
	if endpoint == "" {
		return diags
	}
	stages, _ := stagesOf(m.Stages)
	doc := protocol.Flag{
		Flag:       m.FlagName.ValueString(),
		State:      m.State.ValueString(),
		Stage:      int(m.CurrentStage.ValueInt64()),
		Percentage: m.Percentage.ValueFloat64(),
		Stages:     stages,
		UpdatedAt:  m.UpdatedAt.ValueString(),
	}
	if err := r.data.client.PublishFlag(ctx, endpoint, doc); err != nil {
		tflog.Error(ctx, "publishing the flag failed", map[string]any{"flag": doc.Flag, "stage": doc.Stage, "percentage": doc.Percentage, "error": err.Error()})
		diags.AddError("Publishing the flag failed",
			fmt.Sprintf("Flag %q at stage %d (%g%%, %s) could not be published to %s: %s\nThe saved state keeps the last published value; the next apply tries again.",
				doc.Flag, doc.Stage, doc.Percentage, doc.State, endpoint, err))
		return diags
	}
	r.data.published.add(endpoint, doc.Flag)
	tflog.Info(ctx, "flag published", map[string]any{"flag": doc.Flag, "stage": doc.Stage, "percentage": doc.Percentage, "state": doc.State})
	return diags
}

// endpointFrom is where the configuration takes the rollout's endpoint
// from.
func endpointFrom(config *featureRolloutModel) string {
	if config.Endpoint.IsNull() {
		return endpointFromProvider
	}
	return endpointFromAttribute
}
