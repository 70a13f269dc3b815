package provider

import (
	"strings"
	"testing"
)

// TestAccSecrets_tokenNeverLogged runs a real CLI against the provider
// binary (dev_overrides) with TF_LOG=trace, so both core's and the
// provider's logs are captured, and checks the token reaches the targets
// but never the output.
func TestAccSecrets_tokenNeverLogged(t *testing.T) {
	w := newCLIWorkdir(t)
	const token = "tok-5f1c9e0a7d3b4c2e8f6a"
	f := newTestFleet(t, 3, "1.0.0")
	w.writeConfig(hcl{name: "web", health: `{ interval = "10ms" }`, body: rollingArgs(f, 3, 3, `"2.0.0"`)}.String())

	var out strings.Builder
	env := []string{"TF_LOG=trace", "CODOMYRMEX_TOKEN=" + token}
	out.WriteString(w.mustRun(0, env, "apply", "-auto-approve", "-input=false", "-no-color"))
	out.WriteString(w.mustRun(0, env, "destroy", "-auto-approve", "-input=false", "-no-color"))
	if out.Len() < 10000 {
		t.Fatalf("expected a trace log, got %d bytes", out.Len())
	}
	if strings.Contains(out.String(), token) {
		i := strings.Index(out.String(), token)
		t.Fatalf("the token appears in the TF_LOG=trace output: …%s…", out.String()[max(0, i-300):i])
	}
	seen := f.SeenAuthorization()
	if len(seen) != 1 || seen[0] != "Bearer "+token {
		t.Fatalf("targets saw Authorization %q, want exactly the bearer token", seen)
	}
	if err := f.expectAll(3, "1.0.0"); err != nil {
		t.Fatalf("destroy did not roll back: %v", err)
	}
	if strings.Contains(string(w.stateFile()), token) {
		t.Fatal("the token appears in the state file")
	}
}
