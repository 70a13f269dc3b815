package provider

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// Keys of a feature rollout's private state.
const (
	// privateOwn holds the rollout's own state and stage while the flag
	// service reports something else (refresh records what it reports).
	privateOwn = "own"
	// privateAsOf is when the last refresh ran: plans decide advances at
	// that time, so the plan remade during apply agrees with the one shown.
	privateAsOf = "as_of"
)

type ownRollout struct {
	State string `json:"state"`
	Stage int    `json:"stage"`
}

// rolloutPrivate is a feature rollout's private state.
type rolloutPrivate struct {
	own  *ownRollout
	asOf time.Time
}

// at is the time a plan decides advances at: the last refresh's, or now.
func (p rolloutPrivate) at(now time.Time) time.Time {
	if p.asOf.IsZero() {
		return now
	}
	return p.asOf
}

type privateReader interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
}

type privateWriter interface {
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// readRolloutPrivate reads what it can; private state is the provider's own
// bookkeeping, so anything unreadable counts as absent.
func readRolloutPrivate(ctx context.Context, r privateReader) rolloutPrivate {
	var p rolloutPrivate
	if r == nil {
		return p
	}
	if raw, diags := r.GetKey(ctx, privateOwn); !diags.HasError() && len(raw) > 0 {
		var own ownRollout
		if json.Unmarshal(raw, &own) == nil {
			p.own = &own
		}
	}
	if raw, diags := r.GetKey(ctx, privateAsOf); !diags.HasError() && len(raw) > 0 {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			p.asOf, _ = time.Parse(time.RFC3339, s)
		}
	}
	return p
}

func setRolloutPrivate(ctx context.Context, w privateWriter, key string, v any) diag.Diagnostics {
	raw, err := json.Marshal(v)
	if err != nil {
		var diags diag.Diagnostics
		diags.AddError("Private state", err.Error())
		return diags
	}
	return w.SetKey(ctx, key, raw)
}
