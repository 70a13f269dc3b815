package provider

import (
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// FuzzPositiveDuration checks the duration validator against
// time.ParseDuration, and that every duration it accepts is the one the
// resource then uses (mustDuration), never the default.
func FuzzPositiveDuration(f *testing.F) {
	for _, s := range []string{"90s", "0s", "0", "-1s", "1h30m", "500ms", "1.5h", "soon", "", " 1s", "1e3s",
		"9223372036854775807ns", "9223372036854775808ns", "2562047h47m16.854775807s", "1µs", "1us", ".5s", "5.s", "+1s", "1h-1s"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, allowZero bool) {
		ctx := context.Background()
		var resp validator.StringResponse
		positiveDuration{allowZero: allowZero}.ValidateString(ctx, validator.StringRequest{
			Path:        path.Root("timeout"),
			ConfigValue: types.StringValue(s),
		}, &resp)
		d, err := time.ParseDuration(s)
		valid := err == nil && (d > 0 || (allowZero && d == 0))
		if resp.Diagnostics.HasError() == valid {
			t.Fatalf("positiveDuration{allowZero: %v} on %q: errors %v, want valid=%v", allowZero, s, resp.Diagnostics, valid)
		}
		if !valid {
			for _, e := range resp.Diagnostics.Errors() {
				if !strings.Contains(e.Detail(), "timeout") || !strings.Contains(e.Detail(), "Go duration") {
					t.Fatalf("error for %q does not name the attribute and the rule: %q", s, e.Detail())
				}
			}
			return
		}
		const def = "7s" // distinct from any seed, to notice a silent fallback
		if got := mustDuration(types.StringValue(s), def); got != d {
			t.Fatalf("mustDuration(%q) = %s, want %s", s, got, d)
		}
	})
}

// FuzzStagesValidator checks the stage list validator of canary.stages and
// codomyrmex_feature_rollout.stages against its rule: every stage in
// (0, 100], strictly ascending, and for canary the last one 100.
func FuzzStagesValidator(f *testing.F) {
	enc := func(stages ...float64) []byte {
		b := make([]byte, 8*len(stages))
		for i, s := range stages {
			binary.BigEndian.PutUint64(b[8*i:], math.Float64bits(s))
		}
		return b
	}
	f.Add(enc(10, 25, 50, 100), true)
	f.Add(enc(5, 25, 50), false)
	f.Add(enc(50, 25, 100), true)
	f.Add(enc(0, 100), true)
	f.Add(enc(math.Inf(1)), false)
	f.Add(enc(100.00000000000001), false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, data []byte, lastMust100 bool) {
		var stages []float64
		elems := []attr.Value{}
		for len(data) >= 8 && len(stages) < 30 {
			v := math.Float64frombits(binary.BigEndian.Uint64(data))
			data = data[8:]
			if math.IsNaN(v) {
				continue // Terraform numbers are never NaN
			}
			stages = append(stages, v)
			elems = append(elems, types.Float64Value(v))
		}
		valid := true
		for i, v := range stages {
			if !(v > 0 && v <= 100) || (i > 0 && !(v > stages[i-1])) {
				valid = false
			}
		}
		if lastMust100 && len(stages) > 0 && stages[len(stages)-1] != 100 {
			valid = false
		}
		var resp validator.ListResponse
		stagesValidator{lastMust100: lastMust100}.ValidateList(context.Background(), validator.ListRequest{
			Path:        path.Root("canary").AtName("stages"),
			ConfigValue: types.ListValueMust(types.Float64Type, elems),
		}, &resp)
		if resp.Diagnostics.HasError() == valid {
			t.Fatalf("stagesValidator{lastMust100: %v} on %v: errors %v, want valid=%v", lastMust100, stages, resp.Diagnostics, valid)
		}
	})
}

// FuzzAddressValidator checks that the attribute validator of addresses
// agrees with the protocol's ParseAddress, which the client uses at apply
// time: nothing accepted at plan time can fail to parse at apply time.
func FuzzAddressValidator(f *testing.F) {
	for _, s := range []string{"http://10.0.0.5:8080", "http://lb:7070/t/web-1", "https://h/p/", "ftp://h", "http://h?x=1",
		"http://h#f", "http://", "localhost:7070", "http://[::1]:80/x", "http://h/%zz", "HTTP://H", " http://h", "http://h/a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var resp validator.StringResponse
		addressValidator{}.ValidateString(context.Background(), validator.StringRequest{
			Path:        path.Root("targets").AtListIndex(0).AtName("address"),
			ConfigValue: types.StringValue(s),
		}, &resp)
		u, err := protocol.ParseAddress(s)
		if resp.Diagnostics.HasError() != (err != nil) {
			t.Fatalf("address %q: validator errors %v, ParseAddress error %v", s, resp.Diagnostics, err)
		}
		if err == nil && !strings.HasSuffix(protocol.Endpoint(u.String(), "/v1/deploy"), "/v1/deploy") {
			t.Fatalf("address %q: deploy endpoint %q", s, protocol.Endpoint(u.String(), "/v1/deploy"))
		}
	})
}
