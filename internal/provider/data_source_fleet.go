package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"golang.org/x/sync/errgroup"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

var (
	_ datasource.DataSource              = (*fleetDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*fleetDataSource)(nil)
)

// fleetDataSource is codomyrmex_fleet: what a fleet runs now.
type fleetDataSource struct {
	dataSourceBase
}

type fleetModel struct {
	// Targets are codomyrmex_deployment's targets, so that its targets can
	// be passed as they are.
	Targets         []targetModel     `tfsdk:"targets"`
	RouterURL       types.String      `tfsdk:"router_url"`
	HealthCheckPath types.String      `tfsdk:"health_check_path"`
	TargetVersions  types.Map         `tfsdk:"target_versions"`
	Healthy         types.Map         `tfsdk:"healthy"`
	Versions        types.List        `tfsdk:"versions"`
	Router          *fleetRouterModel `tfsdk:"router"`
}

type fleetRouterModel struct {
	Deployments map[string]fleetRouteModel `tfsdk:"deployments"`
}

type fleetRouteModel struct {
	Slot      types.String `tfsdk:"slot"`
	Version   types.String `tfsdk:"version"`
	Weights   types.Map    `tfsdk:"weights"`
	UpdatedAt types.String `tfsdk:"updated_at"`
}

func (d *fleetDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_fleet"
}

func (d *fleetDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "What a fleet runs now: every target's live version and health (the health call of the " +
			"[target protocol](../guides/target-protocol-v1)) and, with `router_url`, what the router last applied " +
			"(`GET {router_url}/v1/state`). A target that does not answer is not healthy and has no version, with a warning; " +
			"a router that does not answer is an error. Inside a `check` block, errors become warnings and a failed " +
			"`assert` warns without failing the apply: see the guide [Watching a rollout](../guides/watching-a-rollout).",
		Attributes: map[string]schema.Attribute{
			"targets": schema.ListNestedAttribute{
				MarkdownDescription: "The fleet, 1 to 10000 targets, as `codomyrmex_deployment` takes them " +
					"(`targets = codomyrmex_deployment.web.targets` works); `name`, `slot` and `metadata` are not used.",
				Required:   true,
				Validators: []validator.List{listvalidator.SizeBetween(1, 10000), uniqueTargetIDs{}},
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"id": schema.StringAttribute{
							MarkdownDescription: "Unique target id: the key of `target_versions` and `healthy`.",
							Required:            true,
							Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
						},
						"address": schema.StringAttribute{
							MarkdownDescription: "Base URL of the target: absolute `http://` or `https://`, optionally with a path prefix, no query or fragment.",
							Required:            true,
							Validators:          []validator.String{addressValidator{}},
						},
						"name":     schema.StringAttribute{MarkdownDescription: "Not used.", Optional: true},
						"slot":     schema.StringAttribute{MarkdownDescription: "Not used.", Optional: true},
						"metadata": schema.MapAttribute{MarkdownDescription: "Not used.", Optional: true, ElementType: types.StringType},
					},
				},
			},
			"router_url": schema.StringAttribute{
				MarkdownDescription: "Base URL of the router to ask what it last applied (`router`). Null: the router is not asked.",
				Optional:            true,
				Validators:          []validator.String{addressValidator{}},
			},
			"health_check_path": schema.StringAttribute{
				MarkdownDescription: "Path of the health call, as `health_check.path` of `codomyrmex_deployment` (default `" + protocol.DefaultHealthPath + "`).",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(healthPathRegexp, "must start with '/' and hold no query or fragment")},
			},
			"target_versions": schema.MapAttribute{
				MarkdownDescription: "Target id → the version the target reports, for every target that answered.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"healthy": schema.MapAttribute{
				MarkdownDescription: "Target id → whether the target answered its health call with `status = \"ok\"`.",
				Computed:            true,
				ElementType:         types.BoolType,
			},
			"versions": schema.ListAttribute{
				MarkdownDescription: "The distinct versions of `target_versions`, sorted: one element when the fleet runs one version.",
				Computed:            true,
				ElementType:         types.StringType,
			},
			"router": schema.SingleNestedAttribute{
				MarkdownDescription: "What the router reports (`GET {router_url}/v1/state`, which `codomyrmex-agent router` and " +
					"the simulated router serve); null without `router_url`.",
				Computed: true,
				Attributes: map[string]schema.Attribute{
					"deployments": schema.MapNestedAttribute{
						MarkdownDescription: "Deployment name → what the router last applied to it.",
						Computed:            true,
						NestedObject: schema.NestedAttributeObject{
							Attributes: map[string]schema.Attribute{
								"slot":       schema.StringAttribute{MarkdownDescription: "The slot of the last switch (blue/green).", Computed: true},
								"version":    schema.StringAttribute{MarkdownDescription: "The version of the last switch.", Computed: true},
								"weights":    schema.MapAttribute{MarkdownDescription: "The version of the last weights call (canary) → its share of the traffic, in percent.", Computed: true, ElementType: types.Float64Type},
								"updated_at": schema.StringAttribute{MarkdownDescription: "When the router applied it (RFC 3339).", Computed: true},
							},
						},
					},
				},
			},
		},
	}
}

func (d *fleetDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m fleetModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.data == nil {
		return
	}
	ctx = d.data.mask(ctx)
	client := d.data.client

	type answer struct {
		version string
		healthy bool
		err     error
	}
	answers := make([]answer, len(m.Targets))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64) // the provider's limit bounds the calls in flight; this, the goroutines waiting
	for i, t := range m.Targets {
		g.Go(func() error {
			if err := d.data.limit.Acquire(gctx); err != nil {
				answers[i].err = err
				return nil
			}
			defer d.data.limit.Release()
			h, err := client.Health(gctx, t.Address.ValueString(), m.HealthCheckPath.ValueString())
			var unhealthy *protocol.UnhealthyError
			switch {
			case err == nil:
				answers[i] = answer{version: h.Version, healthy: true}
			case errors.As(err, &unhealthy):
				answers[i] = answer{version: h.Version}
			default:
				answers[i] = answer{err: err}
			}
			return nil
		})
	}
	var router *fleetRouterModel
	var routerErr error
	var wg sync.WaitGroup
	if u := m.RouterURL.ValueString(); u != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st protocol.RouterState
			if st, _, routerErr = client.RouterState(ctx, u); routerErr == nil {
				router = routerModel(st)
			}
		}()
	}
	_ = g.Wait()
	wg.Wait()

	versions := map[string]string{}
	healthy := map[string]bool{}
	var silent []string
	for i, a := range answers {
		id := m.Targets[i].ID.ValueString()
		healthy[id] = a.healthy
		switch {
		case a.err != nil:
			silent = append(silent, fmt.Sprintf("%s: %v", id, a.err))
		case a.version != "":
			versions[id] = a.version
		}
	}
	if len(silent) > 0 {
		resp.Diagnostics.AddWarning("Targets did not answer",
			fmt.Sprintf("%d of %d targets did not answer their health call; they are not healthy and have no version:\n%s",
				len(silent), len(m.Targets), strings.Join(silent, "\n")))
	}
	if routerErr != nil {
		resp.Diagnostics.AddAttributeError(path.Root("router_url"), "Router did not answer",
			fmt.Sprintf("Asking the router what it last applied failed: %v", routerErr))
		return
	}
	distinct := make([]string, 0, len(versions))
	for _, v := range versions {
		if !slices.Contains(distinct, v) {
			distinct = append(distinct, v)
		}
	}
	slices.Sort(distinct)

	var diags diag.Diagnostics
	m.TargetVersions, diags = types.MapValueFrom(ctx, types.StringType, versions)
	resp.Diagnostics.Append(diags...)
	m.Healthy, diags = types.MapValueFrom(ctx, types.BoolType, healthy)
	resp.Diagnostics.Append(diags...)
	m.Versions, diags = types.ListValueFrom(ctx, types.StringType, distinct)
	resp.Diagnostics.Append(diags...)
	m.Router = router
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func routerModel(st protocol.RouterState) *fleetRouterModel {
	out := &fleetRouterModel{Deployments: make(map[string]fleetRouteModel, len(st.Deployments))}
	for name, r := range st.Deployments {
		weights := types.MapNull(types.Float64Type)
		if r.Weights != nil {
			elems := make(map[string]attr.Value, len(r.Weights))
			for v, p := range r.Weights {
				elems[v] = types.Float64Value(p)
			}
			weights = types.MapValueMust(types.Float64Type, elems)
		}
		out.Deployments[name] = fleetRouteModel{
			Slot: optionalString(r.Slot), Version: optionalString(r.Version), Weights: weights, UpdatedAt: optionalString(r.UpdatedAt),
		}
	}
	return out
}

// optionalString is s, or null when empty.
func optionalString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}
