package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAccSecrets_tokenNeverLogged runs a real CLI against the provider
// binary (dev_overrides) with TF_LOG=trace, so both core's and the
// provider's logs are captured, and checks the token reaches the targets
// but never the output.
func TestAccSecrets_tokenNeverLogged(t *testing.T) {
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || cli == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make testacc does)")
	}
	const token = "tok-5f1c9e0a7d3b4c2e8f6a"
	f := newTestFleet(t, 3, "1.0.0")

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-codomyrmex"), "../..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	source := host + "/codomyrmex/codomyrmex"
	rc := filepath.Join(dir, "cli.tfrc")
	writeFile(t, rc, fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", source, bin))
	work := filepath.Join(dir, "work")
	writeFile(t, filepath.Join(work, "main.tf"), fmt.Sprintf(`
terraform {
  required_providers {
    codomyrmex = { source = %q }
  }
}

provider "codomyrmex" {}

resource "codomyrmex_deployment" "web" {
  name         = "web"
  version      = "2.0.0"
  targets      = %s
  rolling      = { batch_size = 3, batch_delay = "0s" }
  health_check = { interval = "10ms" }
}
`, source, f.targets(3, "")))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	for _, args := range [][]string{{"apply", "-auto-approve", "-input=false", "-no-color"}, {"destroy", "-auto-approve", "-input=false", "-no-color"}} {
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_LOG=trace", "CODOMYRMEX_TOKEN="+token, "CHECKPOINT_DISABLE=1")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s", cli, args[0], err, tail(out.String(), 4000))
		}
	}
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
	state, err := os.ReadFile(filepath.Join(work, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(state), token) {
		t.Fatal("the token appears in the state file")
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
