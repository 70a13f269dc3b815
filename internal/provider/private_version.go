package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// privateVersionKey holds the version of the layout of a resource's private
// state (the keys of resource_deployment_private.go and
// resource_feature_rollout_private.go and what they hold), next to those
// keys. Like the schema's Version, it changes when a release changes what
// an existing key means, and a release that does reads the versions before
// it (RELEASING.md, "Upgrades").
const privateVersionKey = "private_version"

// privateVersion is the layout this provider writes. A private state
// without the key was written before it existed (0.1.0's state fixture),
// in the layout of version 1.
const privateVersion = 1

// readPrivateVersion is the version of r's layout: 1 when unset, 0 when
// unreadable.
func readPrivateVersion(ctx context.Context, r privateReader) int {
	raw, diags := r.GetKey(ctx, privateVersionKey)
	if diags.HasError() {
		return 0
	}
	if len(raw) == 0 {
		return 1
	}
	var v int
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	return v
}

// privateReadable says whether this provider reads r's keys: a layout it
// does not know (written by a newer provider, before a downgrade) counts as
// absent, as anything unreadable in private state does.
func privateReadable(ctx context.Context, r privateReader) bool {
	v := readPrivateVersion(ctx, r)
	return v >= 1 && v <= privateVersion
}

// writePrivateVersion records the layout this provider writes.
func writePrivateVersion(ctx context.Context, w privateWriter) diag.Diagnostics {
	return w.SetKey(ctx, privateVersionKey, fmt.Appendf(nil, "%d", privateVersion))
}
