package analysis

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

func ptr[T any](v T) *T { return &v }

var window = strategies.Window{
	Deployment: "web", Version: "2.0.0", PreviousVersion: "1.0.0",
	Percentage: 25, Stage: "2", Phase: "stage 2 (25%)",
}

func TestPlaceholders(t *testing.T) {
	t.Parallel()
	got := Expand(`v={{version}} p={{ previous_version }} d={{deployment}} pct={{percentage}} s={{stage}} x={{other}} ${var.x}`, window, func(s string) string { return s })
	want := `v=2.0.0 p=1.0.0 d=web pct=25 s=2 x={{other}} ${var.x}`
	if got != want {
		t.Errorf("Expand = %q, want %q", got, want)
	}
	if err := CheckPlaceholders(`{{version}} {{stage}}`); err != nil {
		t.Errorf("known placeholders rejected: %v", err)
	}
	err := CheckPlaceholders(`rate(x{v="{{build}}"}[1m])`)
	if err == nil || !strings.Contains(err.Error(), "{{build}}") || !strings.Contains(err.Error(), "{{previous_version}}") {
		t.Errorf("CheckPlaceholders = %v, want the unknown name and the allowed ones", err)
	}
	quoted := Expand(`{v="{{version}}"}`, strategies.Window{Version: `a"b\c`}, promQLString)
	if quoted != `{v="a\"b\\c"}` {
		t.Errorf("PromQL quoting = %s", quoted)
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m    Metric
		want string
	}{
		{Metric{Max: ptr(0.01)}, "max 0.01"},
		{Metric{Min: ptr(0.9), Max: ptr(1.0)}, "min 0.9, max 1"},
		{Metric{Equals: ptr("true")}, "equals true"},
		{Metric{}, "2xx"},
	} {
		if got := tc.m.Threshold(); got != tc.want {
			t.Errorf("Threshold() = %q, want %q", got, tc.want)
		}
	}
}

// webServer answers path → (status, body) and records the requests.
type webServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

// answer is what the web server answers at a path.
type answer struct {
	status int
	body   string
}

// measureCase is one metric measured alone, and what that should give.
type measureCase struct {
	name       string
	metric     Metric
	wantPassed bool
	wantValue  string
	wantNote   string
}

// measure measures tc.metric alone (named "m") once and checks the result
// against tc; it returns the result for further checks.
func (tc measureCase) measure(t *testing.T) strategies.Measurement {
	t.Helper()
	tc.metric.Name = "m"
	got := mustNew(t, []Metric{tc.metric}).Measure(context.Background(), 0, window)
	if got.Passed != tc.wantPassed || got.Value != tc.wantValue || !strings.Contains(got.Note, tc.wantNote) {
		t.Errorf("Measure = %+v, want passed %t value %q note containing %q", got, tc.wantPassed, tc.wantValue, tc.wantNote)
	}
	return got
}

// mustNew is New(metrics, nil) for metrics the test expects to be valid.
func mustNew(t testing.TB, metrics []Metric) *Measurer {
	t.Helper()
	m, err := New(metrics, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newWebServer(t *testing.T, answers map[string]answer) *webServer {
	s := &webServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		a, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestWebMetric(t *testing.T) {
	t.Parallel()
	srv := newWebServer(t, map[string]answer{
		"/ok":      {200, `{"ok": true, "data": {"rate": 0.02, "text": "x"}, "nothing": null}`},
		"/fail":    {503, `down`},
		"/notjson": {200, `<html>`},
	})
	for _, tc := range []measureCase{
		{"any 2xx passes without json_path", Metric{Web: &Web{URL: srv.URL + "/ok"}}, true, "200", ""},
		{"a non-2xx fails", Metric{Web: &Web{URL: srv.URL + "/fail"}}, false, "503", "HTTP 503"},
		{"equals true", Metric{Equals: ptr("true"), Web: &Web{URL: srv.URL + "/ok", JSONPath: "ok"}}, true, "true", ""},
		{"equals another value", Metric{Equals: ptr("false"), Web: &Web{URL: srv.URL + "/ok", JSONPath: "ok"}}, false, "true", "not equal to false"},
		{"number under max", Metric{Max: ptr(0.05), Web: &Web{URL: srv.URL + "/ok", JSONPath: "data.rate"}}, true, "0.02", ""},
		{"number over max", Metric{Max: ptr(0.01), Web: &Web{URL: srv.URL + "/ok", JSONPath: "data.rate"}}, false, "0.02", "above max 0.01"},
		{"number under min", Metric{Min: ptr(0.5), Web: &Web{URL: srv.URL + "/ok", JSONPath: "data.rate"}}, false, "0.02", "below min 0.5"},
		{"max is inclusive", Metric{Max: ptr(0.02), Web: &Web{URL: srv.URL + "/ok", JSONPath: "data.rate"}}, true, "0.02", ""},
		{"text where a number is needed", Metric{Max: ptr(1.0), Web: &Web{URL: srv.URL + "/ok", JSONPath: "data.text"}}, false, "x", "not a number"},
		{"missing path, no_data fail", Metric{Max: ptr(1.0), Web: &Web{URL: srv.URL + "/ok", JSONPath: "data.missing"}}, false, "", `no data: nothing at json_path "data.missing" (no_data = fail)`},
		{"null, no_data pass", Metric{Max: ptr(1.0), NoDataPass: true, Web: &Web{URL: srv.URL + "/ok", JSONPath: "nothing"}}, true, "", `no data: nothing at json_path "nothing" (no_data = pass)`},
		{"not JSON", Metric{Equals: ptr("true"), Web: &Web{URL: srv.URL + "/notjson", JSONPath: "ok"}}, false, "", "the answer is not JSON"},
		{"unreachable", Metric{Web: &Web{URL: "http://127.0.0.1:1/x?key=secret"}}, false, "", "unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.measure(t)
			if got.Metric != "m" {
				t.Errorf("Measure = %+v, want it named m", got)
			}
			if strings.Contains(got.Note, "secret") {
				t.Errorf("the note shows the URL's query string: %s", got.Note)
			}
		})
	}
}

func TestWebMetricRequest(t *testing.T) {
	t.Parallel()
	srv := newWebServer(t, map[string]answer{"/smoke/2.0.0": {200, `{}`}})
	m := mustNew(t, []Metric{{Name: "smoke", Web: &Web{
		URL:     srv.URL + "/smoke/{{version}}?d={{deployment}}&s={{stage}}&p={{percentage}}&prev={{previous_version}}",
		Headers: map[string]string{"X-Check-Key": "k3y"},
	}}})
	w := window
	w.Deployment = "a b&c"
	if got := m.Measure(context.Background(), 0, w); !got.Passed {
		t.Fatalf("Measure = %+v", got)
	}
	r := srv.requests[0]
	if q := r.URL.Query(); q.Get("d") != "a b&c" || q.Get("s") != "2" || q.Get("p") != "25" || q.Get("prev") != "1.0.0" {
		t.Errorf("query %v: placeholders not filled and escaped", q)
	}
	if r.Header.Get("X-Check-Key") != "k3y" || r.Header.Get("Authorization") != "" {
		t.Errorf("headers %v: want the metric's header and no Authorization", r.Header)
	}
}

// TestUserAgent: measurements go out with the provider's User-Agent, the
// one the client behind the round tripper sends to the fleet, to
// Prometheus and to web checks alike; a User-Agent among a metric's own
// headers wins.
func TestUserAgent(t *testing.T) {
	t.Parallel()
	srv := newWebServer(t, map[string]answer{
		"/smoke":        {200, `{}`},
		"/api/v1/query": {200, `{"status":"success","data":{"resultType":"scalar","result":[0,"0.5"]}}`},
	})
	client, err := protocol.NewClient(protocol.ClientConfig{UserAgent: "terraform-provider-codomyrmex/9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New([]Metric{
		{Name: "smoke", Web: &Web{URL: srv.URL + "/smoke"}},
		{Name: "rate", Prometheus: &Prometheus{Address: srv.URL, Query: "vector(0.5)"}},
		{Name: "own", Web: &Web{URL: srv.URL + "/smoke", Headers: map[string]string{"User-Agent": "checks/1"}}},
	}, client.RoundTripper())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got := m.Measure(context.Background(), i, window); !got.Passed {
			t.Fatalf("metric %d: %+v", i, got)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.requests) != 3 {
		t.Fatalf("%d requests, want 3", len(srv.requests))
	}
	for i, want := range []string{"terraform-provider-codomyrmex/9.9.9", "terraform-provider-codomyrmex/9.9.9", "checks/1"} {
		if r := srv.requests[i]; r.UserAgent() != want {
			t.Errorf("%s %s: User-Agent %q, want %q", r.Method, r.URL.Path, r.UserAgent(), want)
		}
	}
}
