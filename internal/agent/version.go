package agent

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxVersionLength is the longest version the default rule accepts.
const MaxVersionLength = 256

// VersionRule decides which versions the agent passes to a command. A
// deploy script often puts the version into a path
// (/opt/app/releases/$CODOMYRMEX_VERSION): the default rule keeps out what
// could escape it, and accepts release numbers and image references
// (2.1.0, ghcr.io/org/app:1.2.3, app@sha256:…).
type VersionRule struct {
	// pattern, when set, replaces the default rule: the whole version must
	// match it.
	pattern *regexp.Regexp
}

// NewVersionRule returns the default rule for "", otherwise a rule that
// accepts the versions pattern matches in full (RE2 syntax), wider or
// narrower than the default. Control characters are refused either way.
func NewVersionRule(pattern string) (VersionRule, error) {
	if pattern == "" {
		return VersionRule{}, nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return VersionRule{}, fmt.Errorf("version pattern %q: %w", pattern, err)
	}
	return VersionRule{pattern: re}, nil
}

// Check returns why version is refused, nil when it is accepted.
func (r VersionRule) Check(version string) error {
	switch {
	case version == "":
		return fmt.Errorf("version is empty")
	case !utf8.ValidString(version):
		return fmt.Errorf("version %q is not valid UTF-8", version)
	case strings.ContainsFunc(version, unicode.IsControl):
		return fmt.Errorf("version %q holds a control character", version)
	}
	if r.pattern != nil {
		if !r.pattern.MatchString(version) {
			return fmt.Errorf("version %q does not match the accepted pattern %s", version, r.pattern)
		}
		return nil
	}
	switch {
	case len(version) > MaxVersionLength:
		return fmt.Errorf("version is %d bytes long, more than %d", len(version), MaxVersionLength)
	case strings.HasPrefix(version, "-"):
		return fmt.Errorf("version %q starts with '-' (a command would read it as an option)", version)
	case strings.HasPrefix(version, "/"):
		return fmt.Errorf("version %q starts with '/' (an absolute path)", version)
	}
	for _, seg := range strings.FieldsFunc(version, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return fmt.Errorf("version %q has a '..' path segment", version)
		}
	}
	return nil
}
