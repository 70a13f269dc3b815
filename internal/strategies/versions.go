package strategies

import (
	"context"
	"fmt"
)

// Versions maps target ids to the version each one runs: target_versions.
// Its methods are the ways state's knowledge of the fleet changes (a change
// of the target list, a rollout, a refresh) and the version it may claim.
type Versions map[string]string

// ReadVersions makes one health call per target, concurrently and bounded by
// env.Limit, and returns the version each reachable target reports and the
// error of each one that is not. Every target ends up in exactly one map.
func ReadVersions(ctx context.Context, targets []Target, env Env) (versions Versions, errs map[string]error) {
	env = env.withDefaults()
	versions = make(Versions, len(targets))
	errs = make(map[string]error)
	if env.Health == nil {
		for _, t := range targets {
			errs[t.ID] = fmt.Errorf("target %s: no health checker configured", t.ID)
		}
		return versions, errs
	}
	results := runGroup(ctx, env.Limit, targets, func(ctx context.Context, t Target) targetResult {
		v, err := env.Health(ctx, t)
		return targetResult{version: v, err: err}
	})
	for i, t := range targets {
		switch r := results[i]; {
		case !r.started:
			errs[t.ID] = fmt.Errorf("target %s: version not read: %w", t.ID, cancelCause(ctx))
		case r.err != nil:
			errs[t.ID] = fmt.Errorf("target %s: health: %w", t.ID, r.err)
		default:
			versions[t.ID] = r.version
		}
	}
	return versions, errs
}

// DetectPreviousVersion returns the version to roll back to on create: the
// one version every reachable target reports, when that is not version.
// Disagreeing, empty or no answers give "", false.
func DetectPreviousVersion(versions map[string]string, errs map[string]error, version string) (prev string, ok bool) {
	for id, v := range versions {
		if _, failed := errs[id]; failed {
			continue
		}
		if v == "" || (prev != "" && v != prev) {
			return "", false
		}
		prev = v
	}
	if prev == "" || prev == version {
		return "", false
	}
	return prev, true
}

// Listed keeps the versions of the targets in the list, by id.
func (v Versions) Listed(targets []Target) Versions {
	out := make(Versions, len(targets))
	for _, t := range targets {
		if version, ok := v[t.ID]; ok {
			out[t.ID] = version
		}
	}
	return out
}

// SameAddress keeps the versions, recorded for the prior targets, that
// still describe targets: identity is id + address, so a target whose
// address changed (or that is new) has no known version and is deployed
// again. Empty versions are dropped.
func (v Versions) SameAddress(prior, targets []Target) Versions {
	address := make(map[string]string, len(prior))
	for _, t := range prior {
		address[t.ID] = t.Address
	}
	out := make(Versions, len(targets))
	for _, t := range targets {
		version, ok := v[t.ID]
		if a, listed := address[t.ID]; ok && version != "" && listed && a == t.Address {
			out[t.ID] = version
		}
	}
	return out
}

// AfterRollout merges what the targets reported during the rollout res
// over v, what was known before it, for the targets of the rollout only:
// targets removed from the list are left alone and forgotten. A target
// that reported no version keeps the one known for it.
func (v Versions) AfterRollout(res *Result) Versions {
	out := make(Versions, len(v))
	for id, version := range v {
		if _, listed := res.Outcomes[id]; version != "" && (listed || len(res.Outcomes) == 0) {
			out[id] = version
		}
	}
	for id, o := range res.Outcomes {
		if o != nil && o.Version != "" {
			out[id] = o.Version
		}
	}
	return out
}

// Claim is the version state may claim the active targets run: version
// when every active target whose version is known reports it, otherwise
// the version most of the others report, so the next plan proposes version
// again.
func (v Versions) Claim(version string, active []Target) string {
	counts := map[string]int{}
	var order []string
	for _, t := range active {
		r, ok := v[t.ID]
		if !ok || r == version {
			continue
		}
		if counts[r] == 0 {
			order = append(order, r)
		}
		counts[r]++
	}
	if len(order) == 0 {
		return version
	}
	best := order[0]
	for _, r := range order[1:] {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}
