package strategies

import (
	"strings"
	"testing"
)

// TestRollbackErrorsCarryNoPrefix: RollbackErrors are shown under a
// "rollback:" label (the provider's failure message, destroy's error), so
// the errors themselves must not start with one; the router-down case of
// RELIABILITY.md printed "rollback: rollback: …".
func TestRollbackErrorsCarryNoPrefix(t *testing.T) {
	t.Parallel()
	cases := map[string]func(t *testing.T) *Result{
		"blue/green switch back fails": func(t *testing.T) *Result {
			f, targets := blueGreenFleet(t, "v1")
			f.switchErr[SlotGreen], f.switchErr[SlotBlue] = errBoom, errBoom
			req := request(targets)
			req.ActiveSlot, req.AutoRollback = SlotBlue, true
			return f.execute(t, NameBlueGreen, nil, req)
		},
		"feature flag not turned off": func(t *testing.T) *Result {
			f, targets := newFleet(t, 3, "v1")
			f.publishErr = errBoom
			req := request(targets)
			req.AutoRollback = true
			return f.execute(t, NameFeatureFlag, func(c *Config) { c.FeatureFlag = FeatureFlagConfig{FlagName: "f", InitialRollout: 10} }, req)
		},
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := run(t)
			if len(res.RollbackErrors) == 0 {
				t.Fatalf("no rollback errors: status %s, errors %v", res.Status, res.Errors)
			}
			for _, err := range res.RollbackErrors {
				if strings.HasPrefix(err.Error(), "rollback:") {
					t.Errorf("rollback error %q repeats its label", err)
				}
			}
		})
	}
}
