package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

// targetsByReflection is targetsFromList as it was before its direct read:
// the framework's reflection, which the direct read must match.
func targetsByReflection(l types.List) ([]strategies.Target, diag.Diagnostics) {
	var models []targetModel
	diags := l.ElementsAs(context.Background(), &models, false)
	if diags.HasError() {
		return nil, diags
	}
	out := make([]strategies.Target, len(models))
	for i, m := range models {
		out[i] = strategies.Target{ID: m.ID.ValueString(), Address: m.Address.ValueString(), Name: m.Name.ValueString(), Slot: m.Slot.ValueString()}
		if !m.Metadata.IsNull() && !m.Metadata.IsUnknown() {
			md := map[string]string{}
			diags.Append(m.Metadata.ElementsAs(context.Background(), &md, false)...)
			out[i].Metadata = md
		}
	}
	return out, diags
}

func target(id, address, name, slot attr.Value, metadata attr.Value) attr.Value {
	return types.ObjectValueMust(targetObjectType.AttrTypes, map[string]attr.Value{
		"id": id, "address": address, "name": name, "slot": slot, "metadata": metadata,
	})
}

func TestTargetsFromListMatchesReflection(t *testing.T) {
	t.Parallel()
	s := types.StringValue
	null, unknown := types.StringNull(), types.StringUnknown()
	noMetadata := types.MapNull(types.StringType)
	tests := map[string][]attr.Value{
		"empty":             {},
		"id and address":    {target(s("t1"), s("http://h/t/t1"), null, null, noMetadata)},
		"every attribute":   {target(s("t1"), s("http://h"), s("web 1"), s("blue"), types.MapValueMust(types.StringType, map[string]attr.Value{"zone": s("a"), "rack": s("7")}))},
		"empty metadata":    {target(s("t1"), s("http://h"), null, s("green"), types.MapValueMust(types.StringType, map[string]attr.Value{}))},
		"unknown address":   {target(s("t1"), unknown, null, null, noMetadata)},
		"unknown metadata":  {target(s("t1"), s("http://h"), null, null, types.MapUnknown(types.StringType))},
		"several, in order": {target(s("b"), s("http://b"), null, null, noMetadata), target(s("a"), s("http://a"), null, null, noMetadata)},
	}
	for name, elems := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := types.ListValueMust(targetObjectType, elems)
			got, diags := targetsFromList(context.Background(), l)
			if diags.HasError() {
				t.Fatalf("targetsFromList: %v", diags)
			}
			if want, _ := targetsByReflection(l); !reflect.DeepEqual(got, want) {
				t.Errorf("targetsFromList = %#v\nElementsAs gives %#v", got, want)
			}
		})
	}
}

// Shapes the direct read does not handle go through ElementsAs, and come
// back with its diagnostics.
func TestTargetsFromListFallsBackToTheFramework(t *testing.T) {
	t.Parallel()
	s := types.StringValue
	tests := map[string]types.List{
		"unknown element": types.ListValueMust(targetObjectType, []attr.Value{types.ObjectUnknown(targetObjectType.AttrTypes)}),
		"null element":    types.ListValueMust(targetObjectType, []attr.Value{types.ObjectNull(targetObjectType.AttrTypes)}),
		"unknown metadata value": types.ListValueMust(targetObjectType, []attr.Value{
			target(s("t1"), s("http://h"), types.StringNull(), types.StringNull(), types.MapValueMust(types.StringType, map[string]attr.Value{"k": types.StringUnknown()})),
		}),
		"unknown list": types.ListUnknown(targetObjectType),
	}
	for name, l := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, ok := knownTargets(l); ok {
				t.Fatal("knownTargets handled it; want the ElementsAs fallback")
			}
			got, diags := targetsFromList(context.Background(), l)
			want, wantDiags := targetsByReflection(l)
			if !wantDiags.HasError() || !diags.Equal(wantDiags) || !reflect.DeepEqual(got, want) {
				t.Errorf("targetsFromList = %#v, %v\nElementsAs gives %#v, %v (an error)", got, diags, want, wantDiags)
			}
		})
	}
}
