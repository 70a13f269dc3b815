package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestFindSecret checks the leak detector of the secrets tests on the
// shapes a secret takes in logs: raw, and inside an escaped JSON string.
func TestFindSecret(t *testing.T) {
	t.Parallel()
	key := "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1Zx0\nabcdefghijklmnopqrstuvwxyz012345\n-----END PRIVATE KEY-----\n"
	for text, leaks := range map[string]bool{
		"all clear":                        false,
		"Authorization: Bearer tok-123456": true,
		`{"client_key_pem":"` + strings.ReplaceAll(key, "\n", `\n`) + `"}`: true,
		"…abcdefghijklmnopqrstuvwxyz012345…":                               true,
		"-----BEGIN EC PRIVATE KEY----- elsewhere":                         true,
	} {
		if got := findSecret(text, "tok-123456", key); (got != "") != leaks {
			t.Errorf("findSecret(%q) = %q, want a leak: %v", text, got, leaks)
		}
	}
}

// findSecret describes the first secret found in text: the token, the
// whole key, or any line of its base64 body.
func findSecret(text, token, keyPEM string) string {
	if i := strings.Index(text, token); i >= 0 {
		return fmt.Sprintf("the token: …%s…", text[max(0, i-200):i])
	}
	if strings.Contains(text, strings.TrimSpace(keyPEM)) {
		return "the client key (whole PEM)"
	}
	// The key's body as a JSON or log string would have its line breaks escaped.
	for _, line := range strings.Split(keyPEM, "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			if i := strings.Index(text, line); i >= 0 {
				return fmt.Sprintf("a line of the client key: …%s…", text[max(0, i-200):i])
			}
		}
	}
	if regexp.MustCompile(`BEGIN [A-Z ]*PRIVATE KEY`).MatchString(text) {
		return "a private key block"
	}
	return ""
}
