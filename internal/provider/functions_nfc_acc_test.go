package provider

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/flags"
)

// A rollout published to the durable flag service (codomyrmex-agent flags)
// and in_rollout on the real CLI agree on a key an application sends
// decomposed ("Jose\u0301"): Terraform normalises every string to NFC, and
// so must the OFREP evaluation. The flag and percentage are chosen so that
// hashing the bytes as sent would give the other answer.
func TestAccFunctions_nfcKeyAgreesWithOFREP(t *testing.T) {
	const composed, decomposed = "Jos\u00e9", "Jose\u0301"
	raw := func(flag, key string) float64 {
		sum := sha256.Sum256([]byte(flag + ":" + key))
		return float64(binary.BigEndian.Uint64(sum[:8])%10000) / 100
	}
	flag, pct := "", 0.0
	for i := 0; flag == ""; i++ {
		f := fmt.Sprintf("nfc-%d", i)
		if a, b := raw(f, composed), raw(f, decomposed); a != b && max(a, b) > 0 {
			flag, pct = f, max(a, b)
		}
	}
	store, err := flags.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	srv := httptest.NewServer(flags.NewHandler(store, flags.HandlerConfig{}))
	t.Cleanup(srv.Close)

	ofrep := func(key string) (bool, error) {
		body, _ := json.Marshal(map[string]any{"context": map[string]any{"targetingKey": key}})
		resp, err := http.Post(srv.URL+"/ofrep/v1/evaluate/flags/"+flag, "application/json", strings.NewReader(string(body)))
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		var e struct {
			Value bool `json:"value"`
		}
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("OFREP answered %s", resp.Status)
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		return e.Value, err
	}
	accTest(t, []resource.TestStep{{
		Config: fmt.Sprintf(`
provider "codomyrmex" {
  flag_endpoint = %q
}

resource "codomyrmex_feature_rollout" "test" {
  flag_name = %q
  stages    = [%v, 100]
}

output "in_decomposed" {
  value = provider::codomyrmex::in_rollout(%q, "Jose\u0301", codomyrmex_feature_rollout.test.percentage)
}
output "in_composed" {
  value = provider::codomyrmex::in_rollout(%q, "Jos\u00e9", codomyrmex_feature_rollout.test.percentage)
}
`, srv.URL, flag, pct, flag, flag),
		Check: func(s *terraform.State) error {
			out := s.RootModule().Outputs
			cli, composedCLI := fmt.Sprint(out["in_decomposed"].Value), fmt.Sprint(out["in_composed"].Value)
			if cli != composedCLI {
				return fmt.Errorf("in_rollout gives %s for %+q and %s for %+q", cli, decomposed, composedCLI, composed)
			}
			got, err := ofrep(decomposed)
			if err != nil {
				return err
			}
			if fmt.Sprint(got) != cli {
				return fmt.Errorf("flag %s at %v %%: OFREP for %+q says %v, in_rollout on the CLI says %s", flag, pct, decomposed, got, cli)
			}
			return nil
		},
	}})
}
