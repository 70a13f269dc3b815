// Package guides reads the steps of a guide (docs/guides/*.md) so that a
// test can run them as written. A guide marks its steps with HTML comments,
// which the registry does not show, each on the line before a fenced block:
//
//	<!-- guide:file main.tf -->     the block is written to main.tf
//	<!-- guide:run -->              the shell block is run; it must exit 0
//	<!-- guide:run exit=2 -->       ... and exit with 2 (a failed apply: 1)
//	<!-- guide:output -->           the block must appear in the output of
//	                                the step run before it (see Matches)
//	<!-- guide:skip REASON -->      the shell block is not run, and the
//	                                guide says why it cannot be
//
// Every shell block of a guide that has steps must be marked run or skip,
// so that a command added to a guide cannot escape the test.
//
// A guide whose steps use files of the repository (a module of examples/)
// says so with a line of its own, anywhere:
//
//	<!-- guide:in-repository -->   the steps run in a copy of the repository
package guides

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Kinds of step.
const (
	KindFile   = "file"
	KindRun    = "run"
	KindOutput = "output"
	KindSkip   = "skip"
)

// Step is one marked block of a guide.
type Step struct {
	Kind string
	// Arg is the file name (file), the reason (skip).
	Arg string
	// Exit is the exit status a run step must end with.
	Exit int
	// Body is the block's content.
	Body string
	// Line is where the block starts in the guide, for messages.
	Line int
}

var marker = regexp.MustCompile(`^<!-- guide:(file|run|output|skip)(?:\s+(.*?))?\s*-->$`)

// inRepository is the line of a guide whose steps run in a copy of the
// repository.
const inRepository = "<!-- guide:in-repository -->"

// InRepository reports whether the steps of a guide run in a copy of the
// repository, as after a clone, rather than in an empty directory.
func InRepository(text string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == inRepository {
			return true
		}
	}
	return false
}

// Parse returns the marked steps of a guide, in order. It fails on a marker
// that is not followed by a fenced block, and on an unmarked shell block in
// a guide that has steps.
func Parse(text string) ([]Step, error) {
	var (
		steps     []Step
		pending   *Step
		unmarked  []int
		fence     string
		body      strings.Builder
		blockLang string
		start     int
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if fence != "" {
			if strings.TrimSpace(line) == fence {
				if pending != nil {
					pending.Body = body.String()
					steps = append(steps, *pending)
					pending = nil
				} else if blockLang == "shell" || blockLang == "sh" || blockLang == "bash" {
					unmarked = append(unmarked, start)
				}
				fence = ""
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
			continue
		}
		trimmed := strings.TrimSpace(line)
		if m := marker.FindStringSubmatch(trimmed); m != nil {
			if pending != nil {
				return nil, fmt.Errorf("line %d: guide:%s is not followed by a fenced block", pending.Line, pending.Kind)
			}
			s := &Step{Kind: m[1], Arg: m[2], Line: n}
			if s.Kind == KindRun && s.Arg != "" {
				v, ok := strings.CutPrefix(s.Arg, "exit=")
				code, err := strconv.Atoi(v)
				if !ok || err != nil {
					return nil, fmt.Errorf("line %d: guide:run takes exit=N, got %q", n, s.Arg)
				}
				s.Exit, s.Arg = code, ""
			}
			if s.Kind == KindFile && s.Arg == "" {
				return nil, fmt.Errorf("line %d: guide:file needs a file name", n)
			}
			if s.Kind == KindSkip && s.Arg == "" {
				return nil, fmt.Errorf("line %d: guide:skip needs a reason", n)
			}
			pending = s
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			fence = trimmed[:strings.LastIndex(trimmed, "`")+1]
			blockLang = strings.TrimSpace(strings.TrimPrefix(trimmed, fence))
			body.Reset()
			start = n
			if pending != nil {
				pending.Line = n + 1
			}
			continue
		}
		if pending != nil && trimmed != "" {
			return nil, fmt.Errorf("line %d: guide:%s is not followed by a fenced block", pending.Line, pending.Kind)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if pending != nil {
		return nil, fmt.Errorf("line %d: guide:%s is not followed by a fenced block", pending.Line, pending.Kind)
	}
	if len(steps) > 0 && len(unmarked) > 0 {
		return nil, fmt.Errorf("shell blocks at lines %v are neither guide:run nor guide:skip", unmarked)
	}
	return steps, nil
}

var (
	ansi   = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	frame  = regexp.MustCompile(`[│╷╵]`)
	spaces = regexp.MustCompile(`\s+`)
)

// normalize drops terminal colours and the frame the CLIs draw around a
// diagnostic, and makes every run of white space one space: the CLIs wrap
// long messages at the terminal's width.
func normalize(s string) string {
	s = frame.ReplaceAllString(ansi.ReplaceAllString(s, ""), " ")
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}

// Matches reports whether output shows expected: every non-empty line of
// expected appears in output, in order, where "…" in a line stands for any
// text and white space compares loosely. It returns the first line not
// found.
func Matches(output, expected string) (missing string, ok bool) {
	out := normalize(output)
	pos := 0
	for _, line := range strings.Split(expected, "\n") {
		want := normalize(line)
		if want == "" {
			continue
		}
		parts := strings.Split(want, "…")
		quoted := make([]string, len(parts))
		for i, p := range parts {
			quoted[i] = regexp.QuoteMeta(strings.TrimSpace(p))
		}
		re := regexp.MustCompile(strings.Join(quoted, ".*?"))
		loc := re.FindStringIndex(out[pos:])
		if loc == nil {
			return line, false
		}
		pos += loc[1]
	}
	return "", true
}
