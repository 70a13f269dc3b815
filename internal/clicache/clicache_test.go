package clicache

import (
	"os"
	"regexp"
	"testing"
)

// TestVersionsMatchScript: the versions the Go code uses are the ones
// scripts/versions.sh gives the scripts.
func TestVersionsMatchScript(t *testing.T) {
	b, err := os.ReadFile("../../scripts/versions.sh")
	if err != nil {
		t.Fatal(err)
	}
	script := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\w+_VERSION)="\$\{\w+:-([^}]*)\}"$`).FindAllStringSubmatch(string(b), -1) {
		script[m[1]] = m[2]
	}
	for name, version := range map[string]string{
		"TOFU_VERSION":       TofuVersion,
		"TERRAFORM_VERSION":  TerraformVersion,
		"PROMETHEUS_VERSION": PrometheusVersion,
		"CADDY_VERSION":      CaddyVersion,
	} {
		if script[name] != version {
			t.Errorf("scripts/versions.sh: %s = %q, the Go code has %q", name, script[name], version)
		}
	}
	if len(script) != 4 {
		t.Errorf("scripts/versions.sh defines %d versions %v, want the 4 the Go code has", len(script), script)
	}
}

// TestDir: CODOMYRMEX_CLI_CACHE, else XDG_CACHE_HOME/codomyrmex/bin, else
// $HOME/.cache/codomyrmex/bin, as scripts/versions.sh computes it.
func TestDir(t *testing.T) {
	for _, c := range []struct{ cache, xdg, home, want string }{
		{"/c", "/x", "/h", "/c"},
		{"", "/x", "/h", "/x/codomyrmex/bin"},
		{"", "", "/h", "/h/.cache/codomyrmex/bin"},
	} {
		t.Setenv("CODOMYRMEX_CLI_CACHE", c.cache)
		t.Setenv("XDG_CACHE_HOME", c.xdg)
		t.Setenv("HOME", c.home)
		if got, err := Dir(); err != nil || got != c.want {
			t.Errorf("Dir() with %+v = %q, %v; want %q", c, got, err, c.want)
		}
	}
}
