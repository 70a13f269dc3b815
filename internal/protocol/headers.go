package protocol

import (
	"fmt"
	"strings"
)

// validateHeaders rejects what net/http would refuse at request time. A
// value is never echoed: it may be a secret.
func validateHeaders(h map[string]string) error {
	for k, v := range h {
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
			return fmt.Errorf("headers: %q is not a valid header name", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("headers: the value of %q contains a line break or NUL", k)
		}
	}
	return nil
}

// isTokenChar reports whether r may appear in a header name (RFC 9110 tchar).
func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}
