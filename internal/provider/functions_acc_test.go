package provider

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// bucketOf recomputes the bucketing documented for rollout_bucket
// independently of internal/rollout.
func bucketOf(flag, key string) float64 {
	sum := sha256.Sum256([]byte(flag + ":" + key))
	return float64(binary.BigEndian.Uint64(sum[:8])%10000) / 100
}

func TestAccFunctions_inOutputs(t *testing.T) {
	b := bucketOf("new-checkout", "user-1")
	accTest(t, []resource.TestStep{
		{
			Config: `
output "bucket" { value = provider::codomyrmex::rollout_bucket("new-checkout", "user-1") }
output "in_at_100" { value = provider::codomyrmex::in_rollout("new-checkout", "user-1", 100) }
output "in_at_0" { value = provider::codomyrmex::in_rollout("new-checkout", "user-1", 0) }
output "stages" { value = provider::codomyrmex::linear_stages(10, 20, 5) }
output "capped" { value = provider::codomyrmex::linear_stages(50, 30, 5) }
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("bucket", knownvalue.Float64Exact(b)),
				statecheck.ExpectKnownOutputValue("in_at_100", knownvalue.Bool(true)),
				statecheck.ExpectKnownOutputValue("in_at_0", knownvalue.Bool(false)),
				statecheck.ExpectKnownOutputValue("stages", knownvalue.ListExact([]knownvalue.Check{
					knownvalue.Float64Exact(10), knownvalue.Float64Exact(30), knownvalue.Float64Exact(50),
					knownvalue.Float64Exact(70), knownvalue.Float64Exact(90), knownvalue.Float64Exact(100),
				})),
				statecheck.ExpectKnownOutputValue("capped", knownvalue.ListExact([]knownvalue.Check{
					knownvalue.Float64Exact(50), knownvalue.Float64Exact(80), knownvalue.Float64Exact(100),
				})),
			},
		},
		{
			Config:      `output "bad" { value = provider::codomyrmex::linear_stages(0, 20, 5) }`,
			ExpectError: errorPattern(`initial`),
		},
		{
			// A function's output feeds a resource: canary stages from linear_stages.
			Config: `
resource "codomyrmex_feature_rollout" "test" {
  flag_name = "from-function"
  stages    = provider::codomyrmex::linear_stages(20, 40, 2)
}
output "stages" { value = codomyrmex_feature_rollout.test.stages }
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownOutputValue("stages", knownvalue.ListExact([]knownvalue.Check{
					knownvalue.Float64Exact(20), knownvalue.Float64Exact(60), knownvalue.Float64Exact(100),
				})),
			},
		},
	})
}
