package provider

// TLS and secrets: an https fleet whose certificates come from a CA made up
// by the test. An unknown CA fails with a clear error, ca_cert_pem and
// mutual TLS work, insecure_skip_verify works and warns, and neither the
// token nor the client key shows up in a TF_LOG=trace run, in the
// diagnostics of a failing apply or in the state.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testcert"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// newHTTPSFleet serves a simulated fleet over TLS with a certificate from
// ca; with clientCA set it demands a client certificate signed by it. wrap,
// when set, wraps the fleet's handler.
func newHTTPSFleet(t *testing.T, fl *simulator.Fleet, ca, clientCA *testcert.CA, wrap func(http.Handler) http.Handler) *testFleet {
	t.Helper()
	h := fl.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := ca.StartServer(t, h, clientCA)
	return &testFleet{Fleet: fl, URL: srv.URL}
}

// TestAccTLS_unknownCA: the fleet's certificate comes from a CA the
// provider does not trust. The apply fails with the certificate error and a
// hint at ca_cert_pem, every call fails the same way (no retry can fix
// it), and the saved state is tainted with no target claimed.
func TestAccTLS_unknownCA(t *testing.T) {
	ca := testcert.NewCA(t, "codomyrmex untrusted CA")
	f := newHTTPSFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: 2, InitialVersion: "1.0.0"}), ca, nil, nil)
	cfg := faultHCL(hcl{fleet: f, body: rollingArgs(f, 2, 2, hclString("2.0.0"))})
	accTest(t, []resource.TestStep{
		{
			Config:      cfg,
			ExpectError: errorPattern(`Failed targets: t1, t2.*x509: certificate signed by unknown authority.*set ca_cert_pem.*Nothing was rolled back`),
		},
		afterFailure(cfg, func() {
			expectFleet(t, f.expectAll(2, "1.0.0"))
			if n := f.Calls()[simulator.CallDeploy]; n != 0 {
				t.Errorf("%d deploy calls reached the fleet through an untrusted certificate", n)
			}
		}, savedState{f: f, version: "2.0.0", targets: nil, tainted: true}, plancheck.ResourceActionDestroyBeforeCreate, "t1", "t2"),
	})
}

// TestAccTLS_caCertPEM: with the test CA in ca_cert_pem the rollout and the
// rollback on destroy work over https.
func TestAccTLS_caCertPEM(t *testing.T) {
	ca := testcert.NewCA(t, "codomyrmex test CA")
	f := newHTTPSFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: 2, InitialVersion: "1.0.0"}), ca, nil, nil)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             fleetCheck(func() error { return f.expectAll(2, "1.0.0") }),
		Steps: []resource.TestStep{{
			Config: hcl{fleet: f, provider: faultProvider + "\n  " + "ca_cert_pem = " + hclString(ca.PEM), health: faultHealth, body: rollingArgs(f, 2, 2, hclString("2.0.0"))}.String(),
			Check:  fleetCheck(func() error { return f.expectAll(2, "2.0.0") }),
		}},
	})
}

// TestAccTLS_mutualTLS: the fleet demands a client certificate. Without one
// the handshake is refused with a clear error; with client_cert_pem and
// client_key_pem the rollout works.
func TestAccTLS_mutualTLS(t *testing.T) {
	ca := testcert.NewCA(t, "codomyrmex test CA")
	clientCA := testcert.NewCA(t, "codomyrmex client CA")
	certPEM, keyPEM := clientCA.Issue(t, false)
	f := newHTTPSFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: 2, InitialVersion: "1.0.0"}), ca, clientCA, nil)
	trust := "ca_cert_pem = " + hclString(ca.PEM)
	withCert := trust + "\n  client_cert_pem = " + hclString(certPEM) + "\n  client_key_pem = " + hclString(keyPEM)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             fleetCheck(func() error { return f.expectAll(2, "1.0.0") }),
		Steps: []resource.TestStep{
			{
				Config:      hcl{fleet: f, provider: faultProvider + "\n  " + trust, health: faultHealth, body: rollingArgs(f, 2, 2, hclString("2.0.0"))}.String(),
				ExpectError: errorPattern(`Failed targets: t1, t2.*remote error: tls: certificate required.*client_cert_pem`),
			},
			{
				PreConfig: func() { expectFleet(t, f.expectAll(2, "1.0.0")) },
				Config:    hcl{fleet: f, provider: faultProvider + "\n  " + withCert, health: faultHealth, body: rollingArgs(f, 2, 2, hclString("2.0.0"))}.String(),
				Check:     fleetCheck(func() error { return f.expectAll(2, "2.0.0") }),
			},
		},
	})
}

// TestAccTLS_insecureSkipVerifyWarns runs the real CLI: with
// insecure_skip_verify the rollout over an untrusted certificate works, and
// the CLI shows the provider's warning.
func TestAccTLS_insecureSkipVerifyWarns(t *testing.T) {
	t.Parallel()
	w := newCLIWorkdir(t)
	ca := testcert.NewCA(t, "codomyrmex untrusted CA")
	f := newHTTPSFleet(t, simulator.NewFleet(simulator.FleetConfig{Targets: 2, InitialVersion: "1.0.0"}), ca, nil, nil)
	w.writeConfig(hcl{name: "web", provider: "insecure_skip_verify = true\n  " + cliProvider, body: rollingArgs(f, 2, 2, `"2.0.0"`)}.String())
	out := w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	if !errorPattern(`Warning: TLS verification is off.*insecure_skip_verify is true`).MatchString(out) {
		t.Errorf("apply with insecure_skip_verify shows no warning:\n%s", tail(out, 3000))
	}
	if err := f.expectAll(2, "2.0.0"); err != nil {
		t.Error(err)
	}
	w.mustRun(0, nil, "destroy", "-auto-approve", "-input=false", "-no-color")
	if err := f.expectAll(2, "1.0.0"); err != nil {
		t.Errorf("destroy: %v", err)
	}
}

// TestAccTLS_secretsNeverLogged runs the real CLI with TF_LOG=trace (core
// and provider logs) against an mTLS fleet that also wants a token: a
// successful apply, a failing one whose target echoes the request's
// Authorization header in its error body, and a destroy. Neither the token
// nor any line of the client key appears in the output, the diagnostics or
// the state, while the fleet did receive the token.
func TestAccTLS_secretsNeverLogged(t *testing.T) {
	t.Parallel()
	const token = "tok-9b27e4d1c05a6f38"
	w := newCLIWorkdir(t)
	ca := testcert.NewCA(t, "codomyrmex test CA")
	clientCA := testcert.NewCA(t, "codomyrmex client CA")
	certPEM, keyPEM := clientCA.Issue(t, false)
	fl := simulator.NewFleet(simulator.FleetConfig{Targets: 3, InitialVersion: "1.0.0", Token: token})
	// t2 turns down 3.0.0 with an error body that quotes the request's
	// headers, as careless servers do.
	echo := func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.URL.Path == "/t/t2/v1/deploy" && peekDeployVersion(r) == "3.0.0" {
				rw.Header().Set("Content-Type", "application/json")
				rw.WriteHeader(http.StatusInternalServerError)
				fmt.Fprintf(rw, `{"error":"deploy rejected; request headers: Authorization: %s"}`, r.Header.Get("Authorization"))
				return
			}
			inner.ServeHTTP(rw, r)
		})
	}
	f := newHTTPSFleet(t, fl, ca, clientCA, echo)
	for name, content := range map[string]string{"ca.PEM": ca.PEM, "client.pem": certPEM, "client.key": keyPEM} {
		writeFile(t, filepath.Join(w.dir, name), content)
	}
	w.writeConfig(hcl{
		vars: []string{"app_version"},
		name: "web",
		provider: `ca_cert_pem     = file("${path.module}/ca.PEM")
  client_cert_pem = file("${path.module}/client.pem")
  client_key_pem  = file("${path.module}/client.key")
  ` + cliProvider,
		body: rollingArgs(f, 3, 1, "var.app_version"),
	}.String())

	env := []string{"TF_LOG=trace", "CODOMYRMEX_TOKEN=" + token}
	var all strings.Builder
	all.WriteString(w.mustRun(0, env, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0"))
	failed := w.mustRun(1, env, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=3.0.0")
	all.WriteString(failed)
	if !errorPattern(`Deployment failed.*Failed targets: t2.*HTTP 500.*deploy rejected; request headers: Authorization: Bearer \[REDACTED\].*Rolled back to previous_version "[^"]+": t1, t2`).MatchString(failed) {
		t.Errorf("the failing apply's diagnostics are not the expected ones:\n%s", tail(failed, 4000))
	}
	all.WriteString(w.mustRun(0, env, "destroy", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=2.0.0"))
	output := all.String()
	if len(output) < 100000 {
		t.Fatalf("expected trace logs, got %d bytes", len(output))
	}

	state, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"the TF_LOG=trace output and diagnostics": output, "the state": string(state)} {
		if leak := findSecret(text, token, keyPEM); leak != "" {
			t.Errorf("%s contain %s", where, leak)
		}
	}
	if seen := f.SeenAuthorization(); len(seen) != 1 || seen[0] != "Bearer "+token {
		t.Errorf("the fleet saw Authorization %q, want the bearer token", seen)
	}
	if err := f.expectAll(3, "1.0.0"); err != nil {
		t.Errorf("destroy did not roll back: %v", err)
	}
}

// peekDeployVersion reads the version of a deploy request without
// consuming its body.
func peekDeployVersion(r *http.Request) string {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`"version"\s*:\s*"([^"]*)"`).FindSubmatch(body)
	if m == nil {
		return ""
	}
	return string(m[1])
}
