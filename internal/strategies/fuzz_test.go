package strategies

import (
	"strconv"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/fuzzfloat"
)

// FuzzStageGoal checks the canary arithmetic on any fleet size and stage
// list: every stage brings at least one target, never more than the fleet,
// never fewer than the stage before, and the last stage (100 %) the whole
// fleet.
func FuzzStageGoal(f *testing.F) {
	f.Add(10, fuzzfloat.Encode(10, 25, 50, 100))
	f.Add(10000, fuzzfloat.Encode(0.01, 33.3, 100))
	f.Add(1, fuzzfloat.Encode(5, 100))
	f.Add(7, fuzzfloat.Encode(30, 60, 90, 100))
	f.Fuzz(func(t *testing.T, n int, data []byte) {
		n = 1 + (n%10000+10000)%10000 // 1 … 10000 targets, as the schema allows
		var stages []float64
		for _, v := range fuzzfloat.Decode(data) {
			if len(stages) == 100 {
				break
			}
			if v > 0 && v <= 100 && (len(stages) == 0 || v > stages[len(stages)-1]) {
				stages = append(stages, v)
			}
		}
		if len(stages) == 0 || stages[len(stages)-1] != 100 {
			stages = append(stages, 100)
		}
		prev := 0
		for _, pct := range stages {
			g := stageGoal(n, pct)
			if g < 1 || g > n || g < prev {
				t.Fatalf("stageGoal(%d, %v) = %d after %d", n, pct, g, prev)
			}
			// ceil(n × pct / 100), but never short of the percentage.
			if float64(g) < float64(n)*pct/100-1e-6 {
				t.Fatalf("stageGoal(%d, %v) = %d covers less than %v%%", n, pct, g, pct)
			}
			prev = g
		}
		if prev != n {
			t.Fatalf("the last stage brings %d of %d targets", prev, n)
		}
	})
}

// FuzzPending checks the plan-time list of changed targets on any mix of
// current versions and slots: it keeps list order, holds no target that
// already runs the version, and for blue/green only the idle slot.
func FuzzPending(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5}, "green", false)
	f.Add([]byte{9, 9, 9}, "", true)
	f.Add([]byte{}, "blue", true)
	f.Fuzz(func(t *testing.T, mix []byte, active string, blueGreen bool) {
		if len(mix) > 200 {
			mix = mix[:200]
		}
		const version = "v2"
		req := Request{Version: version, Current: map[string]string{}, ActiveSlot: active}
		for i, b := range mix {
			tg := Target{ID: "t" + strconv.Itoa(i), Slot: []string{SlotBlue, SlotGreen, ""}[int(b)%3]}
			req.Targets = append(req.Targets, tg)
			switch b / 3 % 3 {
			case 0:
				req.Current[tg.ID] = version
			case 1:
				req.Current[tg.ID] = "v1"
			}
		}
		name := NameRolling
		if blueGreen {
			name = NameBlueGreen
		}
		got := Pending(name, req)
		pos := map[string]int{}
		for i, tg := range req.Targets {
			pos[tg.ID] = i
		}
		last := -1
		for _, tg := range got {
			if pos[tg.ID] <= last {
				t.Fatalf("Pending out of list order: %v", got)
			}
			last = pos[tg.ID]
			if req.Current[tg.ID] == version {
				t.Fatalf("Pending holds %s, which already runs %s", tg.ID, version)
			}
			if blueGreen && tg.Slot != IdleSlot(active) {
				t.Fatalf("Pending holds %s of slot %q; the idle slot is %q", tg.ID, tg.Slot, IdleSlot(active))
			}
		}
		want := 0
		for _, tg := range req.Targets {
			if req.Current[tg.ID] != version && (!blueGreen || tg.Slot == IdleSlot(active)) {
				want++
			}
		}
		if len(got) != want {
			t.Fatalf("Pending has %d targets, want %d", len(got), want)
		}
	})
}
