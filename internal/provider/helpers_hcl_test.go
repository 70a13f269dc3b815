package provider

import (
	"fmt"
	"strings"
)

// The provider settings the tests use most.
const (
	// cliProvider: the CLI tests' short timeout and no retry.
	cliProvider = `request_timeout = "2s"
  retries         = 0`
	// faultProvider: the fault matrix's bound, 1s per HTTP call and one
	// retry.
	faultProvider = `request_timeout = "1s"
  retries         = 1`
	// quickHealth and faultHealth are the health_check of a deployment
	// whose body sets none: the second waits 1s at most.
	quickHealth = `{ interval = "10ms", timeout = "2s" }`
	faultHealth = `{ interval = "10ms", timeout = "1s" }`
)

// hcl is the one builder of the tests' configurations: string variables,
// the provider block and one resource, a codomyrmex_deployment named
// "web" or a codomyrmex_feature_rollout of flag "checkout" with a
// stage_delay of 1h.
type hcl struct {
	vars     []string   // names of the string variables declared first
	fleet    *testFleet // when set, the provider's flag_endpoint is the fleet's
	provider string     // more arguments of the provider block
	rollout  bool       // a feature rollout instead of a deployment
	name     string     // the resource's name in the configuration: "test" unless set
	health   string     // a deployment's health_check unless body sets one: quickHealth unless set
	version  string     // with targets, a deployment's version
	targets  string     // a deployment's targets (an HCL expression), written with version before body when set
	body     string     // the resource's arguments
	after    string     // more arguments, after a deployment's health_check
}

func (c hcl) String() string {
	var b strings.Builder
	for _, v := range c.vars {
		fmt.Fprintf(&b, "variable %q {\n  type = string\n}\n\n", v)
	}
	b.WriteString("provider \"codomyrmex\" {\n")
	if c.fleet != nil {
		fmt.Fprintf(&b, "  flag_endpoint = \"%s/flags\"\n", c.fleet.URL)
	}
	if c.provider != "" {
		fmt.Fprintf(&b, "  %s\n", c.provider)
	}
	b.WriteString("}\n\n")
	name := c.name
	if name == "" {
		name = "test"
	}
	body := c.body
	if c.rollout {
		fmt.Fprintf(&b, "resource \"codomyrmex_feature_rollout\" %q {\n  flag_name   = \"checkout\"\n  stage_delay = \"1h\"\n", name)
	} else {
		fmt.Fprintf(&b, "resource \"codomyrmex_deployment\" %q {\n  name = \"web\"\n", name)
		if c.targets != "" {
			fmt.Fprintf(&b, "  version = %q\n  targets = %s\n", c.version, c.targets)
		}
		if !strings.Contains(body, "health_check") {
			health := c.health
			if health == "" {
				health = quickHealth
			}
			body += "\n  health_check = " + health
		}
	}
	b.WriteString(body)
	if c.after != "" {
		b.WriteString("\n  " + c.after)
	}
	b.WriteString("\n}\n")
	return b.String()
}

// rollingArgs are the arguments of a rolling deployment of version (an
// HCL expression) over the fleet's first n targets, batch at a time, with
// no delay between batches.
func rollingArgs(f *testFleet, n, batch int, version string) string {
	return fmt.Sprintf(`
  version = %s
  targets = %s
  rolling = { batch_size = %d, batch_delay = "0s" }`, version, f.targets(n, ""), batch)
}

// canaryArgs are the arguments of a canary deployment of version over the
// fleet's first 4 targets; canary is the canary object.
func canaryArgs(f *testFleet, version, canary string) string {
	return fmt.Sprintf(`
  version = %q
  targets = %s
  canary  = %s`, version, f.targets(4, ""), canary)
}

// threeStageCanary is a canary object of stages [25, 50, 100], interval
// apart, on f's router, with gates (an HCL list).
func threeStageCanary(f *testFleet, interval, gates string) string {
	return fmt.Sprintf(`{
    stages         = [25, 50, 100]
    stage_interval = %q
    router_url     = "%s/router"
    gates          = %s
  }`, interval, f.URL, gates)
}

// endpointProvider is a provider block's flag_endpoint and no retry.
func endpointProvider(endpoint string) string {
	return fmt.Sprintf("flag_endpoint = %q\n  retries       = 0", endpoint)
}

// gatedCanaryArgs are a canary of version over 20 targets, stages
// [5, 25, 50, 100], a manual gate at 25 and a time gate of 24h at 50.
func gatedCanaryArgs(f *testFleet, version string) string {
	return fmt.Sprintf(`
  version = %q
  targets = %s
  canary  = %s`, version, f.targets(20, ""), gatedCanary(f, 5))
}

// gatedCanary is a canary object of stages [first, 25, 50, 100] on f's
// router, with a manual gate at 25 and a time gate of 24h at 50.
func gatedCanary(f *testFleet, first int) string {
	return fmt.Sprintf(`{
    stages         = [%d, 25, 50, 100]
    stage_interval = "0s"
    router_url     = "%s/router"
    gates          = [{ at = 25 }, { at = 50, wait = "24h" }]
  }`, first, f.URL)
}

// readdressedArgs are four blue/green targets (t1, t2 blue; t3, t4 green)
// where target moves to the address of path.
func readdressedArgs(f *testFleet, target, path string) string {
	addr := map[string]string{"t1": "t1", "t2": "t2", "t3": "t3", "t4": "t4"}
	addr[target] = path
	return fmt.Sprintf(`
  version    = "2.0.0"
  targets    = [
    { id = "t1", address = "%[1]s/t/%[2]s", slot = "blue" },
    { id = "t2", address = "%[1]s/t/%[3]s", slot = "blue" },
    { id = "t3", address = "%[1]s/t/%[4]s", slot = "green" },
    { id = "t4", address = "%[1]s/t/%[5]s", slot = "green" },
  ]
  blue_green = { router_url = "%[1]s/router" }`, f.URL, addr["t1"], addr["t2"], addr["t3"], addr["t4"])
}

// hclString quotes s as an HCL heredoc-free string literal.
func hclString(s string) string {
	return fmt.Sprintf("%q", s)
}

// faultHCL renders c as a deployment of the fault matrix: with the
// provider's faultProvider bound and the faultHealth health check.
func faultHCL(c hcl) string {
	c.provider, c.health = faultProvider, faultHealth
	return c.String()
}
