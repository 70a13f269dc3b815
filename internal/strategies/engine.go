package strategies

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
)

// maxListed caps how many target ids a message names and how many per-target
// errors are copied into Result.Errors; Outcomes always hold all of them.
const maxListed = 10

// IdleSlot returns the blue/green slot that receives a new version while
// active serves traffic. With no active slot (a new deployment) it is green.
func IdleSlot(active string) string {
	if active == SlotGreen {
		return SlotBlue
	}
	return SlotGreen
}

// Pending returns the targets that strategy name deploys for req, in rollout
// order: those whose req.Current entry differs from req.Version (a target
// missing from Current counts as different). For blue_green only targets of
// the idle slot are pending (of the active slot with req.TopUp). Execute
// deploys exactly these targets, in this order, so the list can be shown at
// plan time.
func Pending(name string, req Request) []Target {
	return pendingFor(rulesFor(name, Config{}), req)
}

// pendingFor is Pending by the rules of a strategy.
func pendingFor(rules fleetRules, req Request) []Target {
	slot := rules.deploySlot(req)
	var out []Target
	for _, t := range req.Targets {
		if slot != "" && t.Slot != slot {
			continue
		}
		if v, ok := req.Current[t.ID]; ok && v == req.Version {
			continue
		}
		out = append(out, t)
	}
	return out
}

// ran is the version target id ran before the apply, "" when unknown.
func (req Request) ran(id string) string {
	if v, ok := req.Current[id]; ok {
		return v
	}
	return req.Before[id]
}

// known merges Before and Current: every version known before the apply.
func (req Request) known() Versions {
	out := make(Versions, len(req.Current)+len(req.Before))
	maps.Copy(out, req.Before)
	maps.Copy(out, req.Current)
	return out
}

func (e Env) withDefaults() Env {
	if e.Clock == nil {
		e.Clock = clock.Real()
	}
	if e.Limit == nil {
		e.Limit = NewLimiter(DefaultConcurrency)
	}
	if e.Poll == nil {
		e.Poll = e.Health
	}
	return e
}

// cancelCause is ctx's cause, or context.Canceled for a context that is not
// done (a limiter refused a slot for another reason).
func cancelCause(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return context.Canceled
}

// listIDs joins ids for a message, naming at most maxListed of them.
func listIDs(ids []string) string {
	if len(ids) <= maxListed {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:maxListed], ", "), len(ids)-maxListed)
}

func describeIDs(ids []string, none string) string {
	if len(ids) == 0 {
		return none
	}
	return listIDs(ids)
}

// nOf prints n things: "1 target", "2 targets" (one is the singular;
// the plural adds an s).
func nOf(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + one + "s"
}

// formatPercent prints a percentage without trailing zeros: 25, 12.5.
func formatPercent(p float64) string {
	return strconv.FormatFloat(p, 'f', -1, 64)
}
