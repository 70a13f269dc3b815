package provider

import (
	"context"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func float64ListValue(t *testing.T, values ...float64) attr.Value {
	t.Helper()
	v, diags := types.ListValueFrom(context.Background(), types.Float64Type, values)
	if diags.HasError() {
		t.Fatalf("building list: %v", diags)
	}
	return v
}

// linearStagesCase is a call of linear_stages and its stages, or the
// argument its error points at and a part of the error's text.
type linearStagesCase struct {
	name          string
	initial, step float64
	maxSteps      int64
	want          []float64
	wantArg       int64
	wantText      string
}

func runLinearStagesCases(t *testing.T, tests []linearStagesCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, funcErr := runProviderFunction(t, NewLinearStagesFunction(),
				numberValue(tt.initial), numberValue(tt.step), numberValue(float64(tt.maxSteps)))
			if tt.wantText == "" {
				if funcErr != nil {
					t.Fatalf("Run: %v", funcErr)
				}
				if want := float64ListValue(t, tt.want...); !got.Equal(want) {
					t.Errorf("linear_stages(%v, %v, %d) = %v, want %v", tt.initial, tt.step, tt.maxSteps, got, want)
				}
				return
			}
			if funcErr == nil {
				t.Fatalf("linear_stages(%v, %v, %d): no error", tt.initial, tt.step, tt.maxSteps)
			}
			if funcErr.FunctionArgument == nil || *funcErr.FunctionArgument != tt.wantArg {
				t.Errorf("error %q points at argument %v, want %d", funcErr.Text, funcErr.FunctionArgument, tt.wantArg)
			}
			if !strings.Contains(funcErr.Text, tt.wantText) {
				t.Errorf("error %q, want it to contain %q", funcErr.Text, tt.wantText)
			}
		})
	}
}

func TestLinearStagesFunction_run(t *testing.T) {
	t.Parallel()
	runLinearStagesCases(t, []linearStagesCase{
		{name: "contract example", initial: 10, step: 20, maxSteps: 5, want: []float64{10, 30, 50, 70, 90, 100}},
		{name: "capped at 100", initial: 10, step: 30, maxSteps: 10, want: []float64{10, 40, 70, 100}},
		{name: "reaches 100 exactly, no duplicate", initial: 25, step: 25, maxSteps: 8, want: []float64{25, 50, 75, 100}},
		{name: "max_steps first", initial: 1, step: 1, maxSteps: 3, want: []float64{1, 2, 3, 100}},
		{name: "initial 100", initial: 100, step: 5, maxSteps: 3, want: []float64{100}},
	})
}

func TestLinearStagesFunction_errors(t *testing.T) {
	t.Parallel()
	runLinearStagesCases(t, []linearStagesCase{
		{name: "initial 0", initial: 0, step: 10, maxSteps: 5, wantArg: 0, wantText: "initial must be in (0, 100], got 0"},
		{name: "initial above 100", initial: 101, step: 10, maxSteps: 5, wantArg: 0, wantText: "initial must be in (0, 100], got 101"},
		{name: "step 0", initial: 10, step: 0, maxSteps: 5, wantArg: 1, wantText: "step must be greater than 0, got 0"},
		{name: "step negative", initial: 10, step: -5, maxSteps: 5, wantArg: 1, wantText: "step must be greater than 0, got -5"},
		{name: "max_steps 0", initial: 10, step: 10, maxSteps: 0, wantArg: 2, wantText: "max_steps must be between 1 and 100, got 0"},
		{name: "max_steps too large", initial: 10, step: 10, maxSteps: 101, wantArg: 2, wantText: "got 101"},
		{name: "max_steps huge", initial: 10, step: 10, maxSteps: math.MaxInt64, wantArg: 2, wantText: "max_steps must be between 1 and 100"},
		{name: "max_steps very negative", initial: 10, step: 10, maxSteps: math.MinInt64, wantArg: 2, wantText: "max_steps must be between 1 and 100"},
	})
}

// numberValue is a function argument holding v.
func numberValue(v float64) types.Number { return types.NumberValue(big.NewFloat(v)) }

// thirdOf100 is 100/3 as Terraform computes it: a 512-bit float, not the
// float64 33.333333333333336.
func thirdOf100() types.Number {
	q := new(big.Float).SetPrec(512).Quo(new(big.Float).SetPrec(512).SetInt64(100), new(big.Float).SetPrec(512).SetInt64(3))
	return types.NumberValue(q)
}

// max_steps counts stages: a whole number however it is written (2.0),
// and a fraction is refused naming the argument, never a conversion error.
func TestLinearStagesFunction_maxStepsMustBeWhole(t *testing.T) {
	t.Parallel()
	got, funcErr := runProviderFunction(t, NewLinearStagesFunction(), numberValue(10), numberValue(10), numberValue(2.0))
	if funcErr != nil {
		t.Fatalf("linear_stages(10, 10, 2.0): %v", funcErr)
	}
	if want := float64ListValue(t, 10, 20, 100); !got.Equal(want) {
		t.Errorf("linear_stages(10, 10, 2.0) = %v, want %v", got, want)
	}
	for _, bad := range []types.Number{numberValue(2.5), thirdOf100()} {
		_, funcErr := runProviderFunction(t, NewLinearStagesFunction(), numberValue(10), numberValue(10), bad)
		if funcErr == nil || funcErr.FunctionArgument == nil || *funcErr.FunctionArgument != 2 ||
			!strings.Contains(funcErr.Text, "max_steps must be a whole number from 1 to 100, got ") {
			t.Errorf("linear_stages(10, 10, %v) error = %v, want one on max_steps saying it must be whole", bad, funcErr)
		}
	}
}

// initial and step may be any number; each stage is rounded to their
// decimals as written.
func TestLinearStagesFunction_numbersUsersWrite(t *testing.T) {
	t.Parallel()
	got, funcErr := runProviderFunction(t, NewLinearStagesFunction(), numberValue(0.1), numberValue(0.2), numberValue(5))
	if funcErr != nil {
		t.Fatal(funcErr)
	}
	if want := float64ListValue(t, 0.1, 0.3, 0.5, 0.7, 0.9, 100); !got.Equal(want) {
		t.Errorf("linear_stages(0.1, 0.2, 5) = %v, want %v", got, want)
	}
	got, funcErr = runProviderFunction(t, NewLinearStagesFunction(), thirdOf100(), thirdOf100(), numberValue(5))
	if funcErr != nil {
		t.Fatal(funcErr)
	}
	if want := float64ListValue(t, 100.0/3, 200.0/3, 100); !got.Equal(want) {
		t.Errorf("linear_stages(100/3, 100/3, 5) = %v, want %v", got, want)
	}
}
