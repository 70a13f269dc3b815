package protocol

import "strings"

// redactedText replaces the token where a server may have echoed it.
const redactedText = "[REDACTED]"

// redactedError hides the client's token in the message of an error that
// quotes what a server answered (a careless server may echo the request's
// Authorization header in its error body); errors.Is and errors.As still
// see the error it wraps.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact keeps the token out of err's message. Every error a public method
// returns goes through it.
func (c *Client) redact(err error) error {
	if err == nil || c.token == "" {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, c.token) {
		return err
	}
	return &redactedError{err: err, msg: c.scrub(msg)}
}

// scrub replaces the token in s, text that came from a server.
func (c *Client) scrub(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, redactedText)
}
