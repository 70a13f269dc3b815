package provider

// Analysis and bake (docs/guides/prometheus-analysis.md): their schema, their translation into
// engine and analysis terms, their validation, and the plan's check of each
// Prometheus query.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/analysis"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

var (
	defaultAnalysisInterval = seconds(strategies.DefaultAnalysisInterval)
	zeroSeconds             = seconds(0)
)

type analysisModel struct {
	Interval     types.String `tfsdk:"interval"`
	InitialDelay types.String `tfsdk:"initial_delay"`
	DryRun       types.Bool   `tfsdk:"dry_run"`
	Metrics      types.List   `tfsdk:"metrics"`
}

type metricModel struct {
	Name         types.String  `tfsdk:"name"`
	Min          types.Float64 `tfsdk:"min"`
	Max          types.Float64 `tfsdk:"max"`
	Equals       types.String  `tfsdk:"equals"`
	FailureLimit types.Int64   `tfsdk:"failure_limit"`
	NoData       types.String  `tfsdk:"no_data"`
	Prometheus   types.Object  `tfsdk:"prometheus"`
	Web          types.Object  `tfsdk:"web"`
}

type prometheusModel struct {
	Address types.String `tfsdk:"address"`
	Query   types.String `tfsdk:"query"`
	Headers types.Map    `tfsdk:"headers"`
}

type webModel struct {
	URL      types.String `tfsdk:"url"`
	JSONPath types.String `tfsdk:"json_path"`
	Headers  types.Map    `tfsdk:"headers"`
}

var analysisResultAttrTypes = map[string]attr.Type{
	"name":   types.StringType,
	"value":  types.StringType,
	"passed": types.BoolType,
	"stage":  types.StringType,
	"at":     types.StringType,
}

var analysisResultType = types.ObjectType{AttrTypes: analysisResultAttrTypes}

const placeholderHelp = "Placeholders: `{{version}}`, `{{previous_version}}`, `{{deployment}}`, `{{percentage}}`, `{{stage}}`."

// analysisSchema holds the attributes of bake, analysis and
// analysis_results.
func analysisSchema() map[string]schema.Attribute {
	headers := func(where string) schema.MapAttribute {
		return schema.MapAttribute{
			MarkdownDescription: "HTTP headers sent to " + where + " only (for example its own authorization). Sensitive. The provider's `token` and `headers` are never sent there.",
			Optional:            true,
			Sensitive:           true,
			ElementType:         types.StringType,
		}
	}
	return map[string]schema.Attribute{
		"bake": schema.StringAttribute{
			MarkdownDescription: "Wait after the last step (the last canary stage or rolling batch, the blue/green switch, the flag's publish), " +
				"measuring `analysis`; a failed analysis rolls back as a failed stage does. A Go duration. Defaults to `\"0s\"`.",
			Optional:   true,
			Computed:   true,
			Default:    stringdefault.StaticString(zeroSeconds),
			Validators: []validator.String{positiveDuration{allowZero: true}},
		},
		"analysis": schema.SingleNestedAttribute{
			MarkdownDescription: "Metrics that decide whether the new version is good. They are measured in every window in which the new version " +
				"takes traffic: each canary stage's `stage_interval`, each rolling batch's `batch_delay`, and `bake`. In a window, the first " +
				"measurement is taken after `initial_delay`, then one every `interval`, and always one at the end (a window of 0s takes one). " +
				"More failed measurements of a metric in one window than its `failure_limit` fail the rollout and roll back.",
			Optional: true,
			Attributes: map[string]schema.Attribute{
				"interval": schema.StringAttribute{
					MarkdownDescription: "Time between two measurements in a window, a Go duration. Defaults to `\"" + defaultAnalysisInterval + "\"`.",
					Optional:            true,
					Computed:            true,
					Default:             stringdefault.StaticString(defaultAnalysisInterval),
					Validators:          []validator.String{positiveDuration{}},
				},
				"initial_delay": schema.StringAttribute{
					MarkdownDescription: "Wait after traffic moved before the first measurement of a window, a Go duration; a shorter window lasts this long. Defaults to `\"0s\"`.",
					Optional:            true,
					Computed:            true,
					Default:             stringdefault.StaticString(zeroSeconds),
					Validators:          []validator.String{positiveDuration{allowZero: true}},
				},
				"dry_run": schema.BoolAttribute{
					MarkdownDescription: "Measure and log (and fill `analysis_results`), but never fail the rollout. Defaults to `false`.",
					Optional:            true,
					Computed:            true,
					Default:             booldefault.StaticBool(false),
				},
				"metrics": schema.ListNestedAttribute{
					MarkdownDescription: "The metrics, 1 to 20, each with exactly one of `prometheus` or `web` and a threshold (`min`, `max` or `equals`; a `web` check without `json_path` needs none: any 2xx passes).",
					Required:            true,
					Validators:          []validator.List{listvalidator.SizeBetween(1, 20)},
					NestedObject: schema.NestedAttributeObject{
						Attributes: map[string]schema.Attribute{
							"name": schema.StringAttribute{
								MarkdownDescription: "Name of the metric in messages and `analysis_results`, unique, 1–128 characters from `A-Z a-z 0-9 . _ -`.",
								Required:            true,
								Validators:          []validator.String{nameValidator()},
							},
							"min": schema.Float64Attribute{
								MarkdownDescription: "Lowest value that passes (inclusive).",
								Optional:            true,
							},
							"max": schema.Float64Attribute{
								MarkdownDescription: "Highest value that passes (inclusive).",
								Optional:            true,
							},
							"equals": schema.StringAttribute{
								MarkdownDescription: "The value that passes: compared as text with a `web` value (`\"true\"`), as a number with a Prometheus result. Not with `min` or `max`.",
								Optional:            true,
							},
							"failure_limit": schema.Int64Attribute{
								MarkdownDescription: "Failed measurements of this metric tolerated in one window. Defaults to `0`.",
								Optional:            true,
								Computed:            true,
								Default:             int64default.StaticInt64(0),
								Validators:          []validator.Int64{int64validator.AtLeast(0)},
							},
							"no_data": schema.StringAttribute{
								MarkdownDescription: "What an empty result, a NaN or a missing `json_path` counts as: `\"fail\"` (default) or `\"pass\"`.",
								Optional:            true,
								Computed:            true,
								Default:             stringdefault.StaticString(analysis.NoDataFail),
								Validators:          []validator.String{stringvalidator.OneOf(analysis.NoDataFail, analysis.NoDataPass)},
							},
							"prometheus": schema.SingleNestedAttribute{
								MarkdownDescription: "An instant query to the Prometheus HTTP API v1 (`{address}/api/v1/query`). A scalar or a vector of exactly one sample is the value; more samples fail the measurement, naming the query. " +
									"A query Prometheus rejects fails the plan. Connection errors, 503 and timeouts are retried like target calls (the provider's `retries`), then count as a failed measurement.",
								Optional: true,
								Attributes: map[string]schema.Attribute{
									"address": schema.StringAttribute{
										MarkdownDescription: "Base URL of Prometheus, `http://` or `https://`.",
										Required:            true,
										Validators:          []validator.String{addressValidator{}},
									},
									"query": schema.StringAttribute{
										MarkdownDescription: "PromQL. " + placeholderHelp + " Values are escaped for a double-quoted PromQL string.",
										Required:            true,
										Validators:          []validator.String{stringvalidator.LengthAtLeast(1), placeholdersValidator{}},
									},
									"headers": headers("this Prometheus"),
								},
							},
							"web": schema.SingleNestedAttribute{
								MarkdownDescription: "A `GET` of `url`. Without `json_path` any 2xx answer passes; with it, the value at that path of the JSON answer is compared.",
								Optional:            true,
								Attributes: map[string]schema.Attribute{
									"url": schema.StringAttribute{
										MarkdownDescription: "Absolute `http://` or `https://` URL. " + placeholderHelp + " Values are URL-query escaped.",
										Required:            true,
										Validators:          []validator.String{webURLValidator{}, placeholdersValidator{}},
									},
									"json_path": schema.StringAttribute{
										MarkdownDescription: "Path of the value in the JSON answer, in [gjson syntax](https://github.com/tidwall/gjson/blob/master/SYNTAX.md): `ok`, `data.error_rate`, `checks.0.status`.",
										Optional:            true,
										Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
									},
									"headers": headers("this URL"),
								},
							},
						},
					},
				},
			},
		},
		"analysis_results": schema.ListNestedAttribute{
			MarkdownDescription: "The last measurement of each metric in the last apply: `name`, `value` (as text; empty when there was no data or the query failed), " +
				"`passed`, `stage` (the window: `stage 2 (25%)`, `batch 1/3`, `bake`) and `at` (RFC 3339). Null without `analysis`.",
			Computed: true,
			NestedObject: schema.NestedAttributeObject{
				Attributes: map[string]schema.Attribute{
					"name":   schema.StringAttribute{Computed: true, MarkdownDescription: "The metric."},
					"value":  schema.StringAttribute{Computed: true, MarkdownDescription: "The value measured, as text."},
					"passed": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether it passed its threshold."},
					"stage":  schema.StringAttribute{Computed: true, MarkdownDescription: "The window it was measured in."},
					"at":     schema.StringAttribute{Computed: true, MarkdownDescription: "When it was measured (RFC 3339)."},
				},
			},
		},
	}
}

func minHealthySchema() schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "How long a target must keep answering healthy, from its first healthy poll, to count as healthy; a failed poll " +
			"within that time makes it unhealthy (a flapping target). `timeout` bounds the wait for the first healthy poll. A Go duration. Defaults to `\"0s\"`.",
		Optional:   true,
		Computed:   true,
		Default:    stringdefault.StaticString(zeroSeconds),
		Validators: []validator.String{positiveDuration{allowZero: true}},
	}
}

// placeholdersValidator rejects a {{name}} that is not a placeholder.
type placeholdersValidator struct{}

func (placeholdersValidator) Description(context.Context) string {
	return "only the placeholders {{version}}, {{previous_version}}, {{deployment}}, {{percentage}} and {{stage}}"
}

func (v placeholdersValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (placeholdersValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := analysis.CheckPlaceholders(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Unknown placeholder", fmt.Sprintf("%s: %s.", req.Path, err))
	}
}

// webURLValidator wants an absolute http(s) URL; unlike a target address it
// may have a query.
type webURLValidator struct{}

func (webURLValidator) Description(context.Context) string {
	return "an absolute http:// or https:// URL"
}

func (v webURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (webURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	u, err := url.Parse(req.ConfigValue.ValueString())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid URL",
			fmt.Sprintf("%s must be an absolute http:// or https:// URL, got %q.", req.Path, req.ConfigValue.ValueString()))
	}
}

// validateAnalysis checks what the attribute validators cannot see alone:
// one source per metric, a threshold, unique names.
func validateAnalysis(ctx context.Context, obj types.Object, diags *diag.Diagnostics) {
	if obj.IsNull() || obj.IsUnknown() {
		return
	}
	var am analysisModel
	diags.Append(obj.As(ctx, &am, objectAsOptions)...)
	if diags.HasError() || am.Metrics.IsNull() || am.Metrics.IsUnknown() {
		return
	}
	var metrics []metricModel
	diags.Append(am.Metrics.ElementsAs(ctx, &metrics, false)...)
	if diags.HasError() {
		return
	}
	seen := map[string]int{}
	for i, m := range metrics {
		at := path.Root("analysis").AtName("metrics").AtListIndex(i)
		if m.Prometheus.IsUnknown() || m.Web.IsUnknown() {
			continue
		}
		if m.Prometheus.IsNull() == m.Web.IsNull() {
			diags.AddAttributeError(at, "One metric source",
				fmt.Sprintf("%s: set exactly one of prometheus or web.", at))
			continue
		}
		hasMinMax := !m.Min.IsNull() || !m.Max.IsNull()
		if hasMinMax && !m.Equals.IsNull() {
			diags.AddAttributeError(at.AtName("equals"), "Conflicting thresholds",
				fmt.Sprintf("%s: equals cannot be combined with min or max.", at))
		}
		if !m.Min.IsNull() && !m.Max.IsNull() && !m.Min.IsUnknown() && !m.Max.IsUnknown() && m.Min.ValueFloat64() > m.Max.ValueFloat64() {
			diags.AddAttributeError(at.AtName("min"), "Empty range",
				fmt.Sprintf("%s: min (%g) is above max (%g).", at, m.Min.ValueFloat64(), m.Max.ValueFloat64()))
		}
		webNoPath := false
		if !m.Web.IsNull() {
			var wm webModel
			diags.Append(m.Web.As(ctx, &wm, objectAsOptions)...)
			webNoPath = wm.JSONPath.IsNull()
			if webNoPath && (hasMinMax || !m.Equals.IsNull()) {
				diags.AddAttributeError(at.AtName("web").AtName("json_path"), "Missing json_path",
					fmt.Sprintf("%s: a threshold compares the value at web.json_path; set json_path, or drop min, max and equals to pass on any 2xx answer.", at))
			}
		}
		if !hasMinMax && m.Equals.IsNull() && !webNoPath {
			diags.AddAttributeError(at, "Missing threshold",
				fmt.Sprintf("%s: set min, max or equals (both min and max make a range).", at))
		}
		if !m.Prometheus.IsNull() && !m.Equals.IsNull() && !m.Equals.IsUnknown() {
			if _, err := parseFloat(m.Equals.ValueString()); err != nil {
				diags.AddAttributeError(at.AtName("equals"), "Not a number",
					fmt.Sprintf("%s: a Prometheus result is a number, so equals must be one, got %q.", at, m.Equals.ValueString()))
			}
		}
		if !m.Name.IsUnknown() {
			if j, dup := seen[m.Name.ValueString()]; dup {
				diags.AddAttributeError(at.AtName("name"), "Duplicate metric name",
					fmt.Sprintf("%s: %q is also the name of metrics[%d]; names must be unique.", at, m.Name.ValueString(), j))
			}
			seen[m.Name.ValueString()] = i
		}
	}
}

// analysisSpec is bake and analysis in engine and analysis terms.
type analysisSpec struct {
	bake     time.Duration
	analysis strategies.Analysis
	metrics  []analysis.Metric
}

// readAnalysis translates bake, analysis and health_check.min_healthy.
func readAnalysis(ctx context.Context, m *deploymentModel) (analysisSpec, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := analysisSpec{bake: mustDuration(m.Bake, zeroSeconds)}
	if m.Analysis.IsNull() || m.Analysis.IsUnknown() {
		return s, diags
	}
	var am analysisModel
	diags.Append(m.Analysis.As(ctx, &am, objectAsOptions)...)
	var metrics []metricModel
	if !am.Metrics.IsNull() && !am.Metrics.IsUnknown() {
		diags.Append(am.Metrics.ElementsAs(ctx, &metrics, false)...)
	}
	s.analysis = strategies.Analysis{
		Interval:     mustDuration(am.Interval, defaultAnalysisInterval),
		InitialDelay: mustDuration(am.InitialDelay, zeroSeconds),
		DryRun:       am.DryRun.ValueBool(),
	}
	for _, mm := range metrics {
		s.analysis.Metrics = append(s.analysis.Metrics, strategies.MetricLimit{Name: mm.Name.ValueString(), FailureLimit: int(mm.FailureLimit.ValueInt64())})
		met := analysis.Metric{
			Name:       mm.Name.ValueString(),
			Min:        float64Ptr(mm.Min),
			Max:        float64Ptr(mm.Max),
			NoDataPass: mm.NoData.ValueString() == analysis.NoDataPass,
		}
		if !mm.Equals.IsNull() && !mm.Equals.IsUnknown() {
			eq := mm.Equals.ValueString()
			met.Equals = &eq
		}
		if !mm.Prometheus.IsNull() && !mm.Prometheus.IsUnknown() {
			var pm prometheusModel
			diags.Append(mm.Prometheus.As(ctx, &pm, objectAsOptions)...)
			h, d := stringMap(ctx, pm.Headers)
			diags.Append(d...)
			met.Prometheus = &analysis.Prometheus{Address: pm.Address.ValueString(), Query: pm.Query.ValueString(), Headers: h}
		}
		if !mm.Web.IsNull() && !mm.Web.IsUnknown() {
			var wm webModel
			diags.Append(mm.Web.As(ctx, &wm, objectAsOptions)...)
			h, d := stringMap(ctx, wm.Headers)
			diags.Append(d...)
			met.Web = &analysis.Web{URL: wm.URL.ValueString(), JSONPath: wm.JSONPath.ValueString(), Headers: h}
		}
		s.metrics = append(s.metrics, met)
	}
	return s, diags
}

func parseFloat(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

func asQueryError(err error, qe **analysis.QueryError) bool {
	return errors.As(err, qe)
}

func float64Ptr(v types.Float64) *float64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	f := v.ValueFloat64()
	return &f
}

// secrets are the metric headers' values: masked in every log line.
func (s analysisSpec) secrets() []string {
	var out []string
	for _, m := range s.metrics {
		var h map[string]string
		switch {
		case m.Prometheus != nil:
			h = m.Prometheus.Headers
		case m.Web != nil:
			h = m.Web.Headers
		}
		for _, v := range h {
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func maskSecrets(ctx context.Context, secrets []string) context.Context {
	if len(secrets) == 0 {
		return ctx
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, secrets...)
	return tflog.MaskMessageStrings(ctx, secrets...)
}

// measurer builds the analysis measurer; nil without metrics.
func (r *deploymentResource) measurer(s analysisSpec) (*analysis.Measurer, error) {
	if len(s.metrics) == 0 {
		return nil, nil
	}
	var rt = r.data.metrics.RoundTripper()
	return analysis.New(s.metrics, rt)
}

// unknownQueries lists the metrics whose Prometheus address, query or
// headers are unknown at plan: their query is only known at apply.
func unknownQueries(ctx context.Context, obj types.Object) map[int]bool {
	if obj.IsNull() || obj.IsUnknown() {
		return nil
	}
	var am analysisModel
	if obj.As(ctx, &am, objectAsOptions).HasError() || am.Metrics.IsNull() || am.Metrics.IsUnknown() {
		return nil
	}
	var metrics []metricModel
	if am.Metrics.ElementsAs(ctx, &metrics, false).HasError() {
		return nil
	}
	unknown := map[int]bool{}
	for i, m := range metrics {
		if m.Prometheus.IsNull() || m.Prometheus.IsUnknown() {
			continue
		}
		var pm prometheusModel
		if m.Prometheus.As(ctx, &pm, objectAsOptions).HasError() || pm.Address.IsUnknown() || pm.Query.IsUnknown() || mapUnknown(pm.Headers) {
			unknown[i] = true
		}
	}
	return unknown
}

// mapUnknown reports whether m or one of its values is unknown.
func mapUnknown(m types.Map) bool {
	if m.IsUnknown() {
		return true
	}
	for _, v := range m.Elements() {
		if v.IsUnknown() {
			return true
		}
	}
	return false
}

// checkQueries runs each Prometheus query once at plan, placeholders filled
// as the first window would: a query Prometheus rejects is an error on its
// attribute; a Prometheus that cannot be asked is a warning (the apply
// counts its failures as failed measurements). Metrics in unknown, whose
// query is only known at apply, are not checked.
func (r *deploymentResource) checkQueries(ctx context.Context, spec *deploymentSpec, previous string, unknown map[int]bool, diags *diag.Diagnostics) {
	if r.data == nil || len(spec.analysis.metrics) == 0 {
		return
	}
	m, err := r.measurer(spec.analysis)
	if err != nil {
		diags.AddAttributeError(path.Root("analysis"), "Invalid analysis", err.Error())
		return
	}
	w := strategies.Window{Deployment: spec.name, Version: spec.version, PreviousVersion: previous, Percentage: 100, Stage: "1", Phase: "plan"}
	if spec.strategy == strategies.NameCanary && len(spec.config.Canary.Stages) > 0 {
		w.Percentage = spec.config.Canary.Stages[0]
	}
	ctx = protocol.WithoutRetries(ctx)
	for i, met := range spec.analysis.metrics {
		if met.Prometheus == nil || unknown[i] {
			continue
		}
		at := path.Root("analysis").AtName("metrics").AtListIndex(i).AtName("prometheus").AtName("query")
		err := m.CheckQuery(ctx, i, w)
		var qe *analysis.QueryError
		switch {
		case err == nil:
		case asQueryError(err, &qe):
			diags.AddAttributeError(at, "Invalid PromQL",
				fmt.Sprintf("%s (metric %q): %s. Fix the query; nothing was deployed.", at, met.Name, qe))
		default:
			diags.AddAttributeWarning(at, "Query not checked",
				fmt.Sprintf("%s (metric %q): Prometheus at %s could not check the query: %s. The apply will query it in every window; failed queries count as failed measurements.",
					at, met.Name, met.Prometheus.Address, err))
		}
	}
}

// resultsValue is analysis_results for the last measurements; null without
// analysis.
func resultsValue(spec *deploymentSpec, ms []strategies.Measurement) types.List {
	if len(spec.analysis.metrics) == 0 {
		return types.ListNull(analysisResultType)
	}
	elems := make([]attr.Value, 0, len(ms))
	for _, m := range ms {
		elems = append(elems, types.ObjectValueMust(analysisResultAttrTypes, map[string]attr.Value{
			"name":   types.StringValue(m.Metric),
			"value":  types.StringValue(m.Value),
			"passed": types.BoolValue(m.Passed),
			"stage":  types.StringValue(m.Phase),
			"at":     types.StringValue(m.At.UTC().Format(time.RFC3339)),
		}))
	}
	return types.ListValueMust(analysisResultType, elems)
}
