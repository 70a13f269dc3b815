package provider

import (
	"os"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// testAccProviders runs the provider in process, so tests can share Go
// state (the simulated fleet, a fake clock) with it.
var testAccProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"codomyrmex": providerserver.NewProtocol6WithError(New("test")()),
}

// providersWithClock is testAccProviders with an injected clock.
func providersWithClock(c clock.Clock) map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"codomyrmex": providerserver.NewProtocol6WithError(newWithClock("test", c)()),
	}
}

// accTest runs steps as a parallel acceptance test of the provider.
func accTest(t *testing.T, steps []resource.TestStep) {
	t.Helper()
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProviders, Steps: steps})
}

// clockTest is accTest with the provider reading the time from c.
func clockTest(t *testing.T, c clock.Clock, steps []resource.TestStep) {
	t.Helper()
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: providersWithClock(c), Steps: steps})
}

func TestMain(m *testing.M) {
	SilenceUnreadFrameworkLogs() // as main does
	// A CLI config file that does not exist makes tofu print a warning that
	// breaks plugin-testing's version check; give it an empty one.
	if os.Getenv("TF_ACC") != "" {
		if p := os.Getenv("TF_CLI_CONFIG_FILE"); p == "" || !fileExists(p) {
			f, err := os.CreateTemp("", "codomyrmex-cli-*.tfrc")
			if err == nil {
				_ = f.Close()
				os.Setenv("TF_CLI_CONFIG_FILE", f.Name())
				defer os.Remove(f.Name())
			}
		}
	}
	code := m.Run()
	if builtProvider.dir != "" {
		_ = os.RemoveAll(builtProvider.dir)
	}
	os.Exit(code)
}
