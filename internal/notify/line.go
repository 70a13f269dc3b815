package notify

import (
	"fmt"
	"strconv"
	"strings"
)

// maxNamed is how many targets a line names.
const maxNamed = 5

// verbs say what each kind of event means in a line.
var verbs = map[string]string{
	"started":            "started",
	"stage_passed":       "passed",
	"measurement_failed": "failed a measurement at",
	"paused":             "paused at",
	"completed":          "completed",
	"failed":             "failed at",
	"rolled_back":        "rolled back at",
	"advanced":           "advanced to",
	"aborted":            "aborted at",
}

// Line is the one readable line a chat webhook gets for an event:
// "codomyrmex/web: v2 passed stage 1 (10%) · 10% of traffic · targets t1 ·
// canary, from v1".
func (s *Sender) Line(kind string, d Data) string {
	verb, ok := verbs[kind]
	if !ok {
		verb = kind
	}
	what := d.Version
	if d.Flag != "" {
		what = "flag " + d.Flag
	}
	head := fmt.Sprintf("%s: %s %s", s.source, what, verb)
	if d.Stage != "" {
		head += " " + d.Stage
	}
	parts := []string{strings.TrimSpace(head), strconv.FormatFloat(d.Percentage, 'f', -1, 64) + "% of traffic"}
	if len(d.Targets) > 0 {
		parts = append(parts, "targets "+named(d.Targets))
	}
	if d.Strategy != "" {
		from := d.Strategy
		if d.PreviousVersion != "" {
			from += ", from " + d.PreviousVersion
		}
		parts = append(parts, from)
	}
	if d.Reason != "" {
		parts = append(parts, d.Reason)
	}
	return strings.Join(strings.Fields(strings.Join(parts, " · ")), " ")
}

func named(ids []string) string {
	if len(ids) <= maxNamed {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:maxNamed], ", "), len(ids)-maxNamed)
}
