package strategies

// What a refresh records: the versions it read merged into what state
// knew, and the version it keeps.

// AfterRefresh merges what a refresh read (read, errs from ReadVersions)
// into v, what state knew. A target that did not answer, or answered
// without a version, keeps its known version: it is taken to run what was
// last deployed to it. Without expectVersion a reported version is
// information, not drift: a known version stays.
func (v Versions) AfterRefresh(targets []Target, read Versions, errs map[string]error, expectVersion bool) Versions {
	out := make(Versions, len(targets))
	for _, t := range targets {
		k, isKnown := v[t.ID]
		isKnown = isKnown && k != ""
		r, answered := read[t.ID]
		_, failed := errs[t.ID]
		switch {
		case answered && !failed && r != "" && (expectVersion || !isKnown):
			out[t.ID] = r
		case isKnown:
			out[t.ID] = k
		}
	}
	return out
}

// ClaimAtRefresh is the version refresh saves, version being the saved
// one. While some active target still runs it, it stays: the fleet is
// partway between that version and another (an interrupted or failed
// rollout, or drift), the next plan deploys the targets that differ, and
// when the configuration moves on the saved version becomes
// previous_version. Taking the version most of the others report instead
// would, after an interrupted update, claim the new version and lose the
// one to roll back to. Only when no active target runs it is it replaced
// by Claim's choice.
//
// A canary's router weighs versions: while the saved version has traffic
// (traffic > 0) it stays, whatever the targets run, so that the next apply
// treats it as a repair and never takes that traffic away.
//
// A rollout paused at a gate keeps its version: the gate is where it
// stands, with what runs in target_versions (docs/resources/deployment.md, "Analysis, bake and gates").
func (v Versions) ClaimAtRefresh(strategy, version string, status Status, traffic float64, active []Target) string {
	if rulesFor(strategy, Config{}).trafficHoldsVersion(traffic) || status == StatusPaused {
		return version
	}
	for _, t := range active {
		if v[t.ID] == version {
			return version
		}
	}
	return v.Claim(version, active)
}
