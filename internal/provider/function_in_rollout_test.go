package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

func TestInRolloutFunction_run(t *testing.T) {
	t.Parallel()
	// ("new-checkout", "user-1") is in bucket 26.48.
	tests := []struct {
		name       string
		percentage float64
		want       bool
	}{
		{name: "0 exposes nobody", percentage: 0, want: false},
		{name: "below the bucket", percentage: 25, want: false},
		{name: "equal to the bucket is out", percentage: 26.48, want: false},
		{name: "just above the bucket", percentage: 26.49, want: true},
		{name: "100 exposes everybody", percentage: 100, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, funcErr := runProviderFunction(t, NewInRolloutFunction(),
				types.StringValue("new-checkout"), types.StringValue("user-1"), numberValue(tt.percentage))
			if funcErr != nil {
				t.Fatalf("Run: %v", funcErr)
			}
			if !got.Equal(types.BoolValue(tt.want)) {
				t.Errorf("in_rollout(new-checkout, user-1, %v) = %v, want %v", tt.percentage, got, tt.want)
			}
		})
	}
}

// The function agrees with the bucket for many keys: apps that compute the
// bucket themselves make the same decision.
func TestInRolloutFunction_agreesWithBucket(t *testing.T) {
	t.Parallel()
	for i := range 200 {
		key := fmt.Sprintf("user-%d", i)
		got, funcErr := runProviderFunction(t, NewInRolloutFunction(),
			types.StringValue("search"), types.StringValue(key), numberValue(30))
		if funcErr != nil {
			t.Fatalf("Run: %v", funcErr)
		}
		if want := rollout.Bucket("search", key) < 30; !got.Equal(types.BoolValue(want)) {
			t.Fatalf("in_rollout(search, %s, 30) = %v, bucket %v", key, got, rollout.Bucket("search", key))
		}
	}
}

func TestInRolloutFunction_invalidPercentage(t *testing.T) {
	t.Parallel()
	for _, pct := range []float64{-0.01, 100.5, 150} {
		t.Run(fmt.Sprint(pct), func(t *testing.T) {
			t.Parallel()
			_, funcErr := runProviderFunction(t, NewInRolloutFunction(),
				types.StringValue("f"), types.StringValue("k"), numberValue(pct))
			if funcErr == nil {
				t.Fatalf("in_rollout(f, k, %v): no error", pct)
			}
			if funcErr.FunctionArgument == nil || *funcErr.FunctionArgument != 2 {
				t.Errorf("error %q does not point at argument 2 (percentage)", funcErr.Text)
			}
			if !strings.Contains(funcErr.Text, "percentage must be between 0 and 100") {
				t.Errorf("error %q does not say what is allowed", funcErr.Text)
			}
		})
	}
}

// A percentage that is not exact in binary (100/3 as Terraform holds it)
// is used as its nearest float64, never refused.
func TestInRolloutFunction_percentageNotExactInBinary(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"acme", "user-1", "user-2", "globex"} {
		got, funcErr := runProviderFunction(t, NewInRolloutFunction(), types.StringValue("new-checkout"), types.StringValue(key), thirdOf100())
		if funcErr != nil {
			t.Fatalf("in_rollout(new-checkout, %s, 100/3): %v", key, funcErr)
		}
		if want := rollout.InRollout("new-checkout", key, 100.0/3); !got.Equal(types.BoolValue(want)) {
			t.Errorf("in_rollout(new-checkout, %s, 100/3) = %v, want %v", key, got, want)
		}
	}
}
