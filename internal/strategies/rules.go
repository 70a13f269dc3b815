package strategies

import "time"

// fleetRules are what the rules about the fleet (plan.go, saved.go,
// refresh.go, destroy.go) ask of a strategy: where they differ from one
// strategy to another. The strategy types implement them, each embedding
// commonRules for what it shares with the others; rulesFor looks them up
// once by name.
type fleetRules interface {
	// Plan.

	// deploySlot is the slot whose targets an apply may deploy, "" for
	// every target (blue/green: the idle slot, or the active one on a
	// top-up).
	deploySlot(req Request) string
	// gated cuts the pending targets at the first closed gate.
	gated(req Request, pending []Target) []Target
	// resumeAt is when the gate rel is paused at opens (zero for a manual
	// gate, or no gate).
	resumeAt(rel Release) time.Time
	// opened reports whether the gate the rollout is paused at opens in
	// the apply of req: approved, due, or no longer configured.
	opened(req Request) bool
	// keepSlot carries what the strategy keeps of prior's slots into req.
	keepSlot(req *Request, prior Prior, versionChanged bool)
	// trafficOutlivesVersion: the traffic state recorded stays the
	// version's across a change of version (a flag gates a feature, not a
	// version).
	trafficOutlivesVersion() bool
	// movesTraffic: the strategy has a traffic step after its deploys (a
	// switch, weights, a flag), which a new version or a revert owes.
	movesTraffic() bool
	// trafficOwed reports whether the apply of req on top of prior has a
	// traffic step to make even when no target is pending.
	trafficOwed(prior Prior, req Request, versionChanged bool) bool
	// takeOver is what the strategy makes of a version another strategy
	// applied (prior, the version unchanged): the traffic it counts the
	// version as having, and whether the apply owes its traffic step.
	takeOver(prior Prior) (traffic float64, owed bool)
	// revertSlot is the active slot a revert of prior hands to Rollback:
	// "" when traffic never moved to the abandoned version.
	revertSlot(prior Prior, targets []Target, current Versions) string

	// What an apply saves, and refresh.

	// active are the targets that must run the version for state to claim
	// it.
	active(targets []Target, activeSlot string) []Target
	// trafficOn is the share of traffic on version, which is not the
	// version the apply rolled out (newShare is the share that one has
	// now).
	trafficOn(version string, targets []Target, fleet Versions, newShare float64) float64
	// trafficHoldsVersion: with this traffic the saved version stays at
	// refresh, whatever the targets run.
	trafficHoldsVersion(traffic float64) bool

	// Destroy.

	// destroySlot is the active slot destroy hands to Rollback.
	destroySlot(status Status, activeSlot string) string
	// destroyTargets are the targets destroy rolls back to previous.
	destroyTargets(targets []Target, fleet Versions, previous, activeSlot string) []Target
}

// rulesFor returns the rules of the strategy called name, configured from
// cfg (unchecked: New checks a configuration before a rollout runs on it;
// the rules that need none are given Config{}). A name New does not know
// gets commonRules.
func rulesFor(name string, cfg Config) fleetRules {
	switch name {
	case NameRolling:
		return &RollingStrategy{cfg: cfg.Rolling}
	case NameBlueGreen:
		return &BlueGreenStrategy{cfg: cfg.BlueGreen}
	case NameCanary:
		return &CanaryStrategy{cfg: cfg.Canary}
	case NameFeatureFlag:
		return &FeatureFlagStrategy{cfg: cfg.FeatureFlag}
	}
	return commonRules{}
}

// commonRules are the rules a strategy shares with the others unless it
// says otherwise: every target is deployed and must run the version, no
// gate, a traffic step owed by a new version, a destroy that restores every
// target that may run something else.
type commonRules struct{}

func (commonRules) deploySlot(Request) string                         { return "" }
func (commonRules) gated(_ Request, pending []Target) []Target        { return pending }
func (commonRules) resumeAt(Release) time.Time                        { return time.Time{} }
func (commonRules) opened(Request) bool                               { return false }
func (commonRules) keepSlot(*Request, Prior, bool)                    {}
func (commonRules) trafficOutlivesVersion() bool                      { return false }
func (commonRules) movesTraffic() bool                                { return true }
func (commonRules) revertSlot(Prior, []Target, Versions) string       { return "" }
func (commonRules) takeOver(Prior) (float64, bool)                    { return 0, false }
func (commonRules) active(targets []Target, _ string) []Target        { return targets }
func (commonRules) trafficHoldsVersion(float64) bool                  { return false }
func (commonRules) destroySlot(_ Status, activeSlot string) string    { return activeSlot }
func (commonRules) trafficOwed(_ Prior, _ Request, changed bool) bool { return changed }

// trafficOn: the version the apply rolled out took newShare from it.
func (commonRules) trafficOn(_ string, _ []Target, _ Versions, newShare float64) float64 {
	return 100 - newShare
}

// destroyTargets: every target that may run something else than previous.
func (commonRules) destroyTargets(targets []Target, fleet Versions, previous, _ string) []Target {
	var out []Target
	for _, t := range targets {
		if v, ok := fleet[t.ID]; ok && v == previous {
			continue
		}
		out = append(out, t)
	}
	return out
}
