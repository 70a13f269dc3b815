package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// resourceBase is what every resource of the provider holds: the provider
// data its Configure receives, and the clock of time-driven behaviour.
type resourceBase struct {
	data  *providerData
	clock clock.Clock
}

func (r *resourceBase) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// dataSourceBase is what every data source of the provider holds: the
// provider data its Configure receives.
type dataSourceBase struct {
	data *providerData
}

func (d *dataSourceBase) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

// configuredData is the provider data handed to a Configure: nil before
// the provider is configured, and an error when it is of another type.
func configuredData(raw any, diags *diag.Diagnostics) *providerData {
	d, ok := raw.(*providerData)
	if raw != nil && !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("unexpected provider data type %T; this is a bug in the provider", raw))
	}
	return d
}
