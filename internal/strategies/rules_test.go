package strategies

import (
	"fmt"
	"testing"
)

// TestRulesForIsTheStrategy: the fleet rules of every name are those of the
// strategy New builds, and a name New does not know gets commonRules.
func TestRulesForIsTheStrategy(t *testing.T) {
	t.Parallel()
	for _, name := range Names() {
		s := mustNew(t, name, func(c *Config) { c.FeatureFlag.InitialRollout = 10 })
		if got, want := fmt.Sprintf("%T", rulesFor(name, DefaultConfig())), fmt.Sprintf("%T", s); got != want {
			t.Errorf("%s: rules of %s, strategy %s", name, got, want)
		}
	}
	if _, ok := rulesFor("no_such_strategy", DefaultConfig()).(commonRules); !ok {
		t.Error("an unknown name does not get commonRules")
	}
}
