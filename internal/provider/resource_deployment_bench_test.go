package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// targetObjectType is the element type of the targets list.
var targetObjectType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"id":       types.StringType,
	"address":  types.StringType,
	"name":     types.StringType,
	"slot":     types.StringType,
	"metadata": types.MapType{ElemType: types.StringType},
}}

// benchTargetList is n targets as the framework hands them to the
// resource: id and address set, the optional attributes null.
func benchTargetList(tb testing.TB, n int) types.List {
	tb.Helper()
	elems := make([]attr.Value, n)
	for i := range elems {
		id := fmt.Sprintf("t%d", i+1)
		elems[i] = types.ObjectValueMust(targetObjectType.AttrTypes, map[string]attr.Value{
			"id":       types.StringValue(id),
			"address":  types.StringValue("http://127.0.0.1:7070/t/" + id),
			"name":     types.StringNull(),
			"slot":     types.StringNull(),
			"metadata": types.MapNull(types.StringType),
		})
	}
	return types.ListValueMust(targetObjectType, elems)
}

// The provider converts the targets list and target_versions on every
// plan, apply and refresh: these should cost microseconds per target.
func BenchmarkTargetsFromList(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			l := benchTargetList(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, diags := targetsFromList(context.Background(), l); diags.HasError() {
					b.Fatal(diags)
				}
			}
		})
	}
}

func BenchmarkStringMap(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			versions := make(map[string]string, n)
			for i := range n {
				versions[fmt.Sprintf("t%d", i+1)] = "1.0.0"
			}
			m := stringMapValue(versions)
			b.ReportAllocs()
			for b.Loop() {
				if _, diags := stringMap(context.Background(), m); diags.HasError() {
					b.Fatal(diags)
				}
			}
		})
	}
}
