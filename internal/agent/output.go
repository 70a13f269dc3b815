package agent

import (
	"io"
	"strings"
)

// tailBuffer keeps the last max bytes written to it. exec.Cmd serialises
// writes when Stdout and Stderr are the same *tailBuffer.
type tailBuffer struct {
	max int
	buf []byte // up to 2*max bytes, of which the last max count
}

var _ io.Writer = (*tailBuffer)(nil)

// Write keeps up to twice max bytes and drops the older half only then, so
// a chatty command costs O(1) per byte instead of a copy of max bytes per
// write.
func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= b.max {
		p, b.buf = p[len(p)-b.max:], b.buf[:0]
	}
	if len(b.buf)+len(p) > 2*b.max {
		// Keep what, with p, makes the last max bytes.
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-(b.max-len(p)):]...)
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

// tail is the last max bytes written.
func (b *tailBuffer) tail() []byte {
	return b.buf[max(0, len(b.buf)-b.max):]
}

// logTail is the bounded tail of the output for a log line: the last
// logTailLines non-empty lines, at most logTailBytes, "" when there was no
// output.
func (b *tailBuffer) logTail() string {
	lines := b.nonEmptyLines()
	lines = lines[max(0, len(lines)-logTailLines):]
	s := strings.Join(lines, "\n")
	if len(s) > logTailBytes {
		s = "…" + strings.ToValidUTF8(s[len(s)-logTailBytes:], "")
	}
	return s
}

// nonEmptyLines are the output's lines, trailing white space removed,
// empty ones skipped.
func (b *tailBuffer) nonEmptyLines() []string {
	var lines []string
	for _, l := range strings.Split(strings.ToValidUTF8(string(b.tail()), "?"), "\n") {
		if l = strings.TrimRight(l, "\r \t"); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// lastLines formats the last n non-empty lines for an error message, or ""
// when there was no output.
func (b *tailBuffer) lastLines(n int) string {
	lines := b.nonEmptyLines()
	if len(lines) == 0 {
		return " (no output)"
	}
	lines = lines[max(0, len(lines)-n):]
	return "; last output:\n" + strings.Join(lines, "\n")
}
