package analysis

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/promtest"
)

// TestPrometheusMetric runs every shape of result through a real
// Prometheus: PromQL alone makes scalars, vectors, NaN and empty results.
func TestPrometheusMetric(t *testing.T) {
	t.Parallel()
	prom := promtest.Start(t)
	two := `label_replace(vector(1), "a", "x", "", "") or label_replace(vector(2), "a", "y", "", "")`
	for _, tc := range []measureCase{
		{"vector of one sample under max", Metric{Max: ptr(0.05), Prometheus: &Prometheus{Query: `vector(0.01)`}}, true, "0.01", ""},
		{"vector of one sample over max", Metric{Max: ptr(0.05), Prometheus: &Prometheus{Query: `vector(0.2)`}}, false, "0.2", "above max 0.05"},
		{"scalar under min", Metric{Min: ptr(0.99), Prometheus: &Prometheus{Query: `scalar(vector(0.9))`}}, false, "0.9", "below min 0.99"},
		{"bounds are inclusive", Metric{Min: ptr(1.0), Max: ptr(1.0), Prometheus: &Prometheus{Query: `vector(1)`}}, true, "1", ""},
		{"equals as a number", Metric{Equals: ptr("1.0"), Prometheus: &Prometheus{Query: `vector(1)`}}, true, "1", ""},
		{"empty result, no_data fail", Metric{Max: ptr(1.0), Prometheus: &Prometheus{Query: `absent(vector(1))`}}, false, "", "no data: the query returned no samples (no_data = fail)"},
		{"empty result, no_data pass", Metric{Max: ptr(1.0), NoDataPass: true, Prometheus: &Prometheus{Query: `absent(vector(1))`}}, true, "", "no_data = pass"},
		{"NaN, no_data fail", Metric{Max: ptr(1.0), Prometheus: &Prometheus{Query: `vector(0) / vector(0)`}}, false, "", "no data: NaN"},
		{"several samples name the query", Metric{Max: ptr(5.0), Prometheus: &Prometheus{Query: two}}, false, "", "returned 2 samples, want one"},
		{"placeholders filled", Metric{Equals: ptr("25"), Prometheus: &Prometheus{Query: `vector({{percentage}}) and on() (vector(1) == vector({{stage}}) - 1)`}}, true, "25", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.metric.Prometheus.Address = prom.URL
			got := tc.measure(t)
			if tc.wantNote == "returned 2 samples, want one" && !strings.Contains(got.Note, `label_replace`) {
				t.Errorf("the note does not name the query: %s", got.Note)
			}
		})
	}
}

func TestPrometheusCheckQuery(t *testing.T) {
	t.Parallel()
	prom := promtest.Start(t)
	m := mustNew(t, []Metric{
		{Name: "good", Max: ptr(1.0), Prometheus: &Prometheus{Address: prom.URL, Query: `sum(rate(x{v="{{version}}"}[1m]))`}},
		{Name: "bad", Max: ptr(1.0), Prometheus: &Prometheus{Address: prom.URL, Query: `sum(rate(x[1m]`}},
		{Name: "web", Web: &Web{URL: "http://127.0.0.1:1/"}},
	})
	if err := m.CheckQuery(context.Background(), 0, window); err != nil {
		t.Errorf("a valid query: %v", err)
	}
	var qe *QueryError
	if err := m.CheckQuery(context.Background(), 1, window); !errors.As(err, &qe) || !strings.Contains(qe.Error(), "sum(rate(x[1m]") {
		t.Errorf("a query Prometheus rejects: %v, want a QueryError naming it", err)
	}
	if err := m.CheckQuery(context.Background(), 2, window); err != nil {
		t.Errorf("a web metric has no query to check: %v", err)
	}
	prom.Stop()
	if err := m.CheckQuery(context.Background(), 0, window); err == nil || errors.As(err, &qe) {
		t.Errorf("Prometheus stopped: %v, want an error that is not a QueryError", err)
	}
	got := m.Measure(context.Background(), 0, window)
	if got.Passed || !strings.Contains(got.Note, "unreachable or failed") || !strings.Contains(got.Note, prom.URL) {
		t.Errorf("Measure with Prometheus stopped = %+v, want a failed measurement naming Prometheus", got)
	}
}
