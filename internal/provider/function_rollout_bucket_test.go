package provider

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// runProviderFunction calls f.Run the way the framework does: arguments as
// ArgumentsData and a result pre-set to an unknown value of the return type.
func runProviderFunction(t *testing.T, f function.Function, args ...attr.Value) (attr.Value, *function.FuncError) {
	t.Helper()
	ctx := context.Background()
	var def function.DefinitionResponse
	f.Definition(ctx, function.DefinitionRequest{}, &def)
	resultType := def.Definition.Return.GetType()
	unknown, err := resultType.ValueFromTerraform(ctx, tftypes.NewValue(resultType.TerraformType(ctx), tftypes.UnknownValue))
	if err != nil {
		t.Fatalf("building the unknown result: %v", err)
	}
	resp := function.RunResponse{Result: function.NewResultData(unknown)}
	f.Run(ctx, function.RunRequest{Arguments: function.NewArgumentsData(args)}, &resp)
	return resp.Result.Value(), resp.Error
}

// checkFunctionDefinition asserts that f is named name, passes the
// framework's own definition checks and documents itself and every
// parameter.
func checkFunctionDefinition(t *testing.T, f function.Function, name string, params ...string) {
	t.Helper()
	ctx := context.Background()
	var meta function.MetadataResponse
	f.Metadata(ctx, function.MetadataRequest{}, &meta)
	if meta.Name != name {
		t.Errorf("function name %q, want %q", meta.Name, name)
	}
	var resp function.DefinitionResponse
	f.Definition(ctx, function.DefinitionRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Definition: %v", resp.Diagnostics)
	}
	def := resp.Definition
	var validate function.DefinitionValidateResponse
	def.ValidateImplementation(ctx, function.DefinitionValidateRequest{FuncName: name}, &validate)
	if validate.Diagnostics.HasError() {
		t.Errorf("definition of %s is invalid: %v", name, validate.Diagnostics)
	}
	if def.Summary == "" || def.Description == "" || def.MarkdownDescription == "" {
		t.Errorf("%s: Summary, Description and MarkdownDescription must all be set", name)
	}
	if len(def.Parameters) != len(params) {
		t.Fatalf("%s has %d parameters, want %v", name, len(def.Parameters), params)
	}
	for i, p := range def.Parameters {
		if p.GetName() != params[i] {
			t.Errorf("%s parameter %d is %q, want %q", name, i, p.GetName(), params[i])
		}
		if p.GetDescription() == "" || p.GetMarkdownDescription() == "" {
			t.Errorf("%s parameter %q lacks a description", name, p.GetName())
		}
		if p.GetAllowNullValue() || p.GetAllowUnknownValues() {
			t.Errorf("%s parameter %q accepts null or unknown values", name, p.GetName())
		}
	}
}

// TestFunctions_definition checks each provider function's name,
// parameters and documentation.
func TestFunctions_definition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f      function.Function
		name   string
		params []string
	}{
		{NewRolloutBucketFunction(), "rollout_bucket", []string{"flag_name", "key"}},
		{NewInRolloutFunction(), "in_rollout", []string{"flag_name", "key", "percentage"}},
		{NewLinearStagesFunction(), "linear_stages", []string{"initial", "step", "max_steps"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkFunctionDefinition(t, tc.f, tc.name, tc.params...)
		})
	}
}

func TestRolloutBucketFunction_run(t *testing.T) {
	t.Parallel()
	independent := func(flag, key string) float64 {
		sum := sha256.Sum256([]byte(flag + ":" + key))
		return float64(binary.BigEndian.Uint64(sum[:8])%10000) / 100
	}
	tests := []struct {
		flag, key string
		want      float64
	}{
		// printf 'new-checkout:user-1' | sha256sum → c3da359359dfed38…; mod 10000 = 2648.
		{"new-checkout", "user-1", 26.48},
		{"new-checkout", "user-2", 13.59},
		{"dark-mode", "alice", 80.86},
		{"", "", 43.68},
		{"checkout", "ünïcødé", independent("checkout", "ünïcødé")},
	}
	for _, tt := range tests {
		t.Run(tt.flag+":"+tt.key, func(t *testing.T) {
			t.Parallel()
			got, funcErr := runProviderFunction(t, NewRolloutBucketFunction(), types.StringValue(tt.flag), types.StringValue(tt.key))
			if funcErr != nil {
				t.Fatalf("Run: %v", funcErr)
			}
			if want := types.Float64Value(tt.want); !got.Equal(want) {
				t.Errorf("rollout_bucket(%q, %q) = %v, want %v", tt.flag, tt.key, got, want)
			}
			if want := independent(tt.flag, tt.key); !got.Equal(types.Float64Value(want)) {
				t.Errorf("rollout_bucket(%q, %q) = %v, independent SHA-256 gives %v", tt.flag, tt.key, got, want)
			}
		})
	}
}

func TestRolloutBucketFunction_wrongArguments(t *testing.T) {
	t.Parallel()
	// The framework rejects these before Run in Terraform; Run must still
	// fail cleanly rather than panic.
	_, funcErr := runProviderFunction(t, NewRolloutBucketFunction(), types.StringValue("flag"))
	if funcErr == nil {
		t.Fatal("Run with one argument: no error")
	}
}
