package provider

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// mapPrivate is private state in a map, as the framework keeps it.
type mapPrivate map[string][]byte

func (m mapPrivate) GetKey(_ context.Context, key string) ([]byte, diag.Diagnostics) {
	return m[key], nil
}

func (m mapPrivate) SetKey(_ context.Context, key string, value []byte) diag.Diagnostics {
	if len(value) == 0 {
		delete(m, key)
	} else {
		m[key] = value
	}
	return nil
}

func TestPrivateVersion_writtenAndRead(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)

	dep := mapPrivate{}
	if diags := (deploymentPrivate{asOf: at}).write(ctx, dep); diags.HasError() {
		t.Fatal(diags)
	}
	if got := string(dep[privateVersionKey]); got != "1" {
		t.Errorf("deployment private %s = %q, want 1", privateVersionKey, got)
	}
	if got := readDeploymentPrivate(ctx, dep).asOf; !got.Equal(at) {
		t.Errorf("as_of read back = %v, want %v", got, at)
	}

	roll := mapPrivate{}
	if diags := setRolloutPrivate(ctx, roll, privateEndpointFrom, endpointFromProvider); diags.HasError() {
		t.Fatal(diags)
	}
	if got := string(roll[privateVersionKey]); got != "1" {
		t.Errorf("rollout private %s = %q, want 1", privateVersionKey, got)
	}
	if got := readRolloutPrivate(ctx, roll).endpointFrom; got != endpointFromProvider {
		t.Errorf("endpoint_from read back = %q, want %q", got, endpointFromProvider)
	}
}

// A private state of 0.1.0 has no version: it is read as version 1.
func TestPrivateVersion_unversionedIsRead(t *testing.T) {
	ctx := context.Background()
	dep := mapPrivate{deploymentAsOf: []byte(`"2026-12-07T14:00:00Z"`)}
	if got := readDeploymentPrivate(ctx, dep).asOf; got.IsZero() {
		t.Error("an unversioned deployment private state was not read")
	}
	roll := mapPrivate{privateOwn: []byte(`{"state":"paused","stage":2}`)}
	if got := readRolloutPrivate(ctx, roll).own; got == nil || got.Stage != 2 {
		t.Errorf("an unversioned rollout private state read as %+v", got)
	}
}

// A layout this provider does not know (a newer provider's, before a
// downgrade) counts as absent rather than read with the wrong meaning.
func TestPrivateVersion_newerIsIgnored(t *testing.T) {
	ctx := context.Background()
	for _, v := range []string{"2", `"x"`, "0"} {
		dep := mapPrivate{privateVersionKey: []byte(v), deploymentAsOf: []byte(`"2026-12-07T14:00:00Z"`)}
		if got := readDeploymentPrivate(ctx, dep).asOf; !got.IsZero() {
			t.Errorf("version %s: deployment private read as_of %v, want nothing", v, got)
		}
		roll := mapPrivate{privateVersionKey: []byte(v), privateOwn: []byte(`{"state":"paused","stage":2}`)}
		if got := readRolloutPrivate(ctx, roll).own; got != nil {
			t.Errorf("version %s: rollout private read %+v, want nothing", v, got)
		}
	}
}
