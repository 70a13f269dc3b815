package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// The attribute shapes the resources' schemas repeat: computed values the
// provider sets, and optional values that take a default when not set.

// computedString is a string only the provider sets.
func computedString(description string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: description, Computed: true}
}

// computedInt64 is a whole number only the provider sets.
func computedInt64(description string) schema.Int64Attribute {
	return schema.Int64Attribute{MarkdownDescription: description, Computed: true}
}

// computedFloat64 is a number only the provider sets.
func computedFloat64(description string) schema.Float64Attribute {
	return schema.Float64Attribute{MarkdownDescription: description, Computed: true}
}

// defaultBool is an optional boolean that is def when not set.
func defaultBool(description string, def bool) schema.BoolAttribute {
	return schema.BoolAttribute{MarkdownDescription: description, Optional: true, Computed: true, Default: booldefault.StaticBool(def)}
}

// defaultInt64 is an optional whole number that is def when not set.
func defaultInt64(description string, def int64, validators ...validator.Int64) schema.Int64Attribute {
	return schema.Int64Attribute{
		MarkdownDescription: description, Optional: true, Computed: true,
		Default: int64default.StaticInt64(def), Validators: validators,
	}
}

// defaultFloat64 is an optional number that is def when not set.
func defaultFloat64(description string, def float64, validators ...validator.Float64) schema.Float64Attribute {
	return schema.Float64Attribute{
		MarkdownDescription: description, Optional: true, Computed: true,
		Default: float64default.StaticFloat64(def), Validators: validators,
	}
}

// defaultString is an optional string that is def when not set.
func defaultString(description, def string, validators ...validator.String) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: description, Optional: true, Computed: true,
		Default: stringdefault.StaticString(def), Validators: validators,
	}
}

// durationAttribute is an optional Go duration with a default: greater
// than zero, or zero or more with allowZero (positiveDuration).
func durationAttribute(description, def string, allowZero bool) schema.StringAttribute {
	return defaultString(description, def, positiveDuration{allowZero: allowZero})
}

// optionalAddress is an optional base URL (addressValidator).
func optionalAddress(description string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: description, Optional: true, Validators: []validator.String{addressValidator{}}}
}

// strategyBlock is the optional block of a deployment strategy.
func strategyBlock(description string, attributes map[string]schema.Attribute) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{MarkdownDescription: description, Optional: true, Attributes: attributes}
}

// idAttribute is a resource's id: set by the provider, and kept from state
// once known.
func idAttribute(description string) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: description, Computed: true,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

// requiredName is a required name (nameValidator), with planModifiers.
func requiredName(description string, planModifiers ...planmodifier.String) schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: description, Required: true,
		Validators: []validator.String{nameValidator()}, PlanModifiers: planModifiers,
	}
}
