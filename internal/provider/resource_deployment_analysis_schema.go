package provider

// The schema of bake, analysis, analysis_results and health_check.min_healthy
// (docs/guides/prometheus-analysis.md).

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/analysis"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

var (
	defaultAnalysisInterval = seconds(strategies.DefaultAnalysisInterval)
	zeroSeconds             = seconds(0)
)

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
		"bake": durationAttribute("Wait after the last step (the last canary stage or rolling batch, the blue/green switch, the flag's publish), "+
			"measuring `analysis`; a failed analysis rolls back as a failed stage does. A Go duration. Defaults to `\"0s\"`.",
			zeroSeconds, true),
		"analysis": schema.SingleNestedAttribute{
			MarkdownDescription: "Metrics that decide whether the new version is good. They are measured in every window in which the new version " +
				"takes traffic: each canary stage's `stage_interval`, each rolling batch's `batch_delay`, and `bake`. In a window, the first " +
				"measurement is taken after `initial_delay`, then one every `interval`, and always one at the end (a window of 0s takes one). " +
				"More failed measurements of a metric in one window than its `failure_limit` fail the rollout and roll back.",
			Optional: true,
			Attributes: map[string]schema.Attribute{
				"interval":      durationAttribute("Time between two measurements in a window, a Go duration. Defaults to `\""+defaultAnalysisInterval+"\"`.", defaultAnalysisInterval, false),
				"initial_delay": durationAttribute("Wait after traffic moved before the first measurement of a window, a Go duration; a shorter window lasts this long. Defaults to `\"0s\"`.", zeroSeconds, true),
				"dry_run":       defaultBool("Measure and log (and fill `analysis_results`), but never fail the rollout. Defaults to `false`.", false),
				"metrics": schema.ListNestedAttribute{
					MarkdownDescription: "The metrics, 1 to 20, each with exactly one of `prometheus` or `web` and a threshold (`min`, `max` or `equals`; a `web` check without `json_path` needs none: any 2xx passes).",
					Required:            true,
					Validators:          []validator.List{listvalidator.SizeBetween(1, 20)},
					NestedObject: schema.NestedAttributeObject{
						Attributes: map[string]schema.Attribute{
							"name": requiredName("Name of the metric in messages and `analysis_results`, unique, 1–128 characters from `A-Z a-z 0-9 . _ -`."),
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
							"failure_limit": defaultInt64("Failed measurements of this metric tolerated in one window. Defaults to `0`.", 0, int64validator.AtLeast(0)),
							"no_data":       defaultString("What an empty result, a NaN or a missing `json_path` counts as: `\"fail\"` (default) or `\"pass\"`.", analysis.NoDataFail, stringvalidator.OneOf(analysis.NoDataFail, analysis.NoDataPass)),
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
	return durationAttribute("How long a target must keep answering healthy, from its first healthy poll, to count as healthy; a failed poll "+
		"within that time makes it unhealthy (a flapping target). `timeout` bounds the wait for the first healthy poll. A Go duration. Defaults to `\"0s\"`.",
		zeroSeconds, true)
}
