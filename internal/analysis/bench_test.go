package analysis

import (
	"context"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/promtest"
)

// BenchmarkPrometheusMeasure is the cost of one measurement against a real
// Prometheus on this machine: an instant query through client_golang and
// the threshold check (what each measurement of a window adds to a
// rollout).
func BenchmarkPrometheusMeasure(b *testing.B) {
	prom := promtest.Start(b)
	m := mustNew(b, []Metric{{Name: "m", Max: ptr(0.05), Prometheus: &Prometheus{Address: prom.URL, Query: `vector(0.01)`}}})
	b.ReportAllocs()
	for b.Loop() {
		if got := m.Measure(context.Background(), 0, window); !got.Passed {
			b.Fatalf("measurement failed: %+v", got)
		}
	}
}
