package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// notificationsNull is set by the provider itself (an import): its type
// must be the schema's, or the framework refuses the state.
func TestNotificationsNullHasTheSchemaType(t *testing.T) {
	for name, r := range map[string]resource.Resource{"deployment": &deploymentResource{}, "feature_rollout": &featureRolloutResource{}} {
		var resp resource.SchemaResponse
		r.Schema(context.Background(), resource.SchemaRequest{}, &resp)
		attr, ok := resp.Schema.Attributes["notifications"]
		if !ok {
			t.Fatalf("%s has no notifications attribute", name)
		}
		if got, want := notificationsNull.Type(context.Background()), attr.GetType(); !got.Equal(want) {
			t.Errorf("%s: notificationsNull is %s, the schema's notifications %s", name, got, want)
		}
	}
}
