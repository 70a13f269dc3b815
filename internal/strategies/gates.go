package strategies

import (
	"fmt"
	"slices"
	"time"
)

// Gates across applies (docs/resources/deployment.md, "Analysis, bake and gates"). One apply is one run and there is no
// controller: reaching a closed gate ends the apply successfully with the
// rollout paused, and a later apply continues once an approval for the
// version, or the time, opens it.

// Gate stops a canary after the stage at At (one of the stages, below 100)
// has passed its window and analysis. With Wait it is a time gate: it opens
// Wait after it was reached. Without, it is manual: it opens when approved.
type Gate struct {
	At   float64
	Wait time.Duration
}

// Approval opens the manual gates at or below Through for one version
// (blue/green's pause_before_switch included).
type Approval struct {
	Version string
	Through float64
}

// Opening says which gates may open in an apply.
type Opening struct {
	// Paused: the prior apply paused at Request.PriorTraffic (blue/green:
	// before its switch).
	Paused bool
	// Approved: an approval for the request's version, through Through.
	Approved bool
	Through  float64
	// Due: the time gate the rollout is paused at has waited long enough.
	Due bool
	// Since is when the gate the rollout is paused at was reached;
	// ResumeAt is when it opens by the configuration now (zero for a
	// manual gate): Since plus the gate's current wait.
	Since    time.Time
	ResumeAt time.Time
}

func (o Opening) opens(g Gate, pausedAt float64) bool {
	if g.Wait > 0 {
		return o.Paused && o.Due && g.At == pausedAt
	}
	return o.Approved && g.At <= o.Through
}

// resumeAt is when the time gate at pct, reached at since, opens: since
// plus its wait, rounded up to the second (the time state shows, so a time
// gate never opens before its wait is over); zero for a manual gate or
// none.
func (c CanaryConfig) resumeAt(pct float64, since time.Time) time.Time {
	g, ok := c.gateAt(pct)
	if !ok || g.Wait <= 0 || since.IsZero() {
		return time.Time{}
	}
	at := since.Add(g.Wait)
	if t := at.Truncate(time.Second); !t.Equal(at) {
		at = t.Add(time.Second)
	}
	return at
}

// gateAt returns the gate at pct.
func (c CanaryConfig) gateAt(pct float64) (Gate, bool) {
	for _, g := range c.Gates {
		if g.At == pct {
			return g, true
		}
	}
	return Gate{}, false
}

// Until is the percentage a canary stops at in this apply: the first gate
// still closed from where it stands (the gate at its traffic included,
// paused there or not: a failed repair of a pause leaves it there with
// another status), or 100 when every gate ahead is open.
func (c CanaryConfig) Until(req Request) float64 {
	gates := slices.Clone(c.Gates)
	slices.SortFunc(gates, func(a, b Gate) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	for _, g := range gates {
		behind := g.At < req.PriorTraffic
		if behind || req.Gates.opens(g, req.PriorTraffic) {
			continue
		}
		return g.At
	}
	return 100
}

// validateGates checks that every gate stands at a stage below 100, once.
func (c CanaryConfig) validateGates() error {
	seen := map[float64]bool{}
	for i, g := range c.Gates {
		switch {
		case g.At >= 100:
			return &ConfigError{"canary.gates", fmt.Sprintf("gates[%d].at = %s: a gate must stand below 100 (at 100 the rollout is done)", i, formatPercent(g.At))}
		case !slices.Contains(c.Stages, g.At):
			return &ConfigError{"canary.gates", fmt.Sprintf("gates[%d].at = %s is not one of the stages", i, formatPercent(g.At))}
		case seen[g.At]:
			return &ConfigError{"canary.gates", fmt.Sprintf("gates[%d].at = %s: two gates at one stage", i, formatPercent(g.At))}
		case g.Wait < 0:
			return &ConfigError{"canary.gates", fmt.Sprintf("gates[%d].wait must not be negative, got %s", i, g.Wait)}
		}
		seen[g.At] = true
	}
	return nil
}

// runningVersion returns the targets that ran the version before this
// apply.
func (r *run) runningVersion() []Target {
	var out []Target
	for _, t := range r.req.Targets {
		if r.req.ran(t.ID) == r.req.Version {
			out = append(out, t)
		}
	}
	return out
}

// pause ends a rollout at a closed gate: successfully, status paused. The
// gate counts as reached now, unless the apply started paused at it (a
// repair at the gate): it keeps the time it was first reached.
func (r *run) pause(at float64, resume func(since time.Time) time.Time, phase string) *Result {
	r.res.Success = true
	r.res.Status = StatusPaused
	r.res.PausedAt = at
	r.res.PausedSince = r.env.Clock.Now()
	if g := r.req.Gates; g.Paused && at == r.req.PriorTraffic && !g.Since.IsZero() {
		r.res.PausedSince = g.Since
	}
	var why string
	if r.res.ResumeAt = resume(r.res.PausedSince); !r.res.ResumeAt.IsZero() {
		why = fmt.Sprintf("paused at %s%%: the time gate opens at %s", formatPercent(at), r.res.ResumeAt.UTC().Format(time.RFC3339))
	} else if r.res.Strategy == NameBlueGreen {
		why = fmt.Sprintf("paused before the switch: waiting for approve = { version = %q }", r.req.Version)
	} else {
		why = fmt.Sprintf("paused at %s%%: waiting for approve = { version = %q, through = %s }", formatPercent(at), r.req.Version, formatPercent(at))
	}
	r.info(phase, "%s", why)
	res := r.finalize()
	if r.env.Notify != nil {
		r.notify(NoticePaused, phase, at, r.runningVersionIDs(), why)
	}
	return res
}

// BackAtGate makes an apply that failed and left the rollout exactly where
// a paused one was before it a pause again, and returns what state then
// saves. That is a failed resume of the paused version (req.Gates.Paused),
// or a newer version rolled out on top of a paused release
// (req.Reinstate), when the failure abandoned nothing and restored every
// target and the traffic: the saved version, previous version, traffic,
// active slot and every target's version are those of the pause. The gate
// then still holds: without an approval of the version (or, for a time
// gate, once due) the next apply goes no further. Reported as failed
// instead, the gate would count as passed, and the next apply would
// continue without the approval, or (blue/green) top up the active slot
// with a version that was never switched to.
func BackAtGate(req Request, prior Prior, saved Saved, res *Result) (Saved, bool) {
	// A rollback error on a target that nonetheless reports the version it
	// ran (restored, then unhealthy) leaves the pause as it was; one on
	// traffic leaves where traffic is unknown.
	if res.Success || res.Abandoned || res.TrafficUnrestored || prior.Status != StatusPaused {
		return saved, false
	}
	switch {
	case req.Gates.Paused:
		if saved.Version != prior.Version || saved.Traffic != prior.Traffic || saved.ActiveSlot != prior.ActiveSlot {
			return saved, false
		}
	case req.Reinstate != nil:
		if res.TrafficPercentage != req.PriorTraffic || saved.ActiveSlot != prior.ActiveSlot {
			return saved, false
		}
	default:
		return saved, false
	}
	if !backWhereTheyWere(req, saved.Versions) {
		return saved, false
	}
	res.Status = StatusPaused
	res.PausedAt = prior.PausedAt // a canary's gate; 0 before a blue/green switch
	res.PausedSince, res.ResumeAt = prior.PausedSince, req.Gates.ResumeAt
	if rel := req.Reinstate; rel != nil {
		res.ResumeAt = rel.ResumeAt
	}
	return Saved{
		Version: prior.Version, PreviousVersion: prior.PreviousVersion, Traffic: prior.Traffic,
		Versions: saved.Versions, ActiveSlot: prior.ActiveSlot, Superseded: prior.Superseded,
	}, true
}
