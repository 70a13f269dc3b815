package provider

// A deployment's private state: bookkeeping the plan and the apply need
// that no attribute shows.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

// Keys of a deployment's private state.
const (
	// deploymentAsOf is when the provider last read or changed the fleet:
	// plans decide whether a time gate is due at that time, so the plan
	// remade during the apply, and the apply itself, agree with the plan
	// that was shown, however late the apply runs (docs: "Gates").
	deploymentAsOf = "as_of"
	// deploymentPausedSince is when the gate the rollout is paused at was
	// reached: resume_at is that time plus the gate's current wait.
	deploymentPausedSince = "paused_since"
	// deploymentSuperseded are the paused releases newer versions were
	// rolled out on top of: a revert to one restores it as it was.
	deploymentSuperseded = "superseded"
)

// deploymentPrivate is a deployment's private state.
type deploymentPrivate struct {
	asOf        time.Time
	pausedSince time.Time
	superseded  []strategies.Release
}

// readDeploymentPrivate reads what it can: anything unreadable counts as
// absent.
func readDeploymentPrivate(ctx context.Context, r privateReader) deploymentPrivate {
	var p deploymentPrivate
	if r == nil || !privateReadable(ctx, r) {
		return p
	}
	p.asOf = privateTime(ctx, r, deploymentAsOf)
	p.pausedSince = privateTime(ctx, r, deploymentPausedSince)
	if raw, diags := r.GetKey(ctx, deploymentSuperseded); !diags.HasError() && len(raw) > 0 {
		var rels []strategies.Release
		if json.Unmarshal(raw, &rels) == nil {
			p.superseded = rels
		}
	}
	return p
}

func privateTime(ctx context.Context, r privateReader, key string) time.Time {
	raw, diags := r.GetKey(ctx, key)
	if diags.HasError() || len(raw) == 0 {
		return time.Time{}
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// write stores p; a zero time removes its key.
func (p deploymentPrivate) write(ctx context.Context, w privateWriter) diag.Diagnostics {
	var diags diag.Diagnostics
	for key, t := range map[string]time.Time{deploymentAsOf: p.asOf, deploymentPausedSince: p.pausedSince} {
		var raw []byte
		if !t.IsZero() {
			raw, _ = json.Marshal(t.UTC().Format(time.RFC3339Nano))
		}
		diags.Append(w.SetKey(ctx, key, raw)...)
	}
	var raw []byte
	if len(p.superseded) > 0 {
		raw, _ = json.Marshal(p.superseded)
	}
	diags.Append(w.SetKey(ctx, deploymentSuperseded, raw)...)
	diags.Append(writePrivateVersion(ctx, w)...)
	return diags
}
