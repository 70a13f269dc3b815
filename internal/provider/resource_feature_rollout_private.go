package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// Keys of a feature rollout's private state.
const (
	// privateOwn holds the rollout's own state and stage while the flag
	// service reports something else (refresh records what it reports).
	privateOwn = "own"
	// privateEndpointFrom says where the saved endpoint came from:
	// endpointFromAttribute or endpointFromProvider.
	privateEndpointFrom = "endpoint_from"
)

const (
	endpointFromAttribute = "attribute"
	endpointFromProvider  = "provider"
)

type ownRollout struct {
	State string `json:"state"`
	Stage int    `json:"stage"`
}

// rolloutPrivate is a feature rollout's private state.
type rolloutPrivate struct {
	own          *ownRollout
	endpointFrom string
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
	if r == nil || !privateReadable(ctx, r) {
		return p
	}
	if raw, diags := r.GetKey(ctx, privateOwn); !diags.HasError() && len(raw) > 0 {
		var own ownRollout
		if json.Unmarshal(raw, &own) == nil {
			p.own = &own
		}
	}
	if raw, diags := r.GetKey(ctx, privateEndpointFrom); !diags.HasError() && len(raw) > 0 {
		_ = json.Unmarshal(raw, &p.endpointFrom)
	}
	return p
}

// setRolloutPrivate sets key to v, or removes it when v is nil, and
// records the layout's version.
func setRolloutPrivate(ctx context.Context, w privateWriter, key string, v any) diag.Diagnostics {
	diags := writePrivateVersion(ctx, w)
	if v == nil {
		diags.Append(w.SetKey(ctx, key, nil)...)
		return diags
	}
	raw, err := json.Marshal(v)
	if err != nil {
		diags.AddError("Private state", err.Error())
		return diags
	}
	diags.Append(w.SetKey(ctx, key, raw)...)
	return diags
}
