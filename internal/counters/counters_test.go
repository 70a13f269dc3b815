package counters

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestNewPresetsEveryCombination: every combination of the values is a
// series at 0 before anything is counted, and none other is made.
func TestNewPresetsEveryCombination(t *testing.T) {
	t.Parallel()
	c := New("test_calls_total", "Calls.", []string{"action", "result"}, []string{"switch", "weights"}, []string{"ok", "failed", "refused"})
	if n := testutil.CollectAndCount(c); n != 6 {
		t.Fatalf("%d series, want 6 (2 actions × 3 results)", n)
	}
	c.WithLabelValues("weights", "failed").Inc()
	for _, s := range [][2]string{{"switch", "ok"}, {"switch", "refused"}, {"weights", "ok"}} {
		if v := testutil.ToFloat64(c.WithLabelValues(s[0], s[1])); v != 0 {
			t.Errorf("%v = %v, want 0", s, v)
		}
	}
	if v := testutil.ToFloat64(c.WithLabelValues("weights", "failed")); v != 1 {
		t.Errorf("weights, failed = %v, want 1", v)
	}
	if n := testutil.CollectAndCount(c); n != 6 {
		t.Errorf("%d series after counting, want 6", n)
	}
}
