package provider

// Analysis and bake (docs/guides/prometheus-analysis.md): their translation
// into engine and analysis terms, the masking of metric headers in logs, the
// plan's check of each Prometheus query, and analysis_results. Their schema is
// in resource_deployment_analysis_schema.go, their validators in
// validators.go.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/analysis"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
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
