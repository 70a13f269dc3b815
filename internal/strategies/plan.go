package strategies

import (
	"maps"
	"slices"
	"time"
)

// The rules about what the fleet runs and what state may claim about it.
// The provider translates Terraform values to and from these; every
// decision is made here, so that plan, apply, refresh and destroy share it
// and it is tested as plain Go.

// Prior is what state recorded before an apply (zero on create), and when
// the plan is made.
type Prior struct {
	Strategy        string
	Version         string
	PreviousVersion string
	Status          Status
	Traffic         float64 // traffic_percentage: the share of traffic on Version
	ActiveSlot      string  // blue/green
	Targets         []Target
	Versions        Versions // target_versions
	// PausedAt is the gate a paused rollout waits at (paused_at), and
	// PausedSince when it was reached: a time gate opens its current wait
	// later.
	PausedAt    float64
	PausedSince time.Time
	// Superseded are the paused releases newer versions were rolled out on
	// top of, the most recent last: a revert to one restores it.
	Superseded []Release
	// Now is the time the plan decides at: the time of the refresh it was
	// made from (or of the last apply), never the apply's clock, so that a
	// saved plan applied later does what it showed.
	Now time.Time
}

// Release is a rollout paused at a gate that a newer version was rolled
// out on top of: what a revert to it, or a failure of the newer version,
// restores.
type Release struct {
	Version         string    `json:"version"`
	PreviousVersion string    `json:"previous_version,omitempty"`
	PausedAt        float64   `json:"paused_at"`
	Traffic         float64   `json:"traffic"`
	Since           time.Time `json:"paused_since"`
	ActiveSlot      string    `json:"active_slot,omitempty"`
	// Versions are what the targets that did not run PreviousVersion ran
	// (by id), the release's own targets among them.
	Versions map[string]string `json:"versions,omitempty"`
	// ResumeAt is when its gate opens by the configuration now (zero for a
	// manual gate); the plan computes it.
	ResumeAt time.Time `json:"-"`
}

// maxSuperseded bounds the paused releases state remembers.
const maxSuperseded = 5

// release is the paused rollout prior describes, as a Release.
func (p Prior) release() Release {
	rel := Release{
		Version: p.Version, PreviousVersion: p.PreviousVersion, PausedAt: p.PausedAt, Traffic: p.Traffic,
		Since: p.PausedSince, ActiveSlot: p.ActiveSlot, Versions: map[string]string{},
	}
	for _, t := range p.Targets {
		if v := p.Versions[t.ID]; v != "" && v != p.PreviousVersion {
			rel.Versions[t.ID] = v
		}
	}
	return rel
}

// RestoreTo is what a revert to rel puts back on target id: what it ran
// when rel was superseded, or rel's previous version (rel itself when that
// is unknown).
func (rel *Release) RestoreTo(id string) string {
	if v, ok := rel.Versions[id]; ok {
		return v
	}
	if rel.PreviousVersion != "" {
		return rel.PreviousVersion
	}
	return rel.Version
}

// superseding is the stack of paused releases after a rollout on top of
// prior that pushed rel (nil: none), at most maxSuperseded, oldest first.
func superseding(stack []Release, rel *Release) []Release {
	if rel == nil {
		return stack
	}
	out := append(slices.Clone(stack), *rel)
	if len(out) > maxSuperseded {
		out = out[len(out)-maxSuperseded:]
	}
	return out
}

// Unknown returns the targets of req whose version before the apply Current
// does not know: the apply reads them into Request.Before.
func Unknown(req Request) []Target {
	var out []Target
	for _, t := range req.Targets {
		if _, ok := req.Current[t.ID]; !ok {
			out = append(out, t)
		}
	}
	return out
}

// Exists reports whether there is a prior state (an update, not a create).
func (p Prior) Exists() bool { return p.Version != "" || len(p.Targets) > 0 }

// Plan is what an apply of version onto prior will do, decided at plan
// time from configuration and state alone.
type Plan struct {
	Request Request
	// Pending are the targets the apply deploys, in rollout order
	// (changed_targets).
	Pending []Target
	// VersionChanged: the configured version differs from the saved one.
	VersionChanged bool
	// TrafficOwed: the apply has a traffic step to make even when no target
	// is pending (a switch, weights or a flag a previous apply did not
	// finish).
	TrafficOwed bool
	// Unread are targets that are not pending but whose version state does
	// not know (added to the idle blue/green slot, or given another
	// address there): the apply reads them, so that state says what they
	// run.
	Unread []Target
	// Revert: version went back to previous_version while the rollout of
	// the saved one was paused or had failed. The apply takes the
	// abandoned version's traffic away, then puts version back on Pending
	// (the targets running the abandoned one): no stages, gates or bakes.
	// RevertRequest is what it hands to Strategy.Rollback, with
	// RevertTargets: every target running the abandoned version. Pending
	// are those of them that get version back; when version was itself a
	// paused release (RevertRequest.Reinstate) the others get back what
	// they ran before.
	Revert        bool
	RevertRequest Request
	RevertTargets []Target
	// FollowUp is what the apply does once the revert succeeded, when the
	// next plan would do something on the fleet the revert leaves: deploy
	// targets added in the same apply, repair a restored paused release at
	// its gate. Its pending targets are in Pending too.
	FollowUp *Plan
}

// Work reports whether the apply calls the fleet at all. When it does not,
// the apply is a change of settings alone and keeps the last outcome.
func (p Plan) Work() bool { return len(p.Pending) > 0 || p.TrafficOwed || len(p.Unread) > 0 }

// NewPlan decides what applying strategy at version onto prior does. On
// create (no prior) every target of the rollout is deployed: the plan
// cannot read the fleet, and a deploy of the version a target already runs
// is a no-op. The request's PreviousVersion is the one of an update; a
// create learns it from the fleet (DetectPreviousVersion). The apply fills
// Request.Before with what the targets Current does not know report.
func NewPlan(strategy string, cfg Config, version string, targets []Target, prior Prior) Plan {
	rules := rulesFor(strategy, cfg)
	req := Request{Version: version, Targets: targets}
	if a := cfg.Approve; a != nil && a.Version == version {
		req.Gates.Approved, req.Gates.Through = true, a.Through
	}
	if !prior.Exists() {
		return Plan{Request: req, Pending: rules.gated(req, pendingFor(rules, req)), VersionChanged: true}
	}
	p := Plan{VersionChanged: prior.Version != version}
	req.Current = prior.Versions.SameAddress(prior.Targets, targets)
	if revert, ok := revertPlan(rules, strategy, version, targets, req.Current, prior); ok {
		follow := NewPlan(strategy, cfg, version, targets, priorAfterRevert(rules, strategy, revert, prior))
		if follow.Work() {
			revert.FollowUp = &follow
			for _, t := range follow.Pending {
				if !slices.ContainsFunc(revert.Pending, func(p Target) bool { return p.ID == t.ID }) {
					revert.Pending = append(revert.Pending, t)
				}
			}
			revert.Unread = follow.Unread
		}
		return revert
	}
	req.PreviousVersion = prior.PreviousVersion
	if p.VersionChanged {
		req.PreviousVersion = prior.Version
	}
	req.Gates.Paused = prior.Status == StatusPaused && !p.VersionChanged && prior.Strategy == strategy
	if req.Gates.Paused {
		req.Gates.Since = prior.PausedSince
		req.Gates.ResumeAt = rules.resumeAt(prior.release())
		req.Gates.Due = !req.Gates.ResumeAt.IsZero() && !prior.Now.Before(req.Gates.ResumeAt)
	}
	if p.VersionChanged && prior.Status == StatusPaused && prior.Strategy == strategy {
		// On top of a paused release: a failure puts it back as it was.
		rel := prior.release()
		rel.ResumeAt = rules.resumeAt(rel)
		req.Reinstate = &rel
	}
	rules.keepSlot(&req, prior, p.VersionChanged)
	// The traffic the version has now: what state recorded, when the same
	// strategy moved it. Another strategy set no weight and published no
	// flag: what the version has then is the new strategy's call (a
	// canary counts a completed version as out, and owes the router its
	// weight).
	takenOver := false
	switch {
	case prior.Strategy == strategy && (!p.VersionChanged || rules.trafficOutlivesVersion()):
		req.PriorTraffic = prior.Traffic
	case prior.Strategy != strategy && !p.VersionChanged:
		req.PriorTraffic, takenOver = rules.takeOver(prior)
	}
	p.Request = req
	p.Pending = rules.gated(req, pendingFor(rules, req))
	pending := make(map[string]bool, len(p.Pending))
	for _, t := range p.Pending {
		pending[t.ID] = true
	}
	for _, t := range Unknown(req) {
		if !pending[t.ID] {
			p.Unread = append(p.Unread, t)
		}
	}
	// A new version that every pending target already runs still owes the
	// traffic step of blue/green, canary and feature_flag: a rollout whose
	// switch failed must not be planned as done. So does a gate the
	// rollout is paused at that opened.
	p.TrafficOwed = rules.trafficOwed(prior, req, p.VersionChanged) || takenOver
	if prior.Status == StatusPaused && prior.Strategy != strategy {
		// The pause was another strategy's: this one decides where the
		// version stops (kept as it was, state would say this strategy is
		// paused where it has no gate, and every later plan would resume).
		p.TrafficOwed = true
	}
	return p
}

// revertPlan is the plan of version set back to the saved
// previous_version while the rollout of the saved version is paused or has
// failed: the abandoned version's traffic goes first, then every target
// running it gets back what it ran. When version was itself a paused
// release that the saved one was rolled out on top of, it is restored as
// it was (its targets, its traffic share, its pause and previous_version);
// otherwise version goes on every target running the abandoned one.
func revertPlan(rules fleetRules, strategy, version string, targets []Target, current Versions, prior Prior) (Plan, bool) {
	if version != prior.PreviousVersion || version == prior.Version || prior.Strategy != strategy ||
		(prior.Status != StatusPaused && prior.Status != StatusFailed) {
		return Plan{}, false
	}
	var rel *Release
	if n := len(prior.Superseded); n > 0 && prior.Superseded[n-1].Version == version {
		r := prior.Superseded[n-1]
		r.ResumeAt = rules.resumeAt(r)
		rel = &r
	}
	p := Plan{VersionChanged: true, Revert: true}
	// Without a paused release to restore, the version before the one
	// restored is not known: previous_version becomes null, so that
	// destroy never deploys the abandoned version (nor the live one) again.
	p.Request = Request{Version: version, Targets: targets, Current: current}
	if rel != nil {
		p.Request.PreviousVersion = rel.PreviousVersion
	}
	for _, t := range targets {
		if current[t.ID] != prior.Version {
			continue
		}
		p.RevertTargets = append(p.RevertTargets, t)
		if rel == nil || rel.RestoreTo(t.ID) == version {
			p.Pending = append(p.Pending, t)
		}
	}
	rq := Request{
		Version:         prior.Version,
		PreviousVersion: version,
		Targets:         targets,
		Current:         current,
		PriorTraffic:    prior.Traffic,
		AutoRollback:    true,
		Reinstate:       rel,
		ActiveSlot:      rules.revertSlot(prior, targets, current),
	}
	p.RevertRequest = rq
	p.TrafficOwed = rules.movesTraffic()
	return p, true
}

// priorAfterRevert is the state a successful revert p of prior leaves: what the
// apply plans its follow-up on.
func priorAfterRevert(rules fleetRules, strategy string, p Plan, prior Prior) Prior {
	rq := p.RevertRequest
	versions := maps.Clone(p.Request.Current)
	for _, t := range p.RevertTargets {
		versions[t.ID] = p.Request.Version
		if rq.Reinstate != nil {
			versions[t.ID] = rq.Reinstate.RestoreTo(t.ID)
		}
	}
	saved := Saved{Version: p.Request.Version, PreviousVersion: p.Request.PreviousVersion, Versions: versions, ActiveSlot: prior.ActiveSlot}
	res := &Result{Success: true, Status: StatusRolledBack}
	if rq.ActiveSlot != "" {
		// The abandoned version's slot served: the revert switched back.
		saved.ActiveSlot = IdleSlot(rq.ActiveSlot)
	}
	if rel := rq.Reinstate; rel != nil {
		saved.Traffic, saved.Superseded = rel.Traffic, prior.Superseded[:len(prior.Superseded)-1]
		if rel.ActiveSlot != "" {
			saved.ActiveSlot = rel.ActiveSlot
		}
		res.Status, res.PausedAt, res.PausedSince = StatusPaused, rel.PausedAt, rel.Since
	} else {
		saved.Superseded = prior.Superseded
		saved.Traffic = rules.trafficOn(saved.Version, p.Request.Targets, versions, 0)
	}
	return PriorAfter(strategy, p.Request.Targets, saved, res, prior.Now)
}
