package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets of the issue, checked when the run has the matching fleet.
const (
	targetApplyFleet   = 1000
	targetApplyRatio   = 1.10
	targetReadFleet    = 5000
	targetReadTime     = 3 * time.Second
	targetPeakRSS      = 200 << 20
	targetApplyBatch   = 100
	targetApplyLimit   = 100
	targetApplyLatency = 50 * time.Millisecond
)

// WriteMarkdown writes the report: machine, command, one table with every
// fleet side by side, and the targets.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	m := r.Machine
	fmt.Fprintf(&b, "### Machine\n\n")
	fmt.Fprintf(&b, "- %d CPUs, %s; Linux %s\n", m.CPUs, orDash(m.CPUModel), orDash(m.Kernel))
	fmt.Fprintf(&b, "- %s; %s\n", orDash(m.GoVersion), orDash(m.CLIVersion))
	fmt.Fprintf(&b, "- load average before / after: %s / %s\n", orDash(m.LoadBefore), orDash(m.LoadAfter))
	fmt.Fprintf(&b, "- run started %s, took %s\n\n", r.Started.UTC().Format(time.RFC3339), r.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "### Command\n\n```\n%s\n```\n\n", r.Command)
	fmt.Fprintf(&b, "Rolling strategy, batch_size = %d, max_concurrency = %d, batch_delay = %s, health_check.interval = %s; "+
		"the simulator adds %s to every call (deploy and health alike). Times are wall-clock times of the whole CLI "+
		"command; provider CPU is user + system time of every provider process the command started.\n\n",
		c.BatchSize, c.MaxConcurrency, c.BatchDelay, c.HealthInterval, c.Latency)

	head := []string{""}
	for _, f := range r.Fleets {
		head = append(head, fmt.Sprintf("N = %d", f.Targets))
	}
	rows := [][]string{head, make([]string, len(head))}
	for i := range rows[1] {
		rows[1][i] = "---"
	}
	row := func(label string, cell func(f FleetResult) string) {
		cells := []string{label}
		for _, f := range r.Fleets {
			cells = append(cells, cell(f))
		}
		rows = append(rows, cells)
	}
	row("**apply** (saved plan, N deploys + N health calls)", func(f FleetResult) string { return "**" + seconds(f.Apply.Wall) + "**" })
	row("ideal bound ⌈N / min(B, max_concurrency)⌉ × 2L + delays", func(f FleetResult) string { return seconds(f.ApplyIdeal) })
	row("**measured / ideal**", func(f FleetResult) string { return "**" + ratio(f.Apply.Wall, f.ApplyIdeal) + "**" })
	row("apply overhead (measured − ideal)", func(f FleetResult) string { return seconds(f.Apply.Wall - f.ApplyIdeal) })
	row("engine rollout time (`duration_ms`) / ideal", func(f FleetResult) string {
		return seconds(f.EngineDuration) + " (" + ratio(f.EngineDuration, f.ApplyIdeal) + ")"
	})
	row("**plan** `-refresh=false`, new version (N changed_targets)", func(f FleetResult) string { return "**" + seconds(f.Plan.Wall) + "**" })
	row("plan with refresh, converged (no change)", func(f FleetResult) string { return seconds(f.PlanNoChange.Wall) })
	row("**refresh** (`apply -refresh-only`)", func(f FleetResult) string { return "**" + seconds(f.Refresh.Wall) + "**" })
	row("refresh network floor ⌈N / max_concurrency⌉ × L", func(f FleetResult) string { return seconds(f.RefreshFloor) })
	row("create (reads N versions, deploys nothing)", func(f FleetResult) string { return seconds(f.Create.Wall) })
	row("provider CPU: apply / plan / refresh", func(f FleetResult) string {
		return cpu(f.Apply) + " / " + cpu(f.Plan) + " / " + cpu(f.Refresh)
	})
	row("CLI's own CPU: apply / plan / refresh", func(f FleetResult) string {
		return cliCPU(f.Apply) + " / " + cliCPU(f.Plan) + " / " + cliCPU(f.Refresh)
	})
	row("**provider peak RSS** (any command)", func(f FleetResult) string { return "**" + mib(f.peakRSS()) + "**" })
	row("sequential baseline apply (B = 1, max_concurrency = 1)", func(f FleetResult) string {
		if f.Sequential == nil {
			return "not run"
		}
		return seconds(f.Sequential.Apply.Wall)
	})
	row("sequential ideal N × 2L / measured ÷ ideal", func(f FleetResult) string {
		if f.Sequential == nil {
			return "–"
		}
		return seconds(f.Sequential.Ideal) + " / " + ratio(f.Sequential.Apply.Wall, f.Sequential.Ideal)
	})
	row("sequential ÷ batched apply", func(f FleetResult) string {
		if f.Sequential == nil {
			return "–"
		}
		return ratio(f.Sequential.Apply.Wall, f.Apply.Wall)
	})
	row(fmt.Sprintf("apply with batch_delay = %s: measured / ideal", c.DelayedBatchDelay), func(f FleetResult) string {
		if f.Delayed == nil {
			return "not run"
		}
		return seconds(f.Delayed.Apply.Wall) + " / " + seconds(f.Delayed.Ideal) + " = " + ratio(f.Delayed.Apply.Wall, f.Delayed.Ideal)
	})
	writeTable(&b, rows)

	if checks := r.targetChecks(); len(checks) > 0 {
		b.WriteString("\n### Targets\n\n")
		writeTable(&b, append([][]string{{"target", "measured", "met"}, {"---", "---", "---"}}, checks...))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// targetChecks compares the run with the targets, for the fleets
// and settings the targets are stated for.
func (r *Report) targetChecks() [][]string {
	var out [][]string
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	c := r.Config
	for _, f := range r.Fleets {
		if f.Targets == targetApplyFleet && c.BatchSize == targetApplyBatch && c.MaxConcurrency == targetApplyLimit && c.Latency == targetApplyLatency {
			got := float64(f.Apply.Wall) / float64(f.ApplyIdeal)
			out = append(out, []string{
				fmt.Sprintf("apply of %d targets (B = %d, max_concurrency = %d, L = %s) within %.2f× of the ideal bound",
					f.Targets, c.BatchSize, c.MaxConcurrency, c.Latency, targetApplyRatio),
				fmt.Sprintf("%s (%s vs %s)", ratio(f.Apply.Wall, f.ApplyIdeal), seconds(f.Apply.Wall), seconds(f.ApplyIdeal)),
				yes(got <= targetApplyRatio),
			})
			if d := f.Delayed; d != nil {
				got := float64(d.Apply.Wall) / float64(d.Ideal)
				out = append(out, []string{
					fmt.Sprintf("the same with batch_delay = %s (the delays count in the ideal bound)", c.DelayedBatchDelay),
					fmt.Sprintf("%s (%s vs %s)", ratio(d.Apply.Wall, d.Ideal), seconds(d.Apply.Wall), seconds(d.Ideal)),
					yes(got <= targetApplyRatio),
				})
			}
		}
		if f.Targets == targetReadFleet {
			out = append(out,
				[]string{fmt.Sprintf("refresh of %d targets under %s", f.Targets, seconds(targetReadTime)),
					fmt.Sprintf("%s (network floor %s at max_concurrency %d)", seconds(f.Refresh.Wall), seconds(f.RefreshFloor), c.MaxConcurrency),
					yes(f.Refresh.Wall < targetReadTime)},
				[]string{fmt.Sprintf("plan of %d targets under %s", f.Targets, seconds(targetReadTime)),
					fmt.Sprintf("%s (`-refresh=false`, new version); %s with refresh, no change", seconds(f.Plan.Wall), seconds(f.PlanNoChange.Wall)),
					yes(f.Plan.Wall < targetReadTime)},
			)
			if rss := f.peakRSS(); rss > 0 {
				out = append(out, []string{fmt.Sprintf("provider peak RSS at %d targets under %s", f.Targets, mib(targetPeakRSS)),
					mib(rss), yes(rss < targetPeakRSS)})
			}
		}
	}
	return out
}

// peakRSS is the highest RSS of any provider process on this fleet.
func (f FleetResult) peakRSS() int64 {
	peak := int64(0)
	for _, m := range []Measure{f.Create, f.Plan, f.Apply, f.PlanNoChange, f.Refresh} {
		peak = max(peak, m.Provider.PeakRSS)
	}
	for _, extra := range []*ExtraApply{f.Sequential, f.Delayed} {
		if extra != nil {
			peak = max(peak, extra.Apply.Provider.PeakRSS)
		}
	}
	return peak
}

func writeTable(b *strings.Builder, rows [][]string) {
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func cpu(m Measure) string {
	if m.Provider.Processes == 0 {
		return "–"
	}
	return seconds(m.Provider.CPU)
}

func cliCPU(m Measure) string {
	if m.Provider.Processes == 0 || m.CPU == 0 {
		return "–"
	}
	return seconds(m.CLICPU())
}

func mib(bytes int64) string {
	if bytes <= 0 {
		return "–"
	}
	return fmt.Sprintf("%d MiB", bytes>>20)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
