// Package protocol is target protocol v1: the HTTP calls the provider makes
// to targets, routers and flag services (the client side) and the handlers
// that answer them (the server side, used by codomyrmex-agent). Both sides
// live here so that they cannot drift apart.
package protocol

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// addressRule is appended to every ParseAddress error so the user learns
// what is allowed, not only what was wrong.
const addressRule = "an address is an absolute http:// or https:// URL with a host, " +
	"optionally a port and a path prefix, and no query, fragment or user info " +
	`(e.g. "http://10.0.0.5:8080" or "http://lb:7070/t/web-1")`

// ParseAddress parses a target, router or flag service base URL. The path
// prefix is kept without its trailing slash, so that Endpoint can append
// protocol paths to the result.
func ParseAddress(s string) (*url.URL, error) {
	bad := func(why string) error {
		return fmt.Errorf("invalid address %q: %s; %s", s, why, addressRule)
	}
	if s == "" {
		return nil, errors.New("invalid address: empty; " + addressRule)
	}
	if strings.TrimSpace(s) != s {
		return nil, bad("leading or trailing whitespace")
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the input; keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, bad(err.Error())
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad(fmt.Sprintf("scheme %q is not http or https", u.Scheme))
	case u.Opaque != "":
		return nil, bad(`missing "//" after the scheme`)
	case u.User != nil:
		return nil, bad("user info is not allowed (use the provider token)")
	case u.Hostname() == "":
		return nil, bad("missing host")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, bad("a query string is not allowed")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, bad("a fragment is not allowed")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad(fmt.Sprintf("port %q is not in 1-65535", p))
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, bad("empty port")
	}

	// Trim on the escaped form so that an escaped "/" (%2F) at the end is
	// kept as part of the last segment, then rebuild a consistent URL.
	escaped := strings.TrimRight(u.EscapedPath(), "/")
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, bad(err.Error())
	}
	u.Path, u.RawPath = path, ""
	if u.EscapedPath() != escaped {
		u.RawPath = escaped
	}
	u.RawFragment = ""
	return u, nil
}

// Endpoint joins a base URL and a protocol path with exactly one "/"
// between them: Endpoint("http://lb:7070/t/web-1/", "/v1/deploy") is
// "http://lb:7070/t/web-1/v1/deploy".
func Endpoint(base, path string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}
