package protocol

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	t.Parallel()

	valid := map[string]string{
		"http://10.0.0.5:8080":          "http://10.0.0.5:8080",
		"http://lb:7070/t/web-1":        "http://lb:7070/t/web-1",
		"http://lb:7070/t/web-1/":       "http://lb:7070/t/web-1",
		"http://lb:7070/t/web-1///":     "http://lb:7070/t/web-1",
		"https://example.com":           "https://example.com",
		"https://example.com/":          "https://example.com",
		"HTTPS://Example.com/A":         "https://Example.com/A",
		"http://[::1]:8080/x":           "http://[::1]:8080/x",
		"http://h/a%2F":                 "http://h/a%2F",
		"http://h/a%20b/":               "http://h/a%20b",
		"http://127.0.0.1:65535/prefix": "http://127.0.0.1:65535/prefix",
	}
	for in, want := range valid {
		t.Run("valid "+in, func(t *testing.T) {
			t.Parallel()
			u, err := ParseAddress(in)
			if err != nil {
				t.Fatalf("ParseAddress(%q): %v", in, err)
			}
			if got := u.String(); got != want {
				t.Errorf("ParseAddress(%q) = %q, want %q", in, got, want)
			}
		})
	}

	invalid := map[string]string{
		"":                          "empty",
		" http://h":                 "whitespace",
		"http://h ":                 "whitespace",
		"ftp://h":                   `scheme "ftp"`,
		"h:8080":                    `scheme "h"`,
		"10.0.0.5:8080":             "first path segment",
		"/relative/path":            `scheme ""`,
		"http:opaque":               `missing "//"`,
		"http://":                   "missing host",
		"http://:8080":              "missing host",
		"http://user:pw@h":          "user info",
		"http://h/?a=b":             "query",
		"http://h?":                 "query",
		"http://h/#frag":            "fragment",
		"http://h#":                 "fragment",
		"http://h:0":                "port",
		"http://h:70000":            "port",
		"http://h:":                 "empty port",
		"http://h:abc":              "invalid port",
		"http://a b":                "invalid character",
		"http://h/\x7f":             "invalid control character",
		"http://h/%zz":              "invalid URL escape",
		"mailto:someone@example.io": "scheme",
	}
	for in, wantErr := range invalid {
		t.Run("invalid "+in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseAddress(in)
			if err == nil {
				t.Fatalf("ParseAddress(%q) succeeded, want an error", in)
			}
			if !strings.Contains(err.Error(), wantErr) {
				t.Errorf("ParseAddress(%q) error %q does not mention %q", in, err, wantErr)
			}
			if !strings.Contains(err.Error(), "absolute http:// or https:// URL") {
				t.Errorf("ParseAddress(%q) error %q does not say what is allowed", in, err)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()

	tests := []struct {
		base, path, want string
	}{
		{"http://lb:7070/t/web-1/", "/v1/deploy", "http://lb:7070/t/web-1/v1/deploy"},
		{"http://lb:7070/t/web-1", "/v1/deploy", "http://lb:7070/t/web-1/v1/deploy"},
		{"http://lb:7070/t/web-1", "v1/deploy", "http://lb:7070/t/web-1/v1/deploy"},
		{"http://h//", "//v1/health", "http://h/v1/health"},
		{"http://h", "/healthz?deep=1", "http://h/healthz?deep=1"},
		{"http://h", "", "http://h/"},
	}
	for _, tt := range tests {
		if got := Endpoint(tt.base, tt.path); got != tt.want {
			t.Errorf("Endpoint(%q, %q) = %q, want %q", tt.base, tt.path, got, tt.want)
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, seed := range []string{
		"http://10.0.0.5:8080", "http://lb:7070/t/web-1/", "https://example.com",
		"http://[::1]:80/a%2Fb/", "http://h/?q", "http://u@h", "ftp://x", "http://h:99999",
		"http://h/#f", "", " http://h", "http://h/%zz", "HTTP://H/A//", "http://h/a b",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseAddress(s)
		if err != nil {
			if u != nil {
				t.Fatalf("ParseAddress(%q) returned a URL with an error", s)
			}
			if !strings.Contains(err.Error(), "absolute http:// or https:// URL") {
				t.Fatalf("ParseAddress(%q) error %q does not say what is allowed", s, err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("ParseAddress(%q) scheme %q", s, u.Scheme)
		}
		if u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			t.Fatalf("ParseAddress(%q) = %#v breaks the address rules", s, u)
		}
		str := u.String()
		if strings.HasSuffix(str, "/") || strings.ContainsAny(str, "?#") {
			t.Fatalf("ParseAddress(%q).String() = %q has a trailing slash, query or fragment", s, str)
		}
		// The result is itself a valid address that parses to the same URL,
		// so the provider can store it and parse it again.
		again, err := ParseAddress(str)
		if err != nil {
			t.Fatalf("ParseAddress(%q) = %q, which does not parse again: %v", s, str, err)
		}
		if again.String() != str {
			t.Fatalf("ParseAddress is not stable: %q -> %q -> %q", s, str, again.String())
		}
		if _, err := url.Parse(Endpoint(str, DefaultHealthPath)); err != nil {
			t.Fatalf("Endpoint(%q, %q) does not parse: %v", str, DefaultHealthPath, err)
		}
	})
}

func FuzzEndpoint(f *testing.F) {
	f.Add("http://lb:7070/t/web-1/", "/v1/deploy")
	f.Add("http://h", "v1/health")
	f.Add("http://h///", "///x//")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, base, path string) {
		got := Endpoint(base, path)
		trimmed := strings.TrimRight(base, "/")
		rest, ok := strings.CutPrefix(got, trimmed+"/")
		if !ok {
			t.Fatalf("Endpoint(%q, %q) = %q does not start with the base and one slash", base, path, got)
		}
		if strings.HasPrefix(rest, "/") {
			t.Fatalf("Endpoint(%q, %q) = %q has a double slash at the join", base, path, got)
		}
		if rest != strings.TrimLeft(path, "/") {
			t.Fatalf("Endpoint(%q, %q) = %q lost part of the path", base, path, got)
		}
	})
}
