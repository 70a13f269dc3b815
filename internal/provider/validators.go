package provider

import (
	"context"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/analysis"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

// nameRegexp is the shape of deployment and flag names: [A-Za-z0-9._-]{1,128}.
var nameRegexp = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

func nameValidator() validator.String {
	return stringvalidator.RegexMatches(nameRegexp, "must be 1 to 128 characters from A-Z, a-z, 0-9, '.', '_' and '-'")
}

// addressValidator checks a target, router or flag service base URL.
type addressValidator struct{}

func (addressValidator) Description(context.Context) string {
	return "must be an absolute http:// or https:// URL with a host, optionally a path prefix, and no query or fragment"
}

func (v addressValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v addressValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := protocol.ParseAddress(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid address",
			fmt.Sprintf("%s %s: %s", req.Path, v.Description(ctx), err))
	}
}

// positiveDuration requires a Go duration string (time.ParseDuration)
// greater than zero, or of zero or more with allowZero. Durations stay
// plain strings in the schema, so state keeps them as written.
type positiveDuration struct{ allowZero bool }

func (v positiveDuration) Description(context.Context) string {
	if v.allowZero {
		return `must be a Go duration of zero or more, such as "0s", "90s" or "1h"`
	}
	return `must be a Go duration greater than zero, such as "500ms", "90s" or "1h"`
}

func (v positiveDuration) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v positiveDuration) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s %s; got %q.", req.Path, v.Description(ctx), req.ConfigValue.ValueString()))
		return
	}
	if d < 0 || (d == 0 && !v.allowZero) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s %s; got %q.", req.Path, v.Description(ctx), req.ConfigValue.ValueString()))
	}
}

// healthPathRegexp accepts an absolute path without query or fragment.
var healthPathRegexp = regexp.MustCompile(`^/[^?#]*$`)

// uniqueTargetIDs rejects two targets with the same id.
type uniqueTargetIDs struct{}

func (uniqueTargetIDs) Description(context.Context) string { return "target ids must be unique" }

func (v uniqueTargetIDs) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (uniqueTargetIDs) ValidateList(ctx context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	seen := make(map[string]int, len(req.ConfigValue.Elements()))
	for i, elem := range req.ConfigValue.Elements() {
		obj, ok := elem.(types.Object)
		if !ok || obj.IsNull() || obj.IsUnknown() {
			continue
		}
		id, ok := obj.Attributes()["id"].(types.String)
		if !ok || id.IsNull() || id.IsUnknown() {
			continue
		}
		if first, dup := seen[id.ValueString()]; dup {
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i).AtName("id"), "Duplicate target id",
				fmt.Sprintf("Target ids must be unique: %q is used by targets[%d] and targets[%d].", id.ValueString(), first, i))
			continue
		}
		seen[id.ValueString()] = i
	}
}

// stagesValidator checks a list of stage percentages: each in (0, 100],
// strictly ascending, and, for canary, ending at 100.
type stagesValidator struct{ lastMust100 bool }

func (v stagesValidator) Description(context.Context) string {
	if v.lastMust100 {
		return "stages must be strictly ascending percentages in (0, 100], the last one 100"
	}
	return "stages must be strictly ascending percentages in (0, 100]"
}

func (v stagesValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v stagesValidator) ValidateList(ctx context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	elems := req.ConfigValue.Elements()
	prev := 0.0
	for i, elem := range elems {
		f, ok := elem.(types.Float64)
		if !ok || f.IsUnknown() {
			return
		}
		if f.IsNull() {
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage", fmt.Sprintf("%s: stage %d is null; %s.", req.Path, i, v.Description(ctx)))
			return
		}
		p := f.ValueFloat64()
		switch {
		case p <= 0 || p > 100:
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage",
				fmt.Sprintf("%s: stage %d is %g; each stage must be a percentage in (0, 100].", req.Path, i, p))
			return
		case i > 0 && p <= prev:
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage",
				fmt.Sprintf("%s: stage %d is %g, not above stage %d (%g); stages must be strictly ascending.", req.Path, i, p, i-1, prev))
			return
		}
		prev = p
	}
	if v.lastMust100 && len(elems) > 0 && prev != 100 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid stages",
			fmt.Sprintf("%s: the last stage is %g; it must be 100 so the rollout reaches the whole fleet.", req.Path, prev))
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

// rolloutStagesValidator checks the known stages of a rollout: each in
// (0, 100] as its nearest float64, strictly ascending. Unknown elements are
// left to apply.
type rolloutStagesValidator struct{}

func (rolloutStagesValidator) Description(context.Context) string {
	return "stages must be strictly ascending percentages in (0, 100]"
}

func (v rolloutStagesValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v rolloutStagesValidator) ValidateList(ctx context.Context, req validator.ListRequest, resp *validator.ListResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	prev, prevIdx := 0.0, -1
	for i, elem := range req.ConfigValue.Elements() {
		n, ok := elem.(types.Number)
		if !ok || n.IsUnknown() {
			prevIdx = -1
			continue
		}
		if n.IsNull() {
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage", fmt.Sprintf("%s: stage %d is null; %s.", req.Path, i, v.Description(ctx)))
			return
		}
		p := nearestFloat64(n)
		switch {
		case !(p > 0 && p <= 100):
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage",
				fmt.Sprintf("%s: stage %d is %s; each stage must be a percentage in (0, 100].", req.Path, i, n.ValueBigFloat().Text('g', 10)))
			return
		case prevIdx >= 0 && p <= prev:
			resp.Diagnostics.AddAttributeError(req.Path.AtListIndex(i), "Invalid stage",
				fmt.Sprintf("%s: stage %d is %g, not above stage %d (%g); stages must be strictly ascending.", req.Path, i, p, prevIdx, prev))
			return
		}
		prev, prevIdx = p, i
	}
}

// stageIndexValidator requires max_stage to be a whole stage index.
type stageIndexValidator struct{}

func (stageIndexValidator) Description(context.Context) string {
	return fmt.Sprintf("must be a whole stage index from 0 to %d", rollout.MaxStages-1)
}

func (v stageIndexValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v stageIndexValidator) ValidateNumber(ctx context.Context, req validator.NumberRequest, resp *validator.NumberResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	n := req.ConfigValue.ValueBigFloat()
	if i, acc := n.Int64(); !n.IsInt() || acc != big.Exact || i < 0 || i > rollout.MaxStages-1 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid max_stage",
			fmt.Sprintf("%s %s, got %s.", req.Path, v.Description(ctx), n.Text('g', 10)))
	}
}
