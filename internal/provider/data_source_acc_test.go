package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// dataSourcesConfig reads the fleet's three targets and its router, the
// flag "checkout" at the provider's flag_endpoint and "gone" at its own.
func dataSourcesConfig(f *testFleet) string {
	return fmt.Sprintf(`provider "codomyrmex" {
  flag_endpoint = "%[1]s/flags"
  %[2]s
}

data "codomyrmex_fleet" "web" {
  targets    = %[3]s
  router_url = "%[1]s/router"
}

data "codomyrmex_flag" "checkout" {
  flag_name = "checkout"
}

data "codomyrmex_flag" "gone" {
  flag_name = "gone"
  endpoint  = "%[1]s/flags"
}
`, f.URL, cliProvider, f.targets(3, ""))
}

func TestAccDataSources_fleetAndFlag(t *testing.T) {
	f := newTestFleet(t, 3, "1.0.0")
	c, err := protocol.NewClient(protocol.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.SetWeights(ctx, f.URL+"/router", protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 25}); err != nil {
		t.Fatal(err)
	}
	flag := protocol.Flag{Flag: "checkout", State: "active", Stage: 1, Percentage: 25, Stages: []float64{5, 25, 100}, UpdatedAt: "2026-11-23T09:00:00Z"}
	if err := c.PublishFlag(ctx, f.URL+"/flags", flag); err != nil {
		t.Fatal(err)
	}
	fleet, checkout, gone := "data.codomyrmex_fleet.web", "data.codomyrmex_flag.checkout", "data.codomyrmex_flag.gone"
	healthy := knownvalue.MapExact(map[string]knownvalue.Check{"t1": knownvalue.Bool(true), "t2": knownvalue.Bool(true), "t3": knownvalue.Bool(true)})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: dataSourcesConfig(f),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fleet, tfjsonpath.New("versions"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("1.0.0")})),
					statecheck.ExpectKnownValue(fleet, tfjsonpath.New("target_versions").AtMapKey("t3"), knownvalue.StringExact("1.0.0")),
					statecheck.ExpectKnownValue(fleet, tfjsonpath.New("healthy"), healthy),
					statecheck.ExpectKnownValue(fleet, tfjsonpath.New("router").AtMapKey("deployments").AtMapKey("web").AtMapKey("weights"),
						knownvalue.MapExact(map[string]knownvalue.Check{"2.0.0": knownvalue.Float64Exact(25)})),
					statecheck.ExpectKnownValue(fleet, tfjsonpath.New("router").AtMapKey("deployments").AtMapKey("web").AtMapKey("slot"), knownvalue.Null()),
					statecheck.ExpectKnownValue(checkout, tfjsonpath.New("state"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue(checkout, tfjsonpath.New("stage"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(checkout, tfjsonpath.New("percentage"), knownvalue.Float64Exact(25)),
					statecheck.ExpectKnownValue(checkout, tfjsonpath.New("stages"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.Float64Exact(5), knownvalue.Float64Exact(25), knownvalue.Float64Exact(100)})),
					statecheck.ExpectKnownValue(checkout, tfjsonpath.New("updated_at"), knownvalue.StringExact("2026-11-23T09:00:00Z")),
					statecheck.ExpectKnownValue(checkout, tfjsonpath.New("endpoint"), knownvalue.StringExact(f.URL+"/flags")),
					// A flag the service does not hold: nulls, not an error.
					statecheck.ExpectKnownValue(gone, tfjsonpath.New("state"), knownvalue.Null()),
					statecheck.ExpectKnownValue(gone, tfjsonpath.New("stage"), knownvalue.Null()),
					statecheck.ExpectKnownValue(gone, tfjsonpath.New("percentage"), knownvalue.Null()),
					statecheck.ExpectKnownValue(gone, tfjsonpath.New("stages"), knownvalue.Null()),
					statecheck.ExpectKnownValue(gone, tfjsonpath.New("updated_at"), knownvalue.Null()),
				},
			},
			// t2 drifts and t3 turns unhealthy: each version once, sorted.
			{
				PreConfig: func() {
					f.SetVersion("t2", "0.9.0")
					f.SetVersion("t3", "2.0.0")
					f.SetFault("t3", simulator.Fault{Unhealthy: true})
				},
				Config: dataSourcesConfig(f),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(fleet, tfjsonpath.New("versions"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("0.9.0"), knownvalue.StringExact("1.0.0"), knownvalue.StringExact("2.0.0")})),
					statecheck.ExpectKnownValue(fleet, tfjsonpath.New("healthy").AtMapKey("t3"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(fleet, tfjsonpath.New("target_versions").AtMapKey("t3"), knownvalue.StringExact("2.0.0")),
				},
			},
		},
	})
}

// A check block on codomyrmex_fleet warns, on the real CLI, when the fleet
// runs more than one version, and the apply still succeeds; a router that
// does not answer is a warning of the check too.
func TestAccDataSources_checkBlockWarnsOnMixedVersions(t *testing.T) {
	w := newCLIWorkdir(t)
	f := newTestFleet(t, 3, "1.0.0")
	// The deployment manages t1 and t2; t3, outside it, stays on 1.0.0.
	w.writeConfig(hcl{provider: cliProvider, name: "web", body: rollingArgs(f, 2, 2, `"2.0.0"`)}.String() + fmt.Sprintf(`
check "one_version" {
  data "codomyrmex_fleet" "all" {
    targets    = %s
    router_url = "%s/router"
  }

  assert {
    condition     = length(data.codomyrmex_fleet.all.versions) == 1
    error_message = "The fleet runs ${join(", ", data.codomyrmex_fleet.all.versions)}."
  }
}
`, f.targets(3, ""), f.URL))
	out := w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	words := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"Warning: Check block assertion failed", "The fleet runs 1.0.0, 2.0.0."} {
		if !strings.Contains(words, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	if err := f.expectVersions(map[string]string{"t1": "2.0.0", "t2": "2.0.0", "t3": "1.0.0"}); err != nil {
		t.Error(err)
	}

	f.SetRouterDown(true)
	out = w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if words := strings.Join(strings.Fields(out), " "); !strings.Contains(words, "Router did not answer") || !strings.Contains(words, "/router/v1/state") {
		t.Errorf("with the router down, the check's warning does not name the call:\n%s", out)
	}
}

// Bad input: an address that is not a base URL is a plan-time error naming
// the attribute; a flag with no endpoint anywhere says where to set one.
func TestAccDataSources_badInput(t *testing.T) {
	t.Setenv(EnvFlagEndpoint, "") // not parallel: no flag endpoint anywhere
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: `data "codomyrmex_fleet" "web" {
  targets    = [{ id = "t1", address = "http://127.0.0.1:1/t/t1" }]
  router_url = "ftp://router?x=1"
}`,
				PlanOnly:    true,
				ExpectError: errorPattern(`router_url .*must be an absolute http:// or https:// URL`),
			},
			{
				Config: `data "codomyrmex_fleet" "web" {
  targets = [{ id = "t1", address = "http://127.0.0.1:1/t/t1" }, { id = "t1", address = "http://127.0.0.1:1/t/t2" }]
}`,
				PlanOnly:    true,
				ExpectError: errorPattern(`Duplicate target id .*"t1" is used by targets\[0\] and targets\[1\]`),
			},
			{
				Config:      `data "codomyrmex_flag" "checkout" { flag_name = "checkout" }`,
				ExpectError: errorPattern(`No flag endpoint .*Set endpoint, the provider's flag_endpoint or CODOMYRMEX_FLAG_ENDPOINT`),
			},
			{
				Config:      `data "codomyrmex_flag" "checkout" { flag_name = "check out" }`,
				PlanOnly:    true,
				ExpectError: errorPattern(`flag_name .*must be 1 to 128 characters`),
			},
		},
	})
}
