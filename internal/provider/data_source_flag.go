package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

var (
	_ datasource.DataSource              = (*flagDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*flagDataSource)(nil)
)

// flagDataSource is codomyrmex_flag: a flag document as the flag service
// holds it now.
type flagDataSource struct {
	dataSourceBase
}

type flagModel struct {
	FlagName   types.String  `tfsdk:"flag_name"`
	Endpoint   types.String  `tfsdk:"endpoint"`
	State      types.String  `tfsdk:"state"`
	Stage      types.Int64   `tfsdk:"stage"`
	Percentage types.Float64 `tfsdk:"percentage"`
	Stages     types.List    `tfsdk:"stages"`
	UpdatedAt  types.String  `tfsdk:"updated_at"`
}

func (d *flagDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flag"
}

func (d *flagDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A flag document as the flag service holds it now (`GET {endpoint}/v1/flags/{flag_name}`), whoever " +
			"published it. A flag the service does not hold (404) is not an error: `state`, `stage`, `percentage`, `stages` and " +
			"`updated_at` are null. Works inside `check` blocks: see the guide [Watching a rollout](../guides/watching-a-rollout).",
		Attributes: map[string]schema.Attribute{
			"flag_name": schema.StringAttribute{
				MarkdownDescription: "Flag name, 1–128 characters from `A-Z a-z 0-9 . _ -`.",
				Required:            true,
				Validators:          []validator.String{nameValidator()},
			},
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "Flag service base URL, as `codomyrmex_feature_rollout` takes it: this attribute, else the " +
					"provider's `flag_endpoint`, else `" + EnvFlagEndpoint + "`; one of them is required. Computed: the endpoint asked.",
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{addressValidator{}},
			},
			"state": schema.StringAttribute{
				MarkdownDescription: "`pending`, `active`, `paused`, `completed` or `aborted`; null when the flag does not exist.",
				Computed:            true,
			},
			"stage": schema.Int64Attribute{
				MarkdownDescription: "Index of the current stage in `stages`; null when the flag does not exist.",
				Computed:            true,
			},
			"percentage": schema.Float64Attribute{
				MarkdownDescription: "Share of users the flag is on for, in percent; null when the flag does not exist.",
				Computed:            true,
			},
			"stages": schema.ListAttribute{
				MarkdownDescription: "The rollout's percentages; null when the flag does not exist.",
				Computed:            true,
				ElementType:         types.Float64Type,
			},
			"updated_at": schema.StringAttribute{
				MarkdownDescription: "When the document was last published (RFC 3339, as the publisher wrote it); null when the flag does not exist.",
				Computed:            true,
			},
		},
	}
}

func (d *flagDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m flagModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.data == nil {
		return
	}
	endpoint := m.Endpoint.ValueString()
	if endpoint == "" {
		endpoint = d.data.flagEndpoint
	}
	if endpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "No flag endpoint",
			"Set endpoint, the provider's flag_endpoint or "+EnvFlagEndpoint+" to the flag service's base URL.")
		return
	}
	m.Endpoint = types.StringValue(endpoint)
	f, err := d.data.client.ReadFlag(d.data.mask(ctx), endpoint, m.FlagName.ValueString())
	switch {
	case errors.Is(err, protocol.ErrNotFound):
		m.State, m.Stage, m.Percentage = types.StringNull(), types.Int64Null(), types.Float64Null()
		m.Stages, m.UpdatedAt = types.ListNull(types.Float64Type), types.StringNull()
	case err != nil:
		resp.Diagnostics.AddError("Flag service did not answer", fmt.Sprintf("Reading flag %q failed: %v", m.FlagName.ValueString(), err))
		return
	default:
		var diags diag.Diagnostics
		m.State, m.Stage, m.Percentage = types.StringValue(f.State), types.Int64Value(int64(f.Stage)), types.Float64Value(f.Percentage)
		m.Stages, diags = types.ListValueFrom(ctx, types.Float64Type, f.Stages)
		resp.Diagnostics.Append(diags...)
		m.UpdatedAt = optionalString(f.UpdatedAt)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
