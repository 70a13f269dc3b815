package provider

// Acceptance tests of analysis, bake and health_check.min_healthy beyond
// the happy paths: what the plan rejects, where metric headers and the
// token go, flapping targets, and SIGINT during a bake.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// requestLog records the requests a test server or proxy received.
type requestLog struct{ record[*http.Request] }

func (l *requestLog) add(r *http.Request) { l.record.add(r.Clone(context.Background())) }

func (l *requestLog) count() int { return l.mark() }

// headerValues lists the distinct values of header name, in order.
func (l *requestLog) headerValues(name string) []string {
	var out []string
	for _, r := range l.since(0) {
		for _, v := range r.Header.Values(name) {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// withoutHeader counts the requests that did not carry header name.
func (l *requestLog) withoutHeader(name string) int {
	n := 0
	for _, r := range l.since(0) {
		if r.Header.Get(name) == "" {
			n++
		}
	}
	return n
}

// sawQuery reports whether some request's query had every key=value of want.
func (l *requestLog) sawQuery(want url.Values) bool {
	for _, r := range l.since(0) {
		q, ok := r.URL.Query(), true
		for k := range want {
			ok = ok && q.Get(k) == want.Get(k)
		}
		if ok {
			return true
		}
	}
	return false
}

// recordingProxy is a reverse proxy on 127.0.0.1 to upstream that records
// every request (Prometheus cannot tell which headers it received).
func recordingProxy(t *testing.T, upstream string) (string, *requestLog) {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	log := &requestLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, log
}

// recordingWebCheck is a web metric's endpoint answering {"ok": true}, recording
// every request.
func recordingWebCheck(t *testing.T) (string, *requestLog) {
	t.Helper()
	log := &requestLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, log
}

// TestAccAnalysis_badPromQLFailsAtPlan: a query Prometheus rejects fails
// the plan, on create and on update, naming the attribute and quoting
// Prometheus; the fleet sees no call on create and no deploy on update.
func TestAccAnalysis_badPromQLFailsAtPlan(t *testing.T) {
	f := newMetricsFleet(t, 2, "1.0.0", nil)
	cfg := func(version, query string) string {
		return hcl{fleet: f.testFleet, version: version, targets: f.targets(2, ""), body: fmt.Sprintf(`
  rolling  = { batch_size = 2, batch_delay = "0s" }
  analysis = {
    metrics = [{
      name       = "errors"
      max        = 0.05
      prometheus = { address = %q, query = %q }
    }]
  }
`, f.prom.URL, query)}.String()
	}
	const bad, good = `sum(rate(x[1m])`, `sum(rate(codomyrmex_sim_requests_total{deployment="{{deployment}}",version="{{version}}"}[5s])) * 0 or vector(0)`
	badQuery := errorPattern(`analysis\.metrics\[0\]\.prometheus\.query \(metric "errors"\): Prometheus rejects the query "sum\(rate\(x\[1m\]\)": .*parse error.*unclosed left parenthesis.* nothing was deployed`)
	deployCalls := 0
	accTest(t, []resource.TestStep{
		{Config: cfg("2.0.0", bad), ExpectError: badQuery},
		{
			PreConfig: func() {
				if calls := f.Calls(); len(calls) != 0 {
					t.Errorf("a create that failed at plan called the fleet: %v", calls)
				}
			},
			Config: cfg("2.0.0", good),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
			},
			Check: fleetCheck(func() error {
				deployCalls = f.Calls()[simulator.CallDeploy]
				return f.expectAll(2, "2.0.0")
			}),
		},
		{Config: cfg("3.0.0", bad), ExpectError: badQuery},
		{
			Config:   cfg("2.0.0", good),
			PlanOnly: true,
			ConfigPlanChecks: planOnlyFleetChecks(func() error {
				if got := f.Calls()[simulator.CallDeploy]; got != deployCalls || f.deploysOf("3.0.0") != 0 {
					return fmt.Errorf("an update that failed at plan deployed: %d deploy calls, %d before; deploys %v", got, deployCalls, f.Deploys())
				}
				return f.expectAll(2, "2.0.0")
			}),
		},
	})
}

// TestAccAnalysis_validation: what validation rejects before any plan,
// each error naming its attribute and what is allowed.
func TestAccAnalysis_validation(t *testing.T) {
	f := newTestFleet(t, 1, "1.0.0")
	one := f.targets(1, "")
	const prom = `prometheus = { address = "http://127.0.0.1:9", query = "vector(0)" }`
	const web = `web = { url = "http://127.0.0.1:9/ok", json_path = "ok" }`
	metrics := func(ms ...string) string {
		return fmt.Sprintf(`analysis = { metrics = [%s] }`, strings.Join(ms, ", "))
	}
	cases := map[string]struct {
		body string
		err  string
	}{
		"both sources": {
			body: metrics(`{ name = "m", max = 1, ` + prom + `, ` + web + ` }`),
			err:  `analysis\.metrics\[0\]: set exactly one of prometheus or web`,
		},
		"no source": {
			body: metrics(`{ name = "a", max = 1, `+prom+` }`, `{ name = "b", max = 1 }`),
			err:  `analysis\.metrics\[1\]: set exactly one of prometheus or web`,
		},
		"prometheus without threshold": {
			body: metrics(`{ name = "m", ` + prom + ` }`),
			err:  `analysis\.metrics\[0\]: set min, max or equals`,
		},
		"web json_path without threshold": {
			body: metrics(`{ name = "m", ` + web + ` }`),
			err:  `analysis\.metrics\[0\]: set min, max or equals`,
		},
		"web threshold without json_path": {
			body: metrics(`{ name = "m", max = 1, web = { url = "http://127.0.0.1:9/ok" } }`),
			err:  `analysis\.metrics\[0\]: a threshold compares the value at web\.json_path; set json_path, or drop min, max and equals`,
		},
		"equals and min": {
			body: metrics(`{ name = "m", equals = "1", min = 0, ` + prom + ` }`),
			err:  `analysis\.metrics\[0\]: equals cannot be combined with min or max`,
		},
		"equals and max": {
			body: metrics(`{ name = "m", equals = "true", max = 1, ` + web + ` }`),
			err:  `analysis\.metrics\[0\]: equals cannot be combined with min or max`,
		},
		"equals not a number": {
			body: metrics(`{ name = "m", equals = "yes", ` + prom + ` }`),
			err:  `analysis\.metrics\[0\]: a Prometheus result is a number, so equals must be one, got "yes"`,
		},
		"min above max": {
			body: metrics(`{ name = "m", min = 2, max = 1, ` + prom + ` }`),
			err:  `analysis\.metrics\[0\]: min \(2\) is above max \(1\)`,
		},
		"duplicate names": {
			body: metrics(`{ name = "errors", max = 1, `+prom+` }`, `{ name = "errors", equals = "true", `+web+` }`),
			err:  `analysis\.metrics\[1\]: "errors" is also the name of metrics\[0\]; names must be unique`,
		},
		"bake": {
			body: `bake = "soon"`,
			err:  `bake must be a Go duration of zero or more, such as "0s", "90s" or "1h"; got "soon"`,
		},
		"negative bake": {
			body: `bake = "-1s"`,
			err:  `bake must be a Go duration of zero or more.*got "-1s"`,
		},
		"interval": {
			body: `analysis = { interval = "0s", metrics = [{ name = "m", max = 1, ` + prom + ` }] }`,
			err:  `analysis\.interval must be a Go duration greater than zero, such as "500ms".*got "0s"`,
		},
		"initial_delay": {
			body: `analysis = { initial_delay = "1 minute", metrics = [{ name = "m", max = 1, ` + prom + ` }] }`,
			err:  `analysis\.initial_delay must be a Go duration of zero or more.*got "1 minute"`,
		},
		"min_healthy": {
			body: `health_check = { min_healthy = "often" }`,
			err:  `health_check\.min_healthy must be a Go duration of zero or more.*got "often"`,
		},
		//nolint:misspell // the typo is the case
		"placeholder in query": {
			body: metrics(`{ name = "m", max = 1, prometheus = { address = "http://127.0.0.1:9", query = "up{version=\"{{verison}}\"}" } }`),
			err:  `analysis\.metrics\[0\]\.prometheus\.query: unknown placeholder \{\{verison\}\}: allowed are \{\{version\}\}, \{\{previous_version\}\}, \{\{deployment\}\}, \{\{percentage\}\}, \{\{stage\}\}`,
		},
		"placeholder in url": {
			body: metrics(`{ name = "m", web = { url = "http://127.0.0.1:9/ok?v={{ver}}" } }`),
			err:  `analysis\.metrics\[0\]\.web\.url: unknown placeholder \{\{ver\}\}: allowed are \{\{version\}\}`,
		},
		"no_data": {
			body: metrics(`{ name = "m", max = 1, no_data = "maybe", ` + prom + ` }`),
			err:  `analysis\.metrics\[0\]\.no_data value must be one of: .*fail.*pass.*maybe`,
		},
		"no metrics": {
			body: `analysis = { metrics = [] }`,
			err:  `analysis\.metrics list must contain at least 1 elements`,
		},
		"web url": {
			body: metrics(`{ name = "m", web = { url = "ftp://127.0.0.1/ok" } }`),
			err:  `analysis\.metrics\[0\]\.web\.url must be an absolute http:// or https:// URL, got "ftp://127\.0\.0\.1/ok"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			accTest(t, []resource.TestStep{{
				Config: hcl{fleet: f, version: "2", targets: one, body: fmt.Sprintf(`
  %s`, tc.body)}.String(),
				PlanOnly:    true,
				ExpectError: errorPattern(tc.err),
			}})
		})
	}
	// A web metric without json_path needs no threshold (any 2xx passes):
	// it plans, without calling the web check or the fleet.
	t.Run("web without json_path or threshold", func(t *testing.T) {
		check, log := recordingWebCheck(t)
		accTest(t, []resource.TestStep{{
			Config: hcl{fleet: f, version: "2", targets: one, body: fmt.Sprintf(`
  analysis = { metrics = [{ name = "up", web = { url = "%s/ok?v={{version}}" } }] }`, check)}.String(),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			ConfigPlanChecks: planOnlyFleetChecks(func() error {
				if n := log.count(); n != 0 {
					return fmt.Errorf("the plan called the web check %d times", n)
				}
				if calls := f.Calls(); calls[simulator.CallDeploy] != 0 {
					return fmt.Errorf("the plan deployed: %v", calls)
				}
				return nil
			}),
		}})
	})
}

// TestAccAnalysis_secretsStayWithTheirHost runs the real CLI with
// TF_LOG=trace, a provider token and header, a Prometheus metric with a
// header (through a recording proxy, since Prometheus cannot say what it
// received) and a web metric with another. Each header reaches its own host
// only, the provider's token and header reach the fleet only, and no secret
// appears in the CLI's output, its trace log, or state outside the
// sensitive headers attributes.
func TestAccAnalysis_secretsStayWithTheirHost(t *testing.T) {
	t.Parallel()
	const (
		token   = "tok-a1f0c9e2d7b84b36"
		promKey = "pk-7e3b1d9c5a2f4e60"
		webKey  = "wk-0c6d2e8f4b1a9d37"
		fleetH  = "fleet-only-5d2c"
	)
	w := newCLIWorkdir(t)
	f := newMetricsFleet(t, 2, "1.0.0", nil)
	promURL, promLog := recordingProxy(t, f.prom.URL)
	fleetURL, fleetLog := recordingProxy(t, f.URL)
	webURL, webLog := recordingWebCheck(t)
	viaProxy := &testFleet{Fleet: f.Fleet, URL: fleetURL}
	w.writeConfig(fmt.Sprintf(`
provider "codomyrmex" {
  token   = %q
  headers = { "X-Fleet-Tag" = %q }
}

resource "codomyrmex_deployment" "web" {
  name         = "web"
  version      = "2.0.0"
  targets      = %s
  rolling      = { batch_size = 2, batch_delay = "0s" }
  health_check = { interval = "10ms" }
  analysis = {
    metrics = [
      {
        name = "errors"
        max  = 0.05
        prometheus = {
          address = %q
          query   = "sum(codomyrmex_sim_requests_total{deployment=\"{{deployment}}\"}) * 0 or vector(0)"
          headers = { "X-Prom-Key" = %q }
        }
      },
      {
        name   = "ready"
        equals = "true"
        web = {
          url       = "%s/check?v={{version}}"
          json_path = "ok"
          headers   = { "X-Web-Key" = %q }
        }
      },
    ]
  }
}
`, token, fleetH, viaProxy.targets(2, ""), promURL, promKey, webURL, webKey))

	env := []string{"TF_LOG=trace"}
	var out strings.Builder
	plan := w.mustRun(0, env, "plan", "-input=false", "-no-color")
	if n := strings.Count(plan, "(sensitive value)"); n < 2 {
		t.Errorf("the plan shows %d sensitive values, want the two headers masked:\n%s", n, tail(plan, 6000))
	}
	out.WriteString(plan)
	out.WriteString(w.mustRun(0, env, "apply", "-auto-approve", "-input=false", "-no-color"))
	if err := f.expectAll(2, "2.0.0"); err != nil {
		t.Fatal(err)
	}
	raw := w.stateFile()
	out.WriteString(w.mustRun(0, env, "plan", "-detailed-exitcode", "-input=false", "-no-color"))
	out.WriteString(w.mustRun(0, env, "destroy", "-auto-approve", "-input=false", "-no-color"))
	if out.Len() < 10000 {
		t.Fatalf("expected a trace log, got %d bytes", out.Len())
	}
	for what, secret := range map[string]string{"the token": token, "the Prometheus header": promKey, "the web header": webKey} {
		if i := strings.Index(out.String(), secret); i >= 0 {
			t.Errorf("%s appears in the TF_LOG=trace output: …%s…", what, out.String()[max(0, i-300):i])
		}
	}

	// Each host got its own secrets, and no other.
	if promLog.count() == 0 || webLog.count() == 0 {
		t.Fatalf("the metrics were not measured: %d Prometheus and %d web requests", promLog.count(), webLog.count())
	}
	expectHeader := func(host string, log *requestLog, name, want string) {
		t.Helper()
		got := log.headerValues(name)
		if want == "" && len(got) > 0 {
			t.Errorf("%s received %s: %q", host, name, got)
		}
		if want != "" && (!slices.Equal(got, []string{want}) || log.withoutHeader(name) > 0) {
			t.Errorf("%s received %s %q on %d of %d requests, want %q on all", host, name, got, log.count()-log.withoutHeader(name), log.count(), want)
		}
	}
	expectHeader("Prometheus", promLog, "X-Prom-Key", promKey)
	expectHeader("Prometheus", promLog, "Authorization", "")
	expectHeader("Prometheus", promLog, "X-Web-Key", "")
	expectHeader("Prometheus", promLog, "X-Fleet-Tag", "")
	expectHeader("the web check", webLog, "X-Web-Key", webKey)
	expectHeader("the web check", webLog, "Authorization", "")
	expectHeader("the web check", webLog, "X-Prom-Key", "")
	expectHeader("the web check", webLog, "X-Fleet-Tag", "")
	expectHeader("the fleet", fleetLog, "Authorization", "Bearer "+token)
	expectHeader("the fleet", fleetLog, "X-Fleet-Tag", fleetH)
	expectHeader("the fleet", fleetLog, "X-Prom-Key", "")
	expectHeader("the fleet", fleetLog, "X-Web-Key", "")

	// State holds the headers in their sensitive attributes only, and never
	// the token.
	if err := secretsOnlyInHeaders(raw, token, promKey, webKey); err != nil {
		t.Error(err)
	}
}

// secretsOnlyInHeaders checks that the state JSON raw has the metric
// headers marked sensitive, and no secret left once they are removed.
func secretsOnlyInHeaders(raw []byte, secrets ...string) error {
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	var problems []string
	found := false
	resources, _ := st["resources"].([]any)
	for _, r := range resources {
		r, _ := r.(map[string]any)
		if r["type"] != "codomyrmex_deployment" {
			continue
		}
		instances, _ := r["instances"].([]any)
		for _, inst := range instances {
			inst, _ := inst.(map[string]any)
			found = true
			sensitive, _ := json.Marshal(inst["sensitive_attributes"])
			for _, p := range []string{`"prometheus"`, `"web"`} {
				if !regexp.MustCompile(p + `[^\]]*"headers"`).Match(sensitive) {
					problems = append(problems, fmt.Sprintf("sensitive_attributes %s do not mark %s headers", sensitive, p))
				}
			}
			attrs, _ := inst["attributes"].(map[string]any)
			a, _ := attrs["analysis"].(map[string]any)
			ms, _ := a["metrics"].([]any)
			for _, m := range ms {
				m, _ := m.(map[string]any)
				for _, src := range []string{"prometheus", "web"} {
					if s, ok := m[src].(map[string]any); ok {
						delete(s, "headers")
					}
				}
			}
		}
	}
	if !found {
		return errors.New("no deployment in state")
	}
	rest, _ := json.Marshal(st)
	for _, s := range secrets {
		if strings.Contains(string(rest), s) {
			problems = append(problems, fmt.Sprintf("state holds %q outside the headers attributes", s))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// TestAccAnalysis_minHealthyFlap: a target healthy, then failing, then
// healthy again (simulator FlapEvery 2: two healthy polls, two failed, …)
// fails the rollout within min_healthy and is rolled back; with
// min_healthy = "0s" the first healthy poll is enough and the same flap is
// not seen; a steady target passes min_healthy after waiting it.
func TestAccAnalysis_minHealthyFlap(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	cfg := func(version, minHealthy string) string {
		return hcl{fleet: f, version: version, targets: f.targets(2, ""), body: fmt.Sprintf(`
  rolling      = { batch_size = 1, batch_delay = "0s" }
  health_check = { interval = "50ms", timeout = "2s", min_healthy = %q }
`, minHealthy)}.String()
	}
	flap := func() { f.SetFault("*", simulator.Fault{FlapEvery: 2, FailVersion: "2.0.0"}) }
	flap()
	accTest(t, []resource.TestStep{
		{
			Config:      cfg("2.0.0", "2s"),
			ExpectError: errorPattern(`batch 1/2: t1 failed.*target t1 \(batch 1/2\): healthy, then unhealthy [0-9.]+m?s later, within min_healthy 2s.*Rolled back to previous_version "[^"]+": t1`),
		},
		{
			PreConfig: func() {
				if order := f.deployOrder("2.0.0"); !slices.Equal(order, []string{"t1"}) {
					t.Errorf("deploys of 2.0.0 after the flap: %v, want only t1 (the rollout stops at its batch)", order)
				}
				if err := f.expectAll(2, "1.0.0"); err != nil {
					t.Errorf("after the rollback: %v", err)
				}
				flap() // the same flap, counted afresh
			},
			Config: cfg("2.0.0", "0s"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("target_versions", allAt(2, "2.0.0")),
			},
			Check: fleetCheck(func() error { return f.expectAll(2, "2.0.0") }),
		},
		{
			// A steady target passes, but only after min_healthy: two
			// batches take at least twice 500ms.
			PreConfig: f.ClearFaults,
			Config:    cfg("3.0.0", "500ms"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				stateIs("duration_ms", atLeast(1000)),
			},
			Check: fleetCheck(func() error { return f.expectAll(2, "3.0.0") }),
		},
	})
}

// atLeast checks an int64 of at least min.
type atLeast int64

func (a atLeast) CheckValue(v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("expected a number, got %T", v)
	}
	i, err := n.Int64()
	if err != nil {
		return err
	}
	if i < int64(a) {
		return fmt.Errorf("%d is below %d", i, int64(a))
	}
	return nil
}

func (a atLeast) String() string { return fmt.Sprintf(">= %d", int64(a)) }

// TestAccAnalysis_sigintDuringBake sends SIGINT to `apply` while it bakes
// (every target runs the new version and the bake's first measurement was
// taken): the CLI exits long before the bake would end, no target is
// started with the new version afterwards, the rollout is rolled back, and
// the saved state matches the fleet.
func TestAccAnalysis_sigintDuringBake(t *testing.T) {
	t.Parallel()
	const n = 3
	w := newCLIWorkdir(t)
	f := newTestFleet(t, n, "1.0.0")
	check, checks := recordingWebCheck(t)
	w.writeConfig(hcl{
		vars:     []string{"app_version", "bake"},
		name:     "web",
		provider: cliProvider,
		body:     rollingArgs(f, n, 1, "var.app_version"),
		after: fmt.Sprintf(`bake         = var.bake
  analysis = {
    interval = "1m"
    metrics  = [{ name = "up", web = { url = "%s/check?v={{version}}&stage={{stage}}" } }]
  }`, check),
	}.String())
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0", "-var", "bake=0s")

	cmd, out, done := w.start("apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=3.0.0", "-var", "bake=30s")
	baking := url.Values{"v": {"3.0.0"}, "stage": {"bake"}}
	timeout := time.After(cliTimeout)
	for f.expectAll(n, "3.0.0") != nil || !checks.sawQuery(baking) {
		select {
		case err := <-done:
			t.Fatalf("apply ended (%v) before the bake:\n%s", err, tail(out.String(), 4000))
		case <-time.After(20 * time.Millisecond):
		case <-timeout:
			t.Fatalf("apply never reached the bake:\n%s", tail(out.String(), 4000))
		}
	}
	deploys := len(f.Deploys())
	signalled := time.Now()
	output := sigint(t, cmd, out, done)
	if took := time.Since(signalled); took > 15*time.Second {
		t.Errorf("apply took %s to exit after SIGINT in a 30s bake", took)
	}
	for _, want := range []string{`bake: rollout cancelled, no further target started`, `Rolled back to previous_version "[^"]+": t1, t2, t3`} {
		if !errorPattern(want).MatchString(output) {
			t.Errorf("the apply's output does not say %q:\n%s", want, tail(output, 4000))
		}
	}
	var after []string
	for _, d := range f.Deploys()[deploys:] {
		if d.Version != "2.0.0" {
			after = append(after, d.Target+"="+d.Version)
		}
	}
	if len(after) > 0 {
		t.Errorf("deploys after SIGINT other than the rollback to 2.0.0: %v", after)
	}
	expectRolledBack(t, w, f, n)
	w.mustRun(0, nil, "destroy", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0", "-var", "bake=0s")
}

// TestAccAnalysis_unknownQueryCheckedAtApply: a query or address unknown
// at plan (computed by another resource) is not run at plan, which neither
// fails nor warns; the apply measures with the final values.
func TestAccAnalysis_unknownQueryCheckedAtApply(t *testing.T) {
	f := newMetricsFleet(t, 2, "1.0.0", nil)
	promURL, promLog := recordingProxy(t, f.prom.URL)
	planQueries := -1
	diags := &diagLog{plans: true}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: diags.providers(),
		Steps: []resource.TestStep{{
			Config: `
resource "terraform_data" "later" {
  input = "x"
}
` + hcl{fleet: f.testFleet, body: fmt.Sprintf(`
  version  = "2.0.0"
  targets  = %s
  rolling  = { batch_size = 2, batch_delay = "0s" }
  analysis = {
    metrics = [
      {
        name       = "unknown-query"
        equals     = "0"
        prometheus = { address = %[2]q, query = "vector(${length(terraform_data.later.id) * 0})" }
      },
      {
        name       = "unknown-address"
        max        = 0
        prometheus = { address = "%[2]s${substr(terraform_data.later.id, 0, 0)}", query = "vector(0)" }
      },
    ]
  }
`, f.targets(2, ""), promURL)}.String(),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				fleetPlanCheck(func() error { planQueries = promLog.count(); return nil }),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				stateIs("status", knownvalue.StringExact("completed")),
				analysisResultIs(0, "value", knownvalue.StringExact("0")),
				analysisResultIs(1, "value", knownvalue.StringExact("0")),
			},
			Check: fleetCheck(func() error {
				if planQueries != 0 {
					return fmt.Errorf("the plan sent %d queries whose query or address it did not know", planQueries)
				}
				if d := diags.since(0); strings.Contains(d, "prometheus") {
					return fmt.Errorf("the plan said about a query it did not know: %s", d)
				}
				return f.expectAll(2, "2.0.0")
			}),
		}},
	})
}

// redirector records every request and answers 307 to target+path (a
// path of its own when target is ""), or serves next when the path is not
// in moves.
func redirector(t *testing.T, moves map[string]string, next http.Handler) (string, *requestLog) {
	t.Helper()
	log := &requestLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		if to, ok := moves[r.URL.Path]; ok {
			if r.URL.RawQuery != "" {
				to += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, to, http.StatusTemporaryRedirect)
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, log
}

// TestAccAnalysis_headersNotRedirectedElsewhere: a metric's headers follow
// a redirect within their host (scheme, host and port) but not one to
// another: a Prometheus or web check that redirects elsewhere does not hand
// over its key.
func TestAccAnalysis_headersNotRedirectedElsewhere(t *testing.T) {
	const promKey, webKey = "pk-redirect-0b7f2c", "wk-redirect-93ad1e"
	f := newMetricsFleet(t, 2, "1.0.0", nil)
	elsewhere, elsewhereLog := recordingWebCheck(t)
	promElsewhere, promElsewhereLog := recordingProxy(t, f.prom.URL)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok": true}`))
	})
	web, webLog := redirector(t, map[string]string{"/same": "/ok", "/away": elsewhere + "/ok"}, ok)
	prom, promLog := redirector(t, map[string]string{"/api/v1/query": promElsewhere + "/api/v1/query"}, http.NotFoundHandler())
	metric := func(name, url string) string {
		return fmt.Sprintf(`{
        name   = %q
        equals = "true"
        web    = { url = %q, json_path = "ok", headers = { "X-Web-Key" = %q } }
      }`, name, url, webKey)
	}
	accTest(t, []resource.TestStep{{
		Config: hcl{fleet: f.testFleet, version: "2.0.0", targets: f.targets(2, ""), body: fmt.Sprintf(`
  rolling  = { batch_size = 2, batch_delay = "0s" }
  analysis = {
    metrics = [
      %s,
      %s,
      {
        name       = "errors"
        max        = 0.05
        prometheus = { address = %q, query = "vector(0)", headers = { "X-Prom-Key" = %q } }
      },
    ]
  }
`, metric("same-host", web+"/same"), metric("other-host", web+"/away"), prom, promKey)}.String(),
		ConfigStateChecks: []statecheck.StateCheck{
			stateIs("status", knownvalue.StringExact("completed")),
		},
		Check: fleetCheck(func() error {
			var problems []string
			if webLog.count() == 0 || webLog.withoutHeader("X-Web-Key") > 0 {
				problems = append(problems, fmt.Sprintf("the web check's own host got X-Web-Key on %d of %d requests, want all",
					webLog.count()-webLog.withoutHeader("X-Web-Key"), webLog.count()))
			}
			if promLog.count() == 0 || promLog.withoutHeader("X-Prom-Key") > 0 {
				problems = append(problems, fmt.Sprintf("Prometheus's own host got X-Prom-Key on %d of %d requests, want all",
					promLog.count()-promLog.withoutHeader("X-Prom-Key"), promLog.count()))
			}
			if elsewhereLog.count() == 0 || promElsewhereLog.count() == 0 {
				problems = append(problems, fmt.Sprintf("the redirects were not followed: %d web, %d Prometheus requests elsewhere", elsewhereLog.count(), promElsewhereLog.count()))
			}
			if got := elsewhereLog.headerValues("X-Web-Key"); len(got) > 0 {
				problems = append(problems, fmt.Sprintf("a web check's redirect to another host carried X-Web-Key %q", got))
			}
			if got := promElsewhereLog.headerValues("X-Prom-Key"); len(got) > 0 {
				problems = append(problems, fmt.Sprintf("a Prometheus redirect to another host carried X-Prom-Key %q", got))
			}
			if len(problems) > 0 {
				return errors.New(strings.Join(problems, "; "))
			}
			return f.expectAll(2, "2.0.0")
		}),
	}})
}

// TestAccAnalysis_removedAnalysisClearsResults: removing analysis makes
// analysis_results null in the plan that removes it, and in state; the
// update deploys nothing.
func TestAccAnalysis_removedAnalysisClearsResults(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	check, _ := recordingWebCheck(t)
	body := func(analysis string) string {
		return hcl{fleet: f, version: "2.0.0", targets: f.targets(2, ""), body: fmt.Sprintf(`
  rolling = { batch_size = 2, batch_delay = "0s" }
%s
`, analysis)}.String()
	}
	var deploys int
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: body(fmt.Sprintf(`  analysis = { metrics = [{ name = "up", web = { url = %q } }] }`, check)),
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("analysis_results", knownvalue.ListSizeExact(1)),
				},
			},
			{
				PreConfig: func() { deploys = len(f.Deploys()) },
				Config:    body(""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(deploymentAddr, plancheck.ResourceActionUpdate),
						plannedIs("analysis_results", knownvalue.Null()),
					},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs("analysis_results", knownvalue.Null()),
					stateIs("status", knownvalue.StringExact("completed")),
				},
				Check: fleetCheck(func() error {
					if got := deploysSince(f, deploys); len(got) > 0 {
						return fmt.Errorf("removing analysis deployed %v", got)
					}
					return nil
				}),
			},
		},
	})
}
