package strategies

import "time"

// PriorAfter is the state an apply that ended with res and saved saved
// leaves, as the next plan (made at now) sees it.
func PriorAfter(strategy string, targets []Target, saved Saved, res *Result, now time.Time) Prior {
	return Prior{
		Strategy: strategy, Version: saved.Version, PreviousVersion: saved.PreviousVersion, Status: res.Status,
		Traffic: saved.Traffic, ActiveSlot: saved.ActiveSlot, Targets: targets, Versions: saved.Versions,
		PausedAt: res.PausedAt, PausedSince: res.PausedSince, Superseded: saved.Superseded, Now: now,
	}
}

// Saved is what state records after an apply.
type Saved struct {
	// Version is the configured version when every active target runs it.
	// After a failure it is one that makes the next plan propose the
	// configured version again; a failed repair (version unchanged) keeps
	// the saved version and previous_version as they were.
	Version         string
	PreviousVersion string
	// Traffic is the share of traffic on Version.
	Traffic float64
	// Versions is target_versions: what each listed target reports.
	Versions   Versions
	ActiveSlot string
	// Superseded: Prior.Superseded after the apply.
	Superseded []Release
}

// AfterApply decides what an apply of req (strategy, on top of prior) that
// ended with res saves.
func AfterApply(strategy string, req Request, prior Prior, res *Result) Saved {
	rules := rulesFor(strategy, Config{})
	fleet := req.known().AfterRollout(res)
	slot := res.ActiveSlot
	if slot == "" {
		slot = req.ActiveSlot
	}
	s := Saved{Version: req.Version, PreviousVersion: req.PreviousVersion, Traffic: res.TrafficPercentage, Versions: fleet, ActiveSlot: slot}
	// A paused release stays below the version until it completes.
	s.Superseded = superseding(prior.Superseded, req.Reinstate)
	if res.Status == StatusCompleted {
		s.Superseded = nil
	}
	if res.Success {
		return s
	}
	if rel := req.Reinstate; rel != nil && !res.Abandoned && backWhereTheyWere(req, fleet) {
		// A newer version failed on top of a paused release and every
		// target runs what it ran: the fleet is that release's, whose
		// traffic this apply could not give back for certain (BackAtGate
		// makes it a pause again when it could).
		s.Version, s.PreviousVersion, s.Traffic, s.Superseded = rel.Version, rel.PreviousVersion, rel.Traffic, prior.Superseded
		if rel.ActiveSlot != "" {
			s.ActiveSlot = rel.ActiveSlot
		}
		return s
	}
	if prior.Exists() && prior.Version == req.Version && !res.Abandoned {
		s.Version, s.PreviousVersion = prior.Version, prior.PreviousVersion
	} else {
		s.Version = fleet.Claim(req.Version, rules.active(req.Targets, slot))
		switch {
		case prior.Exists() && s.Version == prior.Version:
			// The fleet is back where it was: so is the version to roll back to.
			s.PreviousVersion = prior.PreviousVersion
		case res.Abandoned:
			// The version was rolled back everywhere, earlier applies
			// included: the fleet runs what was previous_version, and
			// what came before that is not known.
			s.PreviousVersion = ""
		}
	}
	if s.Version != req.Version {
		s.Traffic = rules.trafficOn(s.Version, req.Targets, fleet, res.TrafficPercentage)
	}
	return s
}

// backWhereTheyWere: every target of req runs the version it ran before
// the apply.
func backWhereTheyWere(req Request, fleet Versions) bool {
	for _, t := range req.Targets {
		if fleet[t.ID] != req.ran(t.ID) {
			return false
		}
	}
	return true
}

// AfterRevert decides what a revert (Plan.Revert) that ended with res
// saves: version, once no target runs the abandoned one; otherwise what
// AfterApply would save of a failed rollout of version.
func AfterRevert(strategy string, p Plan, prior Prior, res *Result) Saved {
	rules := rulesFor(strategy, Config{})
	req := p.Request
	fleet := req.known().AfterRollout(res)
	slot := res.ActiveSlot
	if slot == "" {
		slot = prior.ActiveSlot
	}
	s := Saved{Version: req.Version, PreviousVersion: req.PreviousVersion, Versions: fleet, ActiveSlot: slot, Superseded: prior.Superseded}
	if rel := p.RevertRequest.Reinstate; rel != nil && res.Success {
		// The paused release is back as it was.
		s.Traffic, s.Superseded = rel.Traffic, prior.Superseded[:len(prior.Superseded)-1]
		if rel.ActiveSlot != "" {
			s.ActiveSlot = rel.ActiveSlot
		}
		res.Status, res.PausedAt, res.PausedSince, res.ResumeAt = StatusPaused, rel.PausedAt, rel.Since, rel.ResumeAt
		return s
	}
	if !res.Success {
		s.Version = fleet.Claim(req.Version, rules.active(req.Targets, slot))
		if s.Version == prior.Version {
			s.PreviousVersion = prior.PreviousVersion
		}
	}
	s.Traffic = res.TrafficPercentage
	if s.Version != prior.Version {
		s.Traffic = rules.trafficOn(s.Version, req.Targets, fleet, res.TrafficPercentage)
	}
	return s
}

// ActiveTargets are the targets that must run the version for state to
// claim it: the active slot for blue/green, every target otherwise.
func ActiveTargets(strategy string, targets []Target, activeSlot string) []Target {
	return rulesFor(strategy, Config{}).active(targets, activeSlot)
}
