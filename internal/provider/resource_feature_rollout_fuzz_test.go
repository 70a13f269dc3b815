package provider

import (
	"context"
	"encoding/binary"
	"math"
	"math/big"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
)

// FuzzRolloutStagesValidator checks the validator of
// codomyrmex_feature_rollout.stages against rollout.ValidateStages, which
// the state machine applies: a list accepted at plan is never refused at
// apply, and the other way round. Each number is the fuzzed float64 divided
// by a small integer in big precision, as 100/3 reaches the provider.
func FuzzRolloutStagesValidator(f *testing.F) {
	enc := func(stages ...float64) []byte {
		b := make([]byte, 9*len(stages))
		for i, s := range stages {
			binary.BigEndian.PutUint64(b[9*i:], math.Float64bits(s))
			b[9*i+8] = 1
		}
		return b
	}
	f.Add(enc(5, 25, 50, 100))
	f.Add(enc(50, 25, 100))
	f.Add(enc(0, 100))
	f.Add(enc(100.00000000000001))
	f.Add(append(enc(100), enc(100)...))
	f.Add([]byte{0x40, 0x59, 0, 0, 0, 0, 0, 0, 3, 0x40, 0x59, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var stages []float64
		elems := []attr.Value{}
		for len(data) >= 9 && len(stages) < rollout.MaxStages {
			v := math.Float64frombits(binary.BigEndian.Uint64(data))
			div := int64(data[8]%7) + 1
			data = data[9:]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue // Terraform numbers are finite
			}
			n := new(big.Float).SetPrec(512).Quo(new(big.Float).SetPrec(512).SetFloat64(v), new(big.Float).SetPrec(512).SetInt64(div))
			elems = append(elems, types.NumberValue(n))
			stages = append(stages, nearestFloat64(types.NumberValue(n)))
		}
		if len(stages) == 0 {
			return // listvalidator.SizeBetween refuses it
		}
		var resp validator.ListResponse
		rolloutStagesValidator{}.ValidateList(context.Background(), validator.ListRequest{
			Path:        path.Root("stages"),
			ConfigValue: types.ListValueMust(types.NumberType, elems),
		}, &resp)
		err := rollout.ValidateStages(stages)
		if resp.Diagnostics.HasError() != (err != nil) {
			t.Fatalf("validator on %v: errors %v; ValidateStages: %v", stages, resp.Diagnostics, err)
		}
	})
}
