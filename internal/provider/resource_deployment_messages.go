package provider

// What a deployment tells the user: failures, tolerated failures, versions.

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

func (r *deploymentResource) warnTolerated(spec *deploymentSpec, res *strategies.Result, diags *diag.Diagnostics) {
	if !res.Success || res.TargetsFailed == 0 {
		return
	}
	diags.AddWarning("Some targets failed",
		fmt.Sprintf("Deployment %q completed with %d failed target(s) tolerated by max_failures: %s. The next plan deploys %q to them again.",
			spec.name, res.TargetsFailed, strings.Join(failedIDs(spec, res), ", "), spec.version))
}

func failedIDs(spec *deploymentSpec, res *strategies.Result) []string {
	var ids []string
	for _, t := range spec.targets {
		if o := res.Outcomes[t.ID]; o != nil && o.Err != nil {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// failureMessage names the targets, where the rollout stopped, and what was
// rolled back; next says what the next plan does (nextAfterFailure).
func failureMessage(spec *deploymentSpec, res *strategies.Result, previous, next string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rolling out %q to deployment %q (%s) failed", spec.version, spec.name, spec.strategy)
	if res.StoppedAt != "" {
		fmt.Fprintf(&b, " at %s", res.StoppedAt)
	}
	b.WriteString(".\n")
	if ids := failedIDs(spec, res); len(ids) > 0 {
		fmt.Fprintf(&b, "\nFailed targets: %s\n", strings.Join(ids, ", "))
	}
	for _, err := range res.Errors {
		fmt.Fprintf(&b, "  - %s\n", err)
	}
	switch {
	case len(res.RolledBack) > 0 && restoredOwn(res, previous) != nil:
		fmt.Fprintf(&b, "\nRestored to the version each ran before: %s\n", strings.Join(restoredOwn(res, previous), ", "))
	case len(res.RolledBack) > 0:
		fmt.Fprintf(&b, "\nRolled back to previous_version %q: %s\n", previous, strings.Join(res.RolledBack, ", "))
	case res.Status == strategies.StatusRolledBack:
		b.WriteString("\nRolled back: no target needed it (traffic was restored).\n")
	default:
		b.WriteString("\nNothing was rolled back")
		if !spec.autoRollback {
			b.WriteString(" (auto_rollback is false)")
		}
		b.WriteString(".\n")
	}
	for _, err := range res.RollbackErrors {
		fmt.Fprintf(&b, "  rollback: %s\n", err)
	}
	b.WriteString("\n" + next)
	return b.String()
}

// nextAfterFailure says what is true after a failed apply that saved saved
// (nothing when stateSaved is false: a create rolled back), as the next
// plan will see it, and what to do.
func nextAfterFailure(spec *deploymentSpec, res *strategies.Result, saved strategies.Saved, stateSaved bool) string {
	abandon := ""
	if saved.PreviousVersion != "" {
		abandon = fmt.Sprintf(" To abandon it, set version back to %q.", saved.PreviousVersion)
	}
	if res.Status == strategies.StatusPaused {
		where := fmt.Sprintf("at %s%%", percent(res.PausedAt))
		if spec.strategy == strategies.NameBlueGreen {
			where = "before its switch"
		}
		return fmt.Sprintf("The rollout of %q stays paused %s, as it was before this apply; the next apply takes it up from there.%s", saved.Version, where, abandon)
	}
	prior := strategies.Prior{}
	if stateSaved {
		prior = strategies.Prior{
			Strategy: spec.strategy, Version: saved.Version, PreviousVersion: saved.PreviousVersion, Status: res.Status,
			Traffic: saved.Traffic, ActiveSlot: saved.ActiveSlot, Targets: spec.targets, Versions: saved.Versions,
		}
	}
	if strategies.NewPlan(spec.strategy, spec.config, spec.version, spec.targets, prior).Work() {
		next := "State records only what the targets report, so the next plan proposes the rollout again: fix what failed and apply again"
		if stateSaved && saved.Version != "" && saved.Version != spec.version {
			return fmt.Sprintf("%s, or set version back to %q to stay on it.", next, saved.Version)
		}
		return next + "."
	}
	where := "the fleet"
	if spec.strategy == strategies.NameBlueGreen && saved.ActiveSlot != "" {
		where = "the " + saved.ActiveSlot + " slot"
	}
	return fmt.Sprintf("The next plan proposes no change: %q runs on %s with %s%% of the traffic, as state records.%s",
		saved.Version, where, percent(saved.Traffic), strings.Replace(abandon, "abandon it", "take the traffic off it", 1))
}

// restoredOwn lists "id (version)" for every rolled-back target, when some
// went back to a version of its own rather than previous_version (a failed
// repair of drifted targets); nil otherwise.
func restoredOwn(res *strategies.Result, previous string) []string {
	var out []string
	own := false
	for _, id := range res.RolledBack {
		o := res.Outcomes[id]
		out = append(out, fmt.Sprintf("%s (%s)", id, o.RestoredTo))
		own = own || o.RestoredTo != previous
	}
	if !own {
		return nil
	}
	return out
}

func describeVersions(targets []strategies.Target, versions map[string]string, errs map[string]error) string {
	counts := map[string]int{}
	for _, t := range targets {
		if err, failed := errs[t.ID]; failed {
			counts[healthFailure(err)]++
		} else if v, ok := versions[t.ID]; ok && v == "" {
			counts["answered without a version"]++
		} else if ok {
			counts[fmt.Sprintf("at %q", v)]++
		}
	}
	parts := make([]string, 0, len(counts))
	for what, n := range counts {
		parts = append(parts, fmt.Sprintf("%d %s", n, what))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "no target answered"
	}
	return strings.Join(parts, ", ")
}

// healthFailure tells a target that gave no answer from one that answered
// but could not be read: unhealthy, unauthorized, or another HTTP status.
func healthFailure(err error) string {
	var unhealthy *protocol.UnhealthyError
	var status *protocol.StatusError
	switch {
	case errors.As(err, &unhealthy):
		return fmt.Sprintf("answered unhealthy (status %q)", unhealthy.Health.Status)
	case errors.As(err, &status) && (status.StatusCode == http.StatusUnauthorized || status.StatusCode == http.StatusForbidden):
		return fmt.Sprintf("answered unauthorized (HTTP %d: check the token)", status.StatusCode)
	case errors.As(err, &status):
		return fmt.Sprintf("answered HTTP %d", status.StatusCode)
	case strings.Contains(err.Error(), "not a health document"):
		return "answered something that is not a health document"
	default:
		return "gave no answer"
	}
}
