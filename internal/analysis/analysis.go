// Package analysis takes the measurements that decide whether a new version
// is good (docs/guides/prometheus-analysis.md): instant queries to Prometheus through its official
// Go client, and web checks read with a JSON path, each compared with its
// thresholds. The engine (internal/strategies) decides when to measure and
// what a failed measurement does; this package only measures.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/tidwall/gjson"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/strategies"
)

// No-data policies.
const (
	NoDataFail = "fail"
	NoDataPass = "pass"
)

// Metric is one measurement with its thresholds. Exactly one of Prometheus
// and Web is set.
type Metric struct {
	Name string
	// Min and Max bound a numeric value, both inclusive; nil: no bound.
	Min, Max *float64
	// Equals, when set, is the value required: compared as text for a web
	// value, as a number for Prometheus.
	Equals *string
	// NoDataPass: an empty result, a NaN or a missing JSON path passes.
	NoDataPass bool
	Prometheus *Prometheus
	Web        *Web
}

// Prometheus is an instant query to the HTTP API v1 of a Prometheus server.
type Prometheus struct {
	Address string
	Query   string
	// Headers are sent to Address only (for example an authorization of the
	// metrics server's own).
	Headers map[string]string
}

// Web is a GET of URL; without JSONPath any 2xx answer passes.
type Web struct {
	URL string
	// JSONPath selects the value in the JSON body, in gjson syntax
	// ("ok", "data.checks.0.status").
	JSONPath string
	Headers  map[string]string
}

// Threshold describes what the metric requires: "max 0.01",
// "min 0.9, max 1", "equals true", "2xx".
func (m Metric) Threshold() string {
	var parts []string
	if m.Min != nil {
		parts = append(parts, "min "+formatFloat(*m.Min))
	}
	if m.Max != nil {
		parts = append(parts, "max "+formatFloat(*m.Max))
	}
	if m.Equals != nil {
		parts = append(parts, "equals "+*m.Equals)
	}
	if len(parts) == 0 {
		return "2xx"
	}
	return strings.Join(parts, ", ")
}

// placeholder matches {{name}}; names are checked against Placeholders.
var placeholder = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Placeholders are the names a query or URL may use as {{name}}.
func Placeholders() []string {
	return []string{"version", "previous_version", "deployment", "percentage", "stage"}
}

// CheckPlaceholders reports the first {{name}} in s that is not one of
// Placeholders.
func CheckPlaceholders(s string) error {
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(Placeholders(), m[1]) {
			return fmt.Errorf("unknown placeholder %s: allowed are {{%s}}", m[0], strings.Join(Placeholders(), "}}, {{"))
		}
	}
	return nil
}

// Expand fills the placeholders of s from w, passing each value through
// quote (escaping for a PromQL string, a URL query).
func Expand(s string, w strategies.Window, quote func(string) string) string {
	values := map[string]string{
		"version":          w.Version,
		"previous_version": w.PreviousVersion,
		"deployment":       w.Deployment,
		"percentage":       formatFloat(w.Percentage),
		"stage":            w.Stage,
	}
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		if v, ok := values[name]; ok {
			return quote(v)
		}
		return m
	})
}

// promQLString escapes a value for a double-quoted PromQL string, where
// placeholders usually stand ("version=\"{{version}}\"").
var promQLString = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace

// Measurer measures a list of metrics. It is safe for concurrent use.
type Measurer struct {
	metrics []Metric
	apis    []promv1.API // by metric index; nil for a web metric
	web     *http.Client
}

// maxBody bounds what is read of a web check's answer.
const maxBody = 1 << 20

// New returns a Measurer sending its requests through rt (retries,
// timeouts, TLS), with each metric's headers added for its own host only.
func New(metrics []Metric, rt http.RoundTripper) (*Measurer, error) {
	if rt == nil {
		rt = http.DefaultTransport
	}
	m := &Measurer{metrics: metrics, apis: make([]promv1.API, len(metrics)), web: &http.Client{Transport: rt}}
	for i, mt := range metrics {
		if mt.Prometheus == nil {
			continue
		}
		c, err := api.NewClient(api.Config{
			Address:      mt.Prometheus.Address,
			RoundTripper: withHeaders{rt, mt.Prometheus.Headers},
		})
		if err != nil {
			return nil, fmt.Errorf("metric %q: prometheus address: %w", mt.Name, err)
		}
		m.apis[i] = promv1.NewAPI(c)
	}
	return m, nil
}

// withHeaders adds headers to every request it sends.
type withHeaders struct {
	rt      http.RoundTripper
	headers map[string]string
}

func (h withHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(h.headers) > 0 {
		req = req.Clone(protocol.WithOriginOnlyHeaders(req.Context(), slices.Collect(maps.Keys(h.headers))...))
		for k, v := range h.headers {
			req.Header.Set(k, v)
		}
	}
	return h.rt.RoundTrip(req)
}

// Measure takes one measurement of metric i in window w; a failed query is
// a failed measurement with a Note.
func (m *Measurer) Measure(ctx context.Context, i int, w strategies.Window) strategies.Measurement {
	mt := m.metrics[i]
	out := strategies.Measurement{Metric: mt.Name, Threshold: mt.Threshold()}
	if mt.Prometheus != nil {
		v, err := m.query(ctx, i, w)
		switch {
		case errors.Is(err, errNoSamples):
			out = mt.noData(out, "the query returned no samples")
		case err != nil:
			out.Note = err.Error()
		case math.IsNaN(v):
			out = mt.noData(out, "NaN")
		default:
			out.Value = formatMeasured(v)
			out.Passed, out.Note = mt.compareNumber(v)
		}
		return out
	}
	return m.measureWeb(ctx, mt, w, out)
}

// errNoSamples is an empty vector: no data, like a NaN, but named as what
// it is (a series that does not exist is not a division by zero).
var errNoSamples = errors.New("no samples")

// query runs metric i's query and returns its one value; an empty vector is
// errNoSamples.
func (m *Measurer) query(ctx context.Context, i int, w strategies.Window) (float64, error) {
	mt := m.metrics[i]
	q := Expand(mt.Prometheus.Query, w, promQLString)
	val, _, _, err := m.apis[i].Query(ctx, q, time.Time{})
	if err != nil {
		return 0, fmt.Errorf("prometheus at %s unreachable or failed: %w", mt.Prometheus.Address, err)
	}
	switch v := val.(type) {
	case *model.Scalar:
		return float64(v.Value), nil
	case model.Vector:
		switch len(v) {
		case 0:
			return 0, errNoSamples
		case 1:
			return float64(v[0].Value), nil
		default:
			return 0, fmt.Errorf("query %q returned %d samples, want one (aggregate it, e.g. with sum())", q, len(v))
		}
	default:
		return 0, fmt.Errorf("query %q returned a %s, want a scalar or a vector of one sample", q, val.Type())
	}
}

// noData applies the no_data policy; what says what was found.
func (mt Metric) noData(out strategies.Measurement, what string) strategies.Measurement {
	policy := NoDataFail
	if mt.NoDataPass {
		policy = NoDataPass
	}
	out.Passed = mt.NoDataPass
	out.Note = fmt.Sprintf("no data: %s (no_data = %s)", what, policy)
	return out
}

// compareNumber checks v against the thresholds.
func (mt Metric) compareNumber(v float64) (bool, string) {
	if mt.Min != nil && v < *mt.Min {
		return false, "below min " + formatFloat(*mt.Min)
	}
	if mt.Max != nil && v > *mt.Max {
		return false, "above max " + formatFloat(*mt.Max)
	}
	if mt.Equals != nil {
		want, err := strconv.ParseFloat(*mt.Equals, 64)
		if err != nil || v != want {
			return false, "not equal to " + *mt.Equals
		}
	}
	return true, ""
}

func (m *Measurer) measureWeb(ctx context.Context, mt Metric, w strategies.Window, out strategies.Measurement) strategies.Measurement {
	u := Expand(mt.Web.URL, w, url.QueryEscape)
	// The headers are for this URL's origin only, not for where it redirects.
	ctx = protocol.WithOriginOnlyHeaders(ctx, slices.Collect(maps.Keys(mt.Web.Headers))...)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		out.Note = fmt.Sprintf("web check: %v", err)
		return out
	}
	for k, v := range mt.Web.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := m.web.Do(req)
	if err != nil {
		out.Note = fmt.Sprintf("web check %s unreachable or failed: %v", redactURL(u), unwrapURLError(err))
		return out
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		out.Note = fmt.Sprintf("web check %s: reading the answer: %v", redactURL(u), err)
		return out
	}
	if resp.StatusCode/100 != 2 {
		out.Value = strconv.Itoa(resp.StatusCode)
		out.Note = fmt.Sprintf("HTTP %d", resp.StatusCode)
		return out
	}
	if mt.Web.JSONPath == "" {
		out.Value, out.Passed = strconv.Itoa(resp.StatusCode), true
		return out
	}
	if !gjson.ValidBytes(body) {
		out.Note = fmt.Sprintf("web check %s: the answer is not JSON", redactURL(u))
		return out
	}
	r := gjson.GetBytes(body, mt.Web.JSONPath)
	if !r.Exists() || r.Type == gjson.Null {
		return mt.noData(out, fmt.Sprintf("nothing at json_path %q", mt.Web.JSONPath))
	}
	out.Value = r.String()
	if mt.Min == nil && mt.Max == nil {
		if *mt.Equals != out.Value {
			out.Note = "not equal to " + *mt.Equals
			return out
		}
		out.Passed = true
		return out
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(out.Value), 64)
	if err != nil {
		out.Note = "not a number"
		return out
	}
	if math.IsNaN(v) {
		return mt.noData(out, "NaN")
	}
	out.Passed, out.Note = mt.compareNumber(v)
	return out
}

// CheckQuery runs metric i's Prometheus query once, as a plan does. It
// returns a *QueryError when Prometheus rejects the query (bad_data), any
// other error when it could not tell.
func (m *Measurer) CheckQuery(ctx context.Context, i int, w strategies.Window) error {
	if m.apis[i] == nil {
		return nil
	}
	q := Expand(m.metrics[i].Prometheus.Query, w, promQLString)
	_, _, _, err := m.apis[i].Query(ctx, q, time.Time{})
	var apiErr *promv1.Error
	if errors.As(err, &apiErr) && apiErr.Type == promv1.ErrBadData {
		return &QueryError{Query: q, Msg: apiErr.Msg}
	}
	return err
}

// QueryError is a query Prometheus rejected.
type QueryError struct {
	Query string
	Msg   string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("Prometheus rejects the query %q: %s", e.Query, e.Msg)
}

// redactURL drops the query string and user info of u for messages: they
// may hold a key.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(invalid URL)"
	}
	p.User, p.RawQuery, p.Fragment = nil, "", ""
	return p.String()
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// formatMeasured prints a measured value with 6 significant digits: a
// rate need not show 17.
func formatMeasured(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
