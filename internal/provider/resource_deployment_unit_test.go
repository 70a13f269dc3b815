package provider

import (
	"slices"
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

func TestHonestVersion(t *testing.T) {
	t.Parallel()
	spec := fleetSpec(strategies.NameRolling, "", "", "", "")
	tests := []struct {
		name  string
		fleet map[string]string
		want  string
	}{
		{"all at version", map[string]string{"t1": "2", "t2": "2", "t3": "2", "t4": "2"}, "2"},
		{"unknown targets do not count", map[string]string{"t1": "2", "t2": "2"}, "2"},
		{"rolled back", map[string]string{"t1": "1", "t2": "1", "t3": "1", "t4": "1"}, "1"},
		{"most common other version", map[string]string{"t1": "2", "t2": "1", "t3": "0.9", "t4": "1"}, "1"},
		{"tie goes to list order", map[string]string{"t1": "0.9", "t2": "1", "t3": "2", "t4": "2"}, "0.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := honestVersion(spec, tt.fleet, spec.targets); got != tt.want {
				t.Fatalf("honestVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHonestVersionBlueGreenLooksAtActiveSlot(t *testing.T) {
	t.Parallel()
	spec := fleetSpec(strategies.NameBlueGreen, "blue", "blue", "green", "green")
	fleet := map[string]string{"t1": "1", "t2": "1", "t3": "2", "t4": "2"}
	if got := honestVersion(spec, fleet, activeTargets(spec, "green")); got != "2" {
		t.Fatalf("green active at 2: got %q", got)
	}
	if got := honestVersion(spec, fleet, activeTargets(spec, "blue")); got != "1" {
		t.Fatalf("blue active at 1: got %q", got)
	}
}

func TestPendingTargets(t *testing.T) {
	t.Parallel()
	bg := fleetSpec(strategies.NameBlueGreen, "blue", "blue", "green", "green")
	rolling := fleetSpec(strategies.NameRolling, "", "", "", "")
	tests := []struct {
		name           string
		spec           *deploymentSpec
		current        map[string]string
		active         string
		versionChanged bool
		want           []string
	}{
		{"rolling create", rolling, nil, "", true, []string{"t1", "t2", "t3", "t4"}},
		{"rolling resume", rolling, map[string]string{"t1": "2", "t2": "2", "t3": "1"}, "", true, []string{"t3", "t4"}},
		{"blue/green create goes green", bg, nil, "", true, []string{"t3", "t4"}},
		{"blue/green new version goes to the idle slot", bg, map[string]string{"t1": "1", "t2": "1", "t3": "1", "t4": "1"}, "green", true, []string{"t1", "t2"}},
		{"blue/green converged plans nothing", bg, map[string]string{"t1": "1", "t2": "1", "t3": "2", "t4": "2"}, "green", false, nil},
		{"blue/green added target of the active slot", bg, map[string]string{"t1": "1", "t2": "1", "t3": "2"}, "green", false, []string{"t4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := targetIDs(pendingTargets(tt.spec, tt.current, tt.active, tt.versionChanged))
			if len(got)+len(tt.want) > 0 && !slices.Equal(got, tt.want) {
				t.Fatalf("pending = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFailureMessageNamesTargetsPhaseAndRollback(t *testing.T) {
	t.Parallel()
	spec := fleetSpec(strategies.NameRolling, "", "", "")
	spec.autoRollback = true
	res := &strategies.Result{
		Status:     strategies.StatusRolledBack,
		StoppedAt:  "batch 2/3",
		Outcomes:   map[string]*strategies.TargetOutcome{"t1": {ID: "t1"}, "t2": {ID: "t2", Err: errString("HTTP 500")}, "t3": {ID: "t3"}},
		RolledBack: []string{"t1", "t2"},
	}
	msg := failureMessage(spec, res)
	for _, want := range []string{`"web"`, "batch 2/3", "Failed targets: t2", "Rolled back to previous_version: t1, t2"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure message lacks %q:\n%s", want, msg)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
