package provider

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
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
