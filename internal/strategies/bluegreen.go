package strategies

import (
	"context"
	"fmt"
	"time"
)

// BlueGreenStrategy deploys the new version to the idle slot and, once every
// target of that slot is healthy, switches traffic to it. A failure before
// the switch leaves traffic untouched.
type BlueGreenStrategy struct {
	commonRules
	cfg BlueGreenConfig
}

// checkSlots verifies that every target has a slot and both slots are used.
func checkSlots(req Request) error {
	var bad []string
	used := map[string]bool{}
	for _, t := range req.Targets {
		if t.Slot != SlotBlue && t.Slot != SlotGreen {
			bad = append(bad, t.ID)
			continue
		}
		used[t.Slot] = true
	}
	switch {
	case len(bad) > 0:
		return fmt.Errorf("blue_green needs slot %q or %q on every target; missing or invalid on %s", SlotBlue, SlotGreen, listIDs(bad))
	case !used[SlotBlue] || !used[SlotGreen]:
		return fmt.Errorf("blue_green needs targets in both slots, %q and %q", SlotBlue, SlotGreen)
	case req.ActiveSlot != "" && req.ActiveSlot != SlotBlue && req.ActiveSlot != SlotGreen:
		return fmt.Errorf("active slot %q is neither %q nor %q", req.ActiveSlot, SlotBlue, SlotGreen)
	case req.TopUp && req.ActiveSlot == "":
		return fmt.Errorf("a top-up of the active slot needs an active slot")
	}
	return nil
}

// Execute deploys req.Version to the idle slot, then switches to it. A
// top-up (req.TopUp) deploys to the active slot, which already serves the
// version, and switches nothing.
func (s *BlueGreenStrategy) Execute(ctx context.Context, req Request, env Env) *Result {
	r, pending, rejected := begin(NameBlueGreen, s, req, env, func(*run) error { return checkSlots(req) })
	if rejected != nil {
		return rejected
	}
	slot, which := IdleSlot(req.ActiveSlot), "idle"
	if req.TopUp {
		slot, which = req.ActiveSlot, "active"
	}
	// Before the switch, traffic never left the active slot: restoring the
	// targets deployed here is all there is to undo.
	restore := func(ctx context.Context, targets []Target) bool {
		return r.restoreBlueGreen(ctx, targets, req.ActiveSlot, false)
	}

	phase := slot + " slot"
	r.notifyStarted(pending)
	if len(pending) > 0 {
		if ctx.Err() != nil {
			return r.cancelled(ctx, phase, restore, false)
		}
		r.info(phase, "deploying %s to %s of the %s %s slot", req.Version, nOf(len(pending), "target"), which, slot)
		st := r.deployPhase(ctx, pending, phase)
		if st.notStarted > 0 {
			return r.cancelled(ctx, phase, restore, false)
		}
		if len(st.failed) > 0 {
			where := "no traffic was switched"
			if req.ActiveSlot != "" {
				where = "traffic stays on " + req.ActiveSlot
			}
			cause := fmt.Errorf("%s: %s failed; %s", phase, listIDs(st.failed), where)
			return r.fail(ctx, phase, cause, restore, false)
		}
		r.notifyPassed(phase, r.res.TrafficPercentage, pending)
	}
	if req.TopUp {
		// Traffic went to this slot before, during and after.
		r.res.ActiveSlot = slot
		r.res.TrafficPercentage = 100
		if res := r.measureWindow(ctx, bake(req, 100, restore, false)); res != nil {
			return res
		}
		return r.complete()
	}

	if ctx.Err() != nil {
		return r.cancelled(ctx, "switch", restore, false)
	}
	if s.cfg.PauseBeforeSwitch && !req.Gates.Approved {
		// The idle slot runs the version, healthy; traffic stays where it
		// is until the version is approved.
		return r.pause(0, func(time.Time) time.Time { return time.Time{} }, "switch")
	}
	if r.env.Switch != nil {
		r.info("switch", "switching traffic to the %s slot (%s)", slot, req.Version)
		if err := r.env.Switch(ctx, slot, req.Version); err != nil {
			// The router may have switched before the call failed: point it
			// back at the old slot when there is one.
			back := req.ActiveSlot != ""
			restore := func(ctx context.Context, targets []Target) bool {
				return r.restoreBlueGreen(ctx, targets, req.ActiveSlot, back)
			}
			return r.fail(ctx, "switch", fmt.Errorf("switch: switching traffic to %s: %w", slot, err), restore, back)
		}
	}
	r.res.ActiveSlot = slot
	r.res.TrafficPercentage = 100
	// A bad bake switches back to the slot that served before.
	back := req.ActiveSlot != ""
	restoreSwitched := func(ctx context.Context, targets []Target) bool {
		return r.restoreBlueGreen(ctx, targets, req.ActiveSlot, back)
	}
	if res := r.measureWindow(ctx, bake(req, 100, restoreSwitched, back)); res != nil {
		return res
	}
	return r.complete()
}

// restoreBlueGreen restores the previous version. With switchBack, the
// targets of slot back are restored first, traffic is switched to that slot
// only when they all are, and the other targets are restored afterwards, once
// they serve no traffic. If the switch cannot be made they are left alone:
// downgrading the slot that may still serve traffic is worse than a failed
// rollback.
func (r *run) restoreBlueGreen(ctx context.Context, targets []Target, back string, switchBack bool) bool {
	var first, rest []Target
	for _, t := range targets {
		if switchBack && t.Slot == back {
			first = append(first, t)
		} else {
			rest = append(rest, t)
		}
	}
	ok := r.restoreTargets(ctx, first)
	if switchBack {
		prev := r.req.PreviousVersion
		var why error
		switch {
		case !ok:
			why = fmt.Errorf("traffic not switched back to %s: its targets did not all come back at %s", back, prev)
		case r.env.Switch != nil:
			version := r.slotVersion(back, prev)
			r.info("rollback", "switching traffic back to the %s slot (%s)", back, version)
			if err := r.env.Switch(ctx, back, version); err != nil {
				why = fmt.Errorf("switching traffic back to %s: %w", back, err)
			}
		}
		if why != nil {
			// Shown as a rollback error: no "rollback:" prefix of its own.
			r.res.RollbackErrors = append(r.res.RollbackErrors, why)
			r.res.TrafficUnrestored = true
			r.errorEvent("rollback", "", prev, "traffic not switched back", why)
			r.leaveUnrestored(rest, why)
			return false
		}
		r.res.ActiveSlot = back
		r.res.TrafficPercentage = 0
	}
	return r.restoreTargets(ctx, rest) && ok
}

// slotVersion is the version every target of slot runs now, or def when
// they do not agree (or the slot has none).
func (r *run) slotVersion(slot, def string) string {
	version := ""
	for _, t := range r.req.Targets {
		if t.Slot != slot {
			continue
		}
		v := r.outcome(t).Version
		if version != "" && v != version {
			return def
		}
		version = v
	}
	if version == "" {
		return def
	}
	return version
}

// Rollback switches traffic from req.ActiveSlot back to the other slot and
// restores req.PreviousVersion on targets: those of the other slot first, so
// the switch goes to healthy targets, the rest after it.
func (s *BlueGreenStrategy) Rollback(ctx context.Context, req Request, env Env, targets []Target) *Result {
	return rollbackOnly(ctx, NameBlueGreen, req, env, targets, func(r *run, ctx context.Context) bool {
		if req.ActiveSlot == "" {
			return r.restoreTargets(ctx, targets)
		}
		return r.restoreBlueGreen(ctx, targets, IdleSlot(req.ActiveSlot), true)
	})
}

// deploySlot is the idle slot, or the active one on a top-up.
func (*BlueGreenStrategy) deploySlot(req Request) string {
	if req.TopUp {
		return req.ActiveSlot
	}
	return IdleSlot(req.ActiveSlot)
}

// opened: approved, or pause_before_switch turned off.
func (s *BlueGreenStrategy) opened(req Request) bool {
	return req.Gates.Paused && (req.Gates.Approved || !s.cfg.PauseBeforeSwitch)
}

func (s *BlueGreenStrategy) trafficOwed(_ Prior, req Request, versionChanged bool) bool {
	return versionChanged || s.opened(req)
}

// keepSlot keeps the active slot. An update that keeps the version only
// brings the active slot's new targets up to it; it switches nothing (also
// after a failed top-up: state kept the version). Paused before its
// switch, the version is in the idle slot: not a top-up; nor after a failed
// repair of that pause, when the version still has no traffic.
func (*BlueGreenStrategy) keepSlot(req *Request, prior Prior, versionChanged bool) {
	if prior.ActiveSlot == "" {
		return
	}
	req.ActiveSlot = prior.ActiveSlot
	req.TopUp = !versionChanged && !req.Gates.Paused && prior.Traffic > 0
}

// revertSlot: traffic moved to the abandoned version only if its slot
// serves.
func (s *BlueGreenStrategy) revertSlot(prior Prior, targets []Target, current Versions) string {
	for _, t := range s.active(targets, prior.ActiveSlot) {
		if prior.ActiveSlot != "" && current[t.ID] == prior.Version {
			return prior.ActiveSlot
		}
	}
	return ""
}

// active is the active slot (every target before the first switch).
func (*BlueGreenStrategy) active(targets []Target, activeSlot string) []Target {
	if activeSlot == "" {
		return targets
	}
	var out []Target
	for _, t := range targets {
		if t.Slot == activeSlot {
			out = append(out, t)
		}
	}
	return out
}

// trafficOn: the switch to the new slot did not stay: the old one serves.
func (*BlueGreenStrategy) trafficOn(string, []Target, Versions, float64) float64 { return 100 }

// destroySlot is none for a rollout paused before its switch, whose
// traffic never moved (Rollback then switches nothing).
func (*BlueGreenStrategy) destroySlot(status Status, activeSlot string) string {
	if status == StatusPaused {
		return ""
	}
	return activeSlot
}

// destroyTargets is the idle slot (the switch back then goes to it); the
// active one is left to Rollback.
func (*BlueGreenStrategy) destroyTargets(targets []Target, _ Versions, _, activeSlot string) []Target {
	var out []Target
	for _, t := range targets {
		if activeSlot == "" || t.Slot != activeSlot {
			out = append(out, t)
		}
	}
	return out
}
