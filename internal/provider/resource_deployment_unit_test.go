package provider

import (
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

func fleetSpec(strategy string, slots ...string) *deploymentSpec {
	s := &deploymentSpec{name: "web", version: "2", strategy: strategy}
	for i, slot := range slots {
		s.targets = append(s.targets, strategies.Target{ID: ids(len(slots))[i], Slot: slot})
	}
	return s
}

func TestFailureMessageNamesTargetsPhaseAndRollback(t *testing.T) {
	t.Parallel()
	spec := fleetSpec(strategies.NameRolling, "", "", "")
	spec.autoRollback = true
	res := &strategies.Result{
		Status:     strategies.StatusRolledBack,
		StoppedAt:  "batch 2/3",
		Outcomes:   map[string]*strategies.TargetOutcome{"t1": {ID: "t1", RestoredTo: "1"}, "t2": {ID: "t2", Err: errString("HTTP 500"), RestoredTo: "1"}, "t3": {ID: "t3"}},
		RolledBack: []string{"t1", "t2"},
	}
	msg := failureMessage(spec, res, "1")
	for _, want := range []string{`"web"`, "batch 2/3", "Failed targets: t2", "Rolled back to previous_version: t1, t2"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
	// A failed repair puts a drifted target back on what it ran.
	res.Outcomes["t2"].RestoredTo = "0.9"
	if msg := failureMessage(spec, res, "1"); !strings.Contains(msg, "Restored to the version each ran before: t1 (1), t2 (0.9)") {
		t.Errorf("failure message does not name what each target got back:\n%s", msg)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
