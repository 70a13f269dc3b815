package agent

import (
	"strings"
	"testing"
)

func TestVersionRule(t *testing.T) {
	t.Parallel()
	def, err := NewVersionRule("")
	if err != nil {
		t.Fatal(err)
	}
	accepted := []string{"1.0.0", "2.1.0-rc.1+build.5", "ghcr.io/org/app:1.2.3", "app@sha256:" + strings.Repeat("a", 64), "v1..2", "release_2026-12-02", strings.Repeat("x", MaxVersionLength)}
	for _, v := range accepted {
		if err := def.Check(v); err != nil {
			t.Errorf("default rule refuses %q: %v", v, err)
		}
	}
	refused := map[string]string{
		"":                            "empty",
		"../../etc/passwd":            "'..' path segment",
		"1.0/../../x":                 "'..' path segment",
		`..\x`:                        "'..' path segment",
		"1.0.0\nrm -rf /":             "control character",
		"1.0.0\r":                     "control character",
		"v\x00":                       "control character",
		"\x1b[31m":                    "control character",
		"-rf":                         "starts with '-'",
		"/etc/passwd":                 "starts with '/'",
		strings.Repeat("x", 257):      "more than 256",
		string([]byte{0xff, 0xfe, 1}): "not valid UTF-8",
	}
	for v, why := range refused {
		if err := def.Check(v); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("default rule on %q: %v, want an error about %s", v, err, why)
		}
	}

	semver, err := NewVersionRule(`[0-9]+\.[0-9]+\.[0-9]+`)
	if err != nil {
		t.Fatal(err)
	}
	if err := semver.Check("1.2.3"); err != nil {
		t.Errorf("narrow rule refuses 1.2.3: %v", err)
	}
	for _, v := range []string{"1.2.3-rc1", "ghcr.io/org/app:1.2.3", "x1.2.3"} {
		if err := semver.Check(v); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Errorf("narrow rule on %q: %v, want a refusal", v, err)
		}
	}
	wide, err := NewVersionRule(`.+`)
	if err != nil {
		t.Fatal(err)
	}
	if err := wide.Check("/opt/builds/42"); err != nil {
		t.Errorf("a wider rule refuses an absolute path it allows: %v", err)
	}
	if err := wide.Check("a\nb"); err == nil {
		t.Error("a wider rule accepts a control character")
	}
	if _, err := NewVersionRule("("); err == nil {
		t.Error("an invalid pattern is accepted")
	}
}
