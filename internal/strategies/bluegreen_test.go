package strategies

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// blueGreenFleet returns b1..b3 (blue) and g1..g3 (green), interleaved in
// the list, all running version.
func blueGreenFleet(t *testing.T, version string) (*fleet, []Target) {
	f, _ := newFleet(t, 0, version)
	var targets []Target
	for _, id := range []string{"b1", "g1", "b2", "g2", "b3", "g3"} {
		slot := SlotBlue
		if id[0] == 'g' {
			slot = SlotGreen
		}
		targets = append(targets, Target{ID: id, Slot: slot})
		f.versions[id] = version
	}
	return f, targets
}

func TestBlueGreenExecute(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		active       string
		noRouter     bool
		wantDeployed []string
		wantActive   string
	}{
		"create deploys green and switches": {active: "", wantDeployed: []string{"g1", "g2", "g3"}, wantActive: SlotGreen},
		"active green deploys blue":         {active: SlotGreen, wantDeployed: []string{"b1", "b2", "b3"}, wantActive: SlotBlue},
		"active blue deploys green":         {active: SlotBlue, wantDeployed: []string{"g1", "g2", "g3"}, wantActive: SlotGreen},
		"no router still flips active slot": {active: SlotBlue, noRouter: true, wantDeployed: []string{"g1", "g2", "g3"}, wantActive: SlotGreen},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := blueGreenFleet(t, "v1")
			f.gate, f.expect = 3, 3
			var events []Event
			env := f.env(clocktest.NewFake(epoch), &events)
			if tc.noRouter {
				env.Switch = nil
			}
			req := request(targets)
			req.ActiveSlot = tc.active
			res := mustNew(t, NameBlueGreen, nil).Execute(context.Background(), req, env)

			if !res.Success || res.Status != StatusCompleted {
				t.Fatalf("status %s errors %v", res.Status, res.Errors)
			}
			if !slices.Equal(res.Order, tc.wantDeployed) || !slices.Equal(sorted(f.deploys), tc.wantDeployed) {
				t.Errorf("deployed %v (order %v), want %v", f.deploys, res.Order, tc.wantDeployed)
			}
			if got := f.maxConcurrent(); got != 3 {
				t.Errorf("idle slot deployed %d at a time, want all 3 at once", got)
			}
			wantSwitch := []string{"switch " + tc.wantActive + " v2"}
			if tc.noRouter {
				wantSwitch = nil
			}
			if got := f.calls("switch"); !slices.Equal(got, wantSwitch) {
				t.Errorf("switch calls %v, want %v", got, wantSwitch)
			}
			// The switch comes after every deploy.
			if log := f.calls(""); !tc.noRouter && !strings.HasPrefix(log[len(log)-1], "switch") {
				t.Errorf("calls %v: switch is not last", log)
			}
			if res.ActiveSlot != tc.wantActive || res.TrafficPercentage != 100 {
				t.Errorf("active slot %q traffic %v, want %q 100", res.ActiveSlot, res.TrafficPercentage, tc.wantActive)
			}
			for _, tg := range targets {
				o := res.Outcomes[tg.ID]
				if inIdle := slices.Contains(tc.wantDeployed, tg.ID); inIdle != o.Attempted || inIdle == o.Skipped {
					t.Errorf("%s: outcome %+v", tg.ID, o)
				}
			}
			if !slices.ContainsFunc(events, func(e Event) bool { return e.Phase == "switch" && e.Level == LevelInfo }) && !tc.noRouter {
				t.Errorf("no INFO event for the switch: %v", events)
			}
		})
	}
}

func TestBlueGreenFailures(t *testing.T) {
	t.Parallel()
	runFailures(t, NameBlueGreen, map[string]failureCase{
		"failure before the switch leaves traffic untouched": {
			active:      SlotBlue,
			setup:       func(f *fleet) { f.deployErr["g2"] = errBoom },
			wantStatus:  StatusFailed,
			wantStopped: "green slot",
			wantActive:  SlotBlue,
			wantCalls:   []string{"deploy g1 v2", "deploy g2 v2", "deploy g3 v2"},
			wantErrs:    []string{"green slot", "g2", "traffic stays on blue", "auto_rollback is off"},
		},
		"rollback before the switch restores the idle slot only": {
			active:       SlotBlue,
			autoRollback: true,
			setup:        func(f *fleet) { f.unhealthy["g3@v2"] = true },
			wantStatus:   StatusRolledBack,
			wantStopped:  "green slot",
			wantActive:   SlotBlue,
			wantCalls: []string{"deploy g1 v2", "deploy g2 v2", "deploy g3 v2",
				"deploy g1 v1", "deploy g2 v1", "deploy g3 v1"},
			wantErrs: []string{"g3", "rolled back to v1: g1, g2, g3"},
		},
		"switch failure switches back and restores": {
			active:       SlotBlue,
			autoRollback: true,
			setup:        func(f *fleet) { f.switchErr[SlotGreen] = errBoom },
			wantStatus:   StatusRolledBack,
			wantStopped:  "switch",
			wantActive:   SlotBlue,
			wantCalls: []string{"deploy g1 v2", "deploy g2 v2", "deploy g3 v2",
				"switch green v2", "switch blue v1", "deploy g1 v1", "deploy g2 v1", "deploy g3 v1"},
			wantErrs: []string{"switch: switching traffic to green: boom", "rolled back to v1: g1, g2, g3"},
		},
		"router down: the slot that may serve is left alone": {
			active:       SlotBlue,
			autoRollback: true,
			setup:        func(f *fleet) { f.switchErr[SlotGreen] = errBoom; f.switchErr[SlotBlue] = errBoom },
			wantStatus:   StatusFailed,
			wantStopped:  "switch",
			wantActive:   SlotBlue,
			wantCalls: []string{"deploy g1 v2", "deploy g2 v2", "deploy g3 v2",
				"switch green v2", "switch blue v1"},
			wantErrs: []string{"switching traffic back to blue", "g1: not rolled back"},
		},
		"switch failure on create has no slot to go back to": {
			active:       "",
			autoRollback: true,
			setup:        func(f *fleet) { f.switchErr[SlotGreen] = errBoom },
			wantStatus:   StatusRolledBack,
			wantStopped:  "switch",
			wantActive:   "",
			wantCalls: []string{"deploy g1 v2", "deploy g2 v2", "deploy g3 v2",
				"switch green v2", "deploy g1 v1", "deploy g2 v1", "deploy g3 v1"},
			wantErrs: []string{"switch", "rolled back to v1"},
		},
	}, func(t *testing.T, _ failureCase, f *fleet, res *Result) {
		for _, id := range []string{"b1", "b2", "b3"} {
			if f.version(id) != "v1" || res.Outcomes[id].Attempted {
				t.Errorf("%s of the active slot was touched", id)
			}
		}
	})
}

// assertCallsInPhases compares call logs where calls of one kind and
// version that run concurrently may come in any order: runs of "deploy … V"
// are compared as sets.
func assertCallsInPhases(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	run := func(s []string, i int) int {
		j := i
		for j < len(s) && strings.HasPrefix(s[j], "deploy ") && lastWord(s[j]) == lastWord(s[i]) {
			j++
		}
		return j
	}
	for i := 0; i < len(want); {
		if !strings.HasPrefix(want[i], "deploy ") {
			if got[i] != want[i] {
				t.Fatalf("call %d = %q, want %q (calls %v)", i, got[i], want[i], got)
			}
			i++
			continue
		}
		j := run(want, i)
		if !slices.Equal(sorted(got[i:j]), sorted(want[i:j])) {
			t.Fatalf("calls %v, want %v (in any order within a phase)", got[i:j], want[i:j])
		}
		i = j
	}
}

func lastWord(s string) string {
	return s[strings.LastIndexByte(s, ' ')+1:]
}

func TestBlueGreenRejectsSlots(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		targets []Target
		active  string
		want    string
	}{
		"missing slot":    {[]Target{{ID: "a", Slot: SlotBlue}, {ID: "b"}, {ID: "c", Slot: SlotGreen}}, "", "missing or invalid on b"},
		"invalid slot":    {[]Target{{ID: "a", Slot: SlotBlue}, {ID: "b", Slot: "red"}}, "", "on b"},
		"one slot only":   {[]Target{{ID: "a", Slot: SlotBlue}, {ID: "b", Slot: SlotBlue}}, "", "both slots"},
		"bad active slot": {[]Target{{ID: "a", Slot: SlotBlue}, {ID: "b", Slot: SlotGreen}}, "purple", `"purple"`},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, _ := newFleet(t, 0, "v1")
			req := request(tc.targets)
			req.ActiveSlot = tc.active
			res := f.execute(t, NameBlueGreen, nil, req)
			if res.Success || res.StoppedAt != "validation" || !errorsMention(res.Errors, tc.want) {
				t.Errorf("result %s %q %v, want a validation error mentioning %q", res.Status, res.StoppedAt, res.Errors, tc.want)
			}
			if calls := f.calls(""); len(calls) != 0 {
				t.Errorf("calls made: %v", calls)
			}
		})
	}
}

// An interrupted blue/green rollout resumes: idle targets already at the
// version are skipped, and the switch still happens.
func TestBlueGreenResume(t *testing.T) {
	t.Parallel()
	f, targets := blueGreenFleet(t, "v1")
	req := request(targets)
	req.ActiveSlot = SlotBlue
	for _, id := range []string{"g1", "g2", "g3"} {
		f.versions[id] = "v2"
		req.Current[id] = "v2"
	}
	res := f.execute(t, NameBlueGreen, nil, req)
	if !res.Success || res.ActiveSlot != SlotGreen {
		t.Fatalf("status %s active %q errors %v", res.Status, res.ActiveSlot, res.Errors)
	}
	if got := f.calls(""); !slices.Equal(got, []string{"switch green v2"}) {
		t.Errorf("calls %v, want only the switch", got)
	}
}

// TestBlueGreenTopUp: an update that keeps the version deploys it to the
// active slot's new target and switches nothing, whatever happens: the slot
// serves the version before and after, and a failure restores only the
// new target. (The provider once sent a switch to the slot already active
// and, when that failed, switched traffic to the idle slot's old version.)
func TestBlueGreenTopUp(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		setup      func(f *fleet)
		wantStatus Status
		wantCalls  []string
		wantErrs   []string
	}{
		"the new target gets the version, no switch": {
			setup:      func(*fleet) {},
			wantStatus: StatusCompleted,
			wantCalls:  []string{"deploy g4 v2"},
		},
		"a router that is down does not matter": {
			setup:      func(f *fleet) { f.switchErr[SlotGreen], f.switchErr[SlotBlue] = errBoom, errBoom },
			wantStatus: StatusCompleted,
			wantCalls:  []string{"deploy g4 v2"},
		},
		"a failed new target is restored, traffic stays": {
			setup:      func(f *fleet) { f.unhealthy["g4@v2"] = true },
			wantStatus: StatusRolledBack,
			wantCalls:  []string{"deploy g4 v2", "deploy g4 v1"},
			wantErrs:   []string{"green slot: g4 failed; traffic stays on green", "rolled back to v1: g4"},
		},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := blueGreenFleet(t, "v1")
			targets = append(targets, Target{ID: "g4", Slot: SlotGreen})
			req := request(targets)
			req.ActiveSlot, req.TopUp = SlotGreen, true
			for _, id := range []string{"g1", "g2", "g3"} {
				f.versions[id], req.Current[id] = "v2", "v2"
			}
			delete(req.Current, "g4")
			tc.setup(f)
			if got := ids(Pending(NameBlueGreen, req)); !slices.Equal(got, []string{"g4"}) {
				t.Fatalf("pending %v, want [g4]", got)
			}
			res := f.execute(t, NameBlueGreen, nil, req)

			if res.Status != tc.wantStatus || res.ActiveSlot != SlotGreen {
				t.Fatalf("status %s active %q errors %v rollback %v", res.Status, res.ActiveSlot, res.Errors, res.RollbackErrors)
			}
			if got := f.calls(""); !slices.Equal(got, tc.wantCalls) {
				t.Errorf("calls %v, want %v", got, tc.wantCalls)
			}
			for _, want := range tc.wantErrs {
				if !errorsMention(res.Errors, want) {
					t.Errorf("no error mentions %q: %v", want, res.Errors)
				}
			}
			if tc.wantStatus == StatusCompleted && (res.TrafficPercentage != 100 || res.TargetsUpdated != 1) {
				t.Errorf("traffic %v updated %d, want 100 and 1", res.TrafficPercentage, res.TargetsUpdated)
			}
		})
	}

	t.Run("needs an active slot", func(t *testing.T) {
		t.Parallel()
		f, targets := blueGreenFleet(t, "v1")
		req := request(targets)
		req.TopUp = true
		res := f.execute(t, NameBlueGreen, nil, req)
		if res.Success || res.StoppedAt != "validation" || !errorsMention(res.Errors, "needs an active slot") {
			t.Errorf("result %s %q %v, want a validation error", res.Status, res.StoppedAt, res.Errors)
		}
		if calls := f.calls(""); len(calls) != 0 {
			t.Errorf("calls made: %v", calls)
		}
	})
}

func TestBlueGreenRollback(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		setup      func(f *fleet)
		wantStatus Status
		wantActive string
		wantCalls  []string
	}{
		"restores the old slot then switches back": {
			wantStatus: StatusRolledBack,
			wantActive: SlotBlue,
			wantCalls:  []string{"deploy b1 v1", "deploy b2 v1", "deploy b3 v1", "switch blue v1"},
		},
		"no switch when the old slot does not come back": {
			setup:      func(f *fleet) { f.unhealthy["b2@v1"] = true },
			wantStatus: StatusFailed,
			wantActive: SlotGreen,
			wantCalls:  []string{"deploy b1 v1", "deploy b2 v1", "deploy b3 v1"},
		},
	}
	for desc, tc := range tests {
		t.Run(desc, func(t *testing.T) {
			t.Parallel()
			f, targets := blueGreenFleet(t, "v1")
			for _, id := range []string{"g1", "g2", "g3"} {
				f.versions[id] = "v2"
			}
			if tc.setup != nil {
				tc.setup(f)
			}
			req := request(targets)
			req.ActiveSlot = SlotGreen
			var blue []Target
			for _, tg := range targets {
				if tg.Slot == SlotBlue {
					blue = append(blue, tg)
				}
			}
			res := f.rollback(t, NameBlueGreen, req, blue)
			if res.Status != tc.wantStatus || res.ActiveSlot != tc.wantActive {
				t.Fatalf("status %s active %q errors %v %v", res.Status, res.ActiveSlot, res.Errors, res.RollbackErrors)
			}
			assertCallsInPhases(t, f.calls(""), tc.wantCalls)
		})
	}
}

// A rollback that touches both slots restores the old slot, switches, and
// only then downgrades the slot that was serving.
func TestBlueGreenRollbackBothSlots(t *testing.T) {
	t.Parallel()
	f, targets := blueGreenFleet(t, "v1")
	for _, id := range []string{"g1", "g2", "g3"} {
		f.versions[id] = "v2"
	}
	req := request(targets)
	req.ActiveSlot = SlotGreen
	res := f.rollback(t, NameBlueGreen, req, targets)
	if res.Status != StatusRolledBack || res.ActiveSlot != SlotBlue {
		t.Fatalf("status %s active %q errors %v", res.Status, res.ActiveSlot, res.RollbackErrors)
	}
	assertCallsInPhases(t, f.calls(""), []string{
		"deploy b1 v1", "deploy b2 v1", "deploy b3 v1", "switch blue v1",
		"deploy g1 v1", "deploy g2 v1", "deploy g3 v1",
	})
	if len(res.RolledBack) != 6 {
		t.Errorf("RolledBack = %v", res.RolledBack)
	}
}

// Without an active slot there is nothing to switch back to: Rollback only
// restores the targets.
func TestBlueGreenRollbackNoActiveSlot(t *testing.T) {
	t.Parallel()
	f, targets := blueGreenFleet(t, "v2")
	res := f.rollback(t, NameBlueGreen, request(targets), targets[:2])
	if res.Status != StatusRolledBack || res.ActiveSlot != "" {
		t.Fatalf("status %s active %q", res.Status, res.ActiveSlot)
	}
	assertCallsInPhases(t, f.calls(""), []string{"deploy b1 v1", "deploy g1 v1"})
}
