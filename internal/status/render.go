package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText prints one table per resource: what state says beside what
// runs, a "!" before every row that differs, then a summary line.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	if len(r.Resources) == 0 {
		b.WriteString("No codomyrmex_deployment or codomyrmex_feature_rollout in the state.\n")
	}
	for i, res := range r.Resources {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(res.Address + ": " + strings.Join(res.facts(), ", ") + "\n")
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ITEM\tSTATE\tLIVE")
		for _, row := range res.Rows {
			mark := " "
			if row.Differs {
				mark = "!"
			}
			live := row.Live
			if row.Healthy != nil {
				if *row.Healthy {
					live += " (healthy)"
				} else {
					live += " (unhealthy)"
				}
			}
			fmt.Fprintf(tw, "%s %s\t%s\t%s\n", mark, row.Item, row.State, live)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	b.WriteString("\n" + r.Summary() + "\n")
	for _, e := range r.Errors {
		b.WriteString("  " + e + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary says in one line whether the fleet matches state.
func (r Report) Summary() string {
	switch r.ExitCode() {
	case ExitFailed:
		return fmt.Sprintf("Could not ask the fleet: %s failed.", plural(len(r.Errors), "call"))
	case ExitDiffers:
		return fmt.Sprintf("The fleet differs from state: %s (marked !).", plural(r.Differences, "difference"))
	}
	return "The fleet matches state."
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// facts are the header of a resource's table: what state says of it as a
// whole.
func (res ResourceReport) facts() []string {
	var f []string
	add := func(name, v string) {
		if v != "" && v != "-" {
			f = append(f, name+" "+v)
		}
	}
	if res.Type == TypeRollout {
		add("flag", res.FlagName)
		add("state", res.State)
		add("next_advance_at", str(res.NextAdvanceAt))
		return f
	}
	add("strategy", res.Strategy)
	add("version", res.Version)
	add("status", res.Status)
	add("paused_at", percent(res.PausedAt))
	add("resume_at", str(res.ResumeAt))
	add("traffic", percent(res.Traffic))
	return f
}

// WriteJSON prints the report as one JSON document on one line.
func WriteJSON(w io.Writer, r Report) error {
	out := struct {
		Matches bool `json:"matches"`
		Report
		ExitCode int `json:"exit_code"`
	}{r.ExitCode() == ExitMatches, r, r.ExitCode()}
	return json.NewEncoder(w).Encode(out)
}
