package strategies

// DestroySlot is the active slot destroy hands to Rollback: none for a
// blue/green rollout paused before its switch, whose traffic never moved
// (Rollback then switches nothing).
func DestroySlot(strategy string, status Status, activeSlot string) string {
	return rulesFor(strategy, Config{}).destroySlot(status, activeSlot)
}

// DestroyTargets are the targets destroy rolls back to previous: blue/green
// restores the idle slot (the switch back then goes to it) and leaves the
// active one to Rollback; the other strategies restore every target that
// may run something else.
func DestroyTargets(strategy string, targets []Target, fleet map[string]string, previous, activeSlot string) []Target {
	return rulesFor(strategy, Config{}).destroyTargets(targets, fleet, previous, activeSlot)
}
