package protocol

import (
	"math"
	"strings"
	"testing"
)

func TestValidateFlag(t *testing.T) {
	t.Parallel()
	good := Flag{Flag: "new.checkout_v2-x", State: "active", Stage: 1, Percentage: 25, Stages: []float64{5, 25, 50, 100}, UpdatedAt: "2026-11-23T09:00:00Z"}
	if err := ValidateFlag(good); err != nil {
		t.Fatalf("ValidateFlag(%+v) = %v", good, err)
	}
	// What the feature_flag strategy of codomyrmex_deployment publishes
	// on a rollback to 0 %, and a minimal document.
	for _, f := range []Flag{
		{Flag: "web", State: "active", Percentage: 0, Stages: []float64{0}},
		{Flag: strings.Repeat("a", 128), State: "pending"},
	} {
		if err := ValidateFlag(f); err != nil {
			t.Errorf("ValidateFlag(%+v) = %v", f, err)
		}
	}
	for name, tt := range map[string]struct {
		edit func(*Flag)
		want string
	}{
		"empty name":      {func(f *Flag) { f.Flag = "" }, "flag name"},
		"long name":       {func(f *Flag) { f.Flag = strings.Repeat("a", 129) }, "flag name"},
		"slash in name":   {func(f *Flag) { f.Flag = "a/b" }, "flag name"},
		"space in name":   {func(f *Flag) { f.Flag = "a b" }, "flag name"},
		"unknown state":   {func(f *Flag) { f.State = "on" }, "state must be one of"},
		"percentage high": {func(f *Flag) { f.Percentage = 100.01 }, "percentage must be in [0, 100]"},
		"percentage low":  {func(f *Flag) { f.Percentage = -0.01 }, "percentage must be in [0, 100]"},
		"percentage NaN":  {func(f *Flag) { f.Percentage = math.NaN() }, "percentage must be in [0, 100]"},
		"negative stage":  {func(f *Flag) { f.Stage = -1 }, "stage must not be negative"},
		"stage over 100":  {func(f *Flag) { f.Stages = []float64{5, 101} }, "stages[1] must be in [0, 100]"},
		"too many stages": {func(f *Flag) { f.Stages = make([]float64, 21) }, "at most 20"},
		"bad updated_at":  {func(f *Flag) { f.UpdatedAt = "2026-11-23" }, "updated_at must be an RFC 3339 time"},
	} {
		f := good
		f.Stages = append([]float64(nil), good.Stages...)
		tt.edit(&f)
		if err := ValidateFlag(f); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ValidateFlag = %v, want an error with %q", name, err, tt.want)
		}
	}
}
