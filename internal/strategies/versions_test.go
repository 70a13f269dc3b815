package strategies

import (
	"maps"
	"slices"
	"testing"
)

// slotted returns targets t1…tn with the given slots.
func slotted(slots ...string) []Target {
	out := make([]Target, len(slots))
	for i, s := range slots {
		out[i] = Target{ID: idRange(i+1, i+1)[0], Address: "http://h/" + idRange(i+1, i+1)[0], Slot: s}
	}
	return out
}

func TestClaim(t *testing.T) {
	t.Parallel()
	targets := slotted("", "", "", "")
	checkVersions(t, "Claim", []versionCase{
		{"all at version", map[string]string{"t1": "2", "t2": "2", "t3": "2", "t4": "2"}, "2"},
		{"unknown targets do not count", map[string]string{"t1": "2", "t2": "2"}, "2"},
		{"rolled back", map[string]string{"t1": "1", "t2": "1", "t3": "1", "t4": "1"}, "1"},
		{"most common other version", map[string]string{"t1": "2", "t2": "1", "t3": "0.9", "t4": "1"}, "1"},
		{"tie goes to list order", map[string]string{"t1": "0.9", "t2": "1", "t3": "2", "t4": "2"}, "0.9"},
	}, func(fleet Versions) string { return fleet.Claim("2", targets) })
}

// versionCase is a fleet and the version a rule should pick in it.
type versionCase struct {
	name  string
	fleet Versions
	want  string
}

// checkVersions runs pick, called what, on the fleet of every case.
func checkVersions(t *testing.T, what string, cases []versionCase, pick func(Versions) string) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pick(tt.fleet); got != tt.want {
				t.Fatalf("%s = %q, want %q", what, got, tt.want)
			}
		})
	}
}

func TestClaimBlueGreenLooksAtActiveSlot(t *testing.T) {
	t.Parallel()
	targets := slotted("blue", "blue", "green", "green")
	fleet := map[string]string{"t1": "1", "t2": "1", "t3": "2", "t4": "2"}
	if got := Versions(fleet).Claim("2", ActiveTargets(NameBlueGreen, targets, "green")); got != "2" {
		t.Fatalf("green active at 2: got %q", got)
	}
	if got := Versions(fleet).Claim("2", ActiveTargets(NameBlueGreen, targets, "blue")); got != "1" {
		t.Fatalf("blue active at 1: got %q", got)
	}
}

// TestClaimAtRefresh: refresh keeps the saved version while some target
// still runs it (an interrupted update must keep the version to roll back
// to), and only otherwise takes the version most targets report.
func TestClaimAtRefresh(t *testing.T) {
	t.Parallel()
	targets := slotted("", "", "", "")
	checkVersions(t, "ClaimAtRefresh", []versionCase{
		{"converged", map[string]string{"t1": "2", "t2": "2", "t3": "2", "t4": "2"}, "2"},
		{"update to 3 interrupted halfway", map[string]string{"t1": "3", "t2": "3", "t3": "3", "t4": "2"}, "2"},
		{"drift on one target", map[string]string{"t1": "2", "t2": "2.1-hotfix", "t3": "2", "t4": "2"}, "2"},
		{"nobody runs it any more", map[string]string{"t1": "3", "t2": "3", "t3": "1", "t4": "3"}, "3"},
		{"nothing answered", map[string]string{}, "2"},
	}, func(fleet Versions) string {
		return fleet.ClaimAtRefresh(NameRolling, "2", StatusCompleted, 100, targets)
	})
}

// TestAfterRefresh: a target that answers without a version, or does not
// answer, keeps its known version (never ""); without expect_version a
// reported version is information, not drift.
func TestAfterRefresh(t *testing.T) {
	t.Parallel()
	targets := slotted("", "", "")
	known := map[string]string{"t1": "2", "t2": "2", "t3": "2"}
	tests := []struct {
		name     string
		reported map[string]string
		errs     map[string]error
		expect   bool
		want     map[string]string
	}{
		{"drift is recorded", map[string]string{"t1": "2", "t2": "1", "t3": "2"}, nil, true, map[string]string{"t1": "2", "t2": "1", "t3": "2"}},
		{"no version keeps the known one", map[string]string{"t1": "", "t2": "", "t3": ""}, nil, false, known},
		{"no version keeps it with expect_version too", map[string]string{"t1": "", "t2": "2", "t3": "2"}, nil, true, known},
		{"unreachable keeps it", map[string]string{"t1": "2", "t3": "2"}, map[string]error{"t2": errBoom}, true, known},
		{"other version without expect_version is information", map[string]string{"t1": "9.9.9", "t2": "2", "t3": "2"}, nil, false, known},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Versions(known).AfterRefresh(targets, tt.reported, tt.errs, tt.expect); !maps.Equal(got, tt.want) {
				t.Fatalf("AfterRefresh = %v, want %v", got, tt.want)
			}
		})
	}
	// A target with no known version takes what it reports, if anything.
	got := Versions(map[string]string{}).AfterRefresh(targets, map[string]string{"t1": "3", "t2": ""}, nil, false)
	if want := map[string]string{"t1": "3"}; !maps.Equal(got, want) {
		t.Fatalf("AfterRefresh without known versions = %v, want %v", got, want)
	}
}

// TestSameAddress: identity is id + address.
func TestSameAddress(t *testing.T) {
	t.Parallel()
	prior := slotted("", "", "")
	now := slices.Clone(prior)
	now[1].Address = "http://h/other"
	now = append(now, Target{ID: "t9", Address: "http://h/t9"})
	got := Versions(map[string]string{"t1": "2", "t2": "2", "t3": ""}).SameAddress(prior, now)
	if want := map[string]string{"t1": "2"}; !maps.Equal(got, want) {
		t.Fatalf("SameAddress = %v, want %v", got, want)
	}
}

// TestClaimAtRefreshKeepsACanaryWithTraffic: while the router sends the
// saved version traffic, refresh keeps it even when no target runs it, so
// the next apply is a repair that never takes that traffic away.
func TestClaimAtRefreshKeepsACanaryWithTraffic(t *testing.T) {
	t.Parallel()
	targets := slotted("", "")
	fleet := map[string]string{"t1": "3", "t2": "3"}
	if got := Versions(fleet).ClaimAtRefresh(NameCanary, "2", StatusCompleted, 100, targets); got != "2" {
		t.Fatalf("canary at 100%%: %q, want 2", got)
	}
	if got := Versions(fleet).ClaimAtRefresh(NameCanary, "2", StatusCompleted, 0, targets); got != "3" {
		t.Fatalf("canary without traffic: %q, want 3", got)
	}
}
