// Package promtest runs a real Prometheus for tests: the binary that
// scripts/install-clis.sh builds into the CLI cache, on 127.0.0.1, with a
// generated configuration that scrapes the given targets every second and a
// storage directory of the test's own.
//
// Start returns only once Prometheus is ready and every target has been
// scraped successfully, so a test can query right away; rate() still needs
// two scrapes, which WaitForSample waits for. The server stops when the
// test ends (or earlier with Stop), and the test fails with the tail of
// Prometheus's log when it exited on its own.
package promtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clicache"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testproc"
)

// Version is the Prometheus release the tests run against, as
// scripts/install-clis.sh builds it (PROMETHEUS_VERSION in
// scripts/versions.sh).
const Version = clicache.PrometheusVersion

// How long Start waits for /-/ready and for its targets to be up, and
// WaitForSample for a sample when its context has no deadline.
const (
	ReadyTimeout   = 30 * time.Second
	TargetsTimeout = 60 * time.Second
	SampleTimeout  = 60 * time.Second
)

const (
	pollInterval   = 100 * time.Millisecond
	defaultJobName = "codomyrmex"
)

// Binary returns the path of the Prometheus binary: $CODOMYRMEX_PROMETHEUS
// when set, else prometheus-<Version> in the CLI cache
// (clicache.Dir). It fails when that file is not an executable.
func Binary() (string, error) {
	return clicache.Binary("CODOMYRMEX_PROMETHEUS", "prometheus", Version)
}

// Server is a running Prometheus.
type Server struct {
	// URL is where it listens: http://127.0.0.1:PORT.
	URL string

	client    *http.Client
	transport *http.Transport
	proc      *testproc.Process
}

// scrapeTarget is one target of the generated configuration.
type scrapeTarget struct {
	scheme, host, path string
}

func (s scrapeTarget) url() string { return s.scheme + "://" + s.host + s.path }

// parseTarget accepts "host:port" (scraped at /metrics) or a URL
// "http://host:port/path" (at /metrics when the path is empty or "/").
func parseTarget(s string) (scrapeTarget, error) {
	if !strings.Contains(s, "://") {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return scrapeTarget{}, fmt.Errorf("target %q: want host:port or http://host:port/path: %w", s, err)
		}
		return scrapeTarget{scheme: "http", host: s, path: "/metrics"}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return scrapeTarget{}, fmt.Errorf("target %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return scrapeTarget{}, fmt.Errorf("target %q: want http(s)://host:port/path without query or user", s)
	}
	path := u.EscapedPath()
	if path == "" || path == "/" {
		path = "/metrics"
	}
	return scrapeTarget{scheme: u.Scheme, host: u.Host, path: path}, nil
}

// config renders prometheus.yml: a 1 s scrape and evaluation interval and
// one static job per scheme and metrics path ("codomyrmex", then
// "codomyrmex-2", ...; a single job when every target serves the same path).
func config(targets []scrapeTarget) string {
	type job struct {
		scheme, path string
		hosts        []string
	}
	var jobs []*job
	for _, t := range targets {
		i := slices.IndexFunc(jobs, func(j *job) bool { return j.scheme == t.scheme && j.path == t.path })
		if i < 0 {
			jobs = append(jobs, &job{scheme: t.scheme, path: t.path})
			i = len(jobs) - 1
		}
		if !slices.Contains(jobs[i].hosts, t.host) {
			jobs[i].hosts = append(jobs[i].hosts, t.host)
		}
	}
	var b strings.Builder
	b.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	if len(jobs) == 0 {
		return b.String()
	}
	b.WriteString("scrape_configs:\n")
	for i, j := range jobs {
		name := defaultJobName
		if i > 0 {
			name += "-" + strconv.Itoa(i+1)
		}
		fmt.Fprintf(&b, "  - job_name: %s\n    scheme: %s\n    metrics_path: %s\n    static_configs:\n      - targets:\n",
			strconv.Quote(name), j.scheme, strconv.Quote(j.path))
		for _, h := range j.hosts {
			fmt.Fprintf(&b, "          - %s\n", strconv.Quote(h))
		}
	}
	return b.String()
}

// Start runs Prometheus scraping targets every second and returns once it
// is ready and every target is up (t.Fatal otherwise). A target is
// "host:port", scraped at /metrics, or a URL such as
// "http://127.0.0.1:8080/metrics". The server is stopped when the test
// ends. Call it from the test's goroutine.
func Start(t testing.TB, targets ...string) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("promtest: %v", err)
	}
	parsed := make([]scrapeTarget, 0, len(targets))
	for _, s := range targets {
		st, err := parseTarget(s)
		if err != nil {
			t.Fatalf("promtest: %v", err)
		}
		parsed = append(parsed, st)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config(parsed)), 0o600); err != nil {
		t.Fatalf("promtest: %v", err)
	}

	s := testproc.StartRetrying(t, "promtest", func(attempt int) (*Server, *testproc.Process, bool, error) {
		return start(bin, dir, cfgPath, attempt)
	}, (*Server).Stop)

	if err := s.waitTargets(parsed); err != nil {
		t.Fatalf("promtest: %v; log tail:\n%s", err, s.LogTail())
	}
	return s
}

// StartFleet serves fleet, and traffic's metrics at GET /metrics, on an
// httptest server whose URL it returns, sends traffic in ticks of 10 ms and
// starts a Prometheus scraping it; all stop when the test ends.
func StartFleet(t testing.TB, fleet *simulator.Fleet, traffic *simulator.Traffic) (string, *Server) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", traffic.Handler())
	mux.Handle("/", fleet.Handler())
	srv := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); traffic.Run(ctx, 10*time.Millisecond) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return srv.URL, Start(t, srv.URL+"/metrics")
}

// start runs the binary once on a free port and waits for /-/ready. The
// port can be taken between choosing it and Prometheus binding it:
// portTaken says so.
func start(bin, dir, cfgPath string, attempt int) (s *Server, proc *testproc.Process, portTaken bool, err error) {
	ports, err := testproc.FreePorts(1)
	if err != nil {
		return nil, nil, false, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data-"+strconv.Itoa(attempt)),
		"--web.listen-address="+addr,
		// Hidden flag: new scrape targets are published every 5 s by
		// default; tests should not wait that long.
		"--scrape.discovery-reload-interval=500ms",
	)
	cmd.Dir = dir
	proc, err = testproc.Start("prometheus", cmd, filepath.Join(dir, "prometheus-"+strconv.Itoa(attempt)+".log"))
	if err != nil {
		return nil, nil, false, err
	}
	transport := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	s = &Server{
		URL:       "http://" + addr,
		client:    &http.Client{Transport: transport, Timeout: 10 * time.Second},
		transport: transport,
		proc:      proc,
	}
	if err := s.waitReady(); err != nil {
		portTaken, err := proc.NotReady(err)
		s.transport.CloseIdleConnections()
		return nil, nil, portTaken, err
	}
	return s, proc, false, nil
}

// waitReady polls /-/ready until it answers 200.
func (s *Server) waitReady() error {
	return s.proc.WaitReady(ReadyTimeout, pollInterval, func() bool { return testproc.Answers200(s.client, s.URL+"/-/ready") },
		fmt.Errorf("prometheus at %s not ready after %s", s.URL, ReadyTimeout))
}

// waitTargets polls /api/v1/targets until every target reports "up".
func (s *Server) waitTargets(targets []scrapeTarget) error {
	want := map[string]bool{}
	for _, t := range targets {
		want[t.url()] = true
	}
	if len(want) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), TargetsTimeout)
	defer cancel()
	var last string
	for {
		var res struct {
			ActiveTargets []struct {
				ScrapeURL string `json:"scrapeUrl"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"activeTargets"`
		}
		err := s.get(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &res)
		if err == nil {
			up := 0
			var states []string
			for _, a := range res.ActiveTargets {
				if !want[a.ScrapeURL] {
					continue
				}
				if a.Health == "up" {
					up++
				}
				state := fmt.Sprintf("%s %s", a.ScrapeURL, a.Health)
				if a.LastError != "" {
					state += ": " + a.LastError
				}
				states = append(states, state)
			}
			if up == len(want) {
				return nil
			}
			sort.Strings(states)
			last = fmt.Sprintf("%d of %d targets up [%s]", up, len(want), strings.Join(states, "; "))
		} else {
			last = err.Error()
		}
		select {
		case <-s.proc.Done():
			return fmt.Errorf("prometheus exited while waiting for its targets: %w", s.proc.Err())
		case <-ctx.Done():
			return fmt.Errorf("targets not up after %s: %s", TargetsTimeout, last)
		case <-time.After(pollInterval):
		}
	}
}

// Sample is one element of an instant query's result.
type Sample struct {
	Metric map[string]string
	Value  float64
	Time   time.Time
}

// APIError is an error answer of the HTTP API, such as "bad_data" for a
// query that does not parse.
type APIError struct {
	StatusCode int
	Type       string
	Msg        string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("prometheus: %d %s: %s", e.StatusCode, e.Type, e.Msg)
}

// get calls the HTTP API and decodes its data into out. A transport error
// comes back as it is (errors.Is(err, syscall.ECONNREFUSED) once stopped).
func (s *Server) get(ctx context.Context, path string, params url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path+"?"+params.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("prometheus: reading %s: %w", path, err)
	}
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return &APIError{StatusCode: resp.StatusCode, Type: "bad_response", Msg: fmt.Sprintf("%s: %v: %.200q", path, err, body)}
	}
	if env.Status != "success" {
		return &APIError{StatusCode: resp.StatusCode, Type: env.ErrorType, Msg: env.Error}
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return &APIError{StatusCode: resp.StatusCode, Type: "bad_response", Msg: fmt.Sprintf("%s: %v", path, err)}
	}
	return nil
}

// rawSample is a sample as the API encodes it: {"metric": {...},
// "value": [unix seconds, "value"]}.
type rawSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (r rawSample) sample() (Sample, error) {
	ts, ok1 := r.Value[0].(float64)
	vs, ok2 := r.Value[1].(string)
	if !ok1 || !ok2 {
		return Sample{}, fmt.Errorf("malformed sample %v", r.Value)
	}
	v, err := strconv.ParseFloat(vs, 64)
	if err != nil {
		return Sample{}, err
	}
	if r.Metric == nil {
		r.Metric = map[string]string{}
	}
	return Sample{Metric: r.Metric, Value: v, Time: time.UnixMilli(int64(ts * 1000))}, nil
}

// Query runs an instant query now. A vector comes back as its samples, a
// scalar as one sample without labels; other result types are an error.
func (s *Server) Query(ctx context.Context, query string) ([]Sample, error) {
	var res struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	params := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(time.Now().UnixMilli())/1000, 'f', 3, 64)}}
	if err := s.get(ctx, "/api/v1/query", params, &res); err != nil {
		return nil, err
	}
	var raw []rawSample
	switch res.ResultType {
	case "vector":
		if err := json.Unmarshal(res.Result, &raw); err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
	case "scalar":
		raw = make([]rawSample, 1)
		if err := json.Unmarshal(res.Result, &raw[0].Value); err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
	default:
		return nil, fmt.Errorf("query %q: got a %s, want a vector", query, res.ResultType)
	}
	out := make([]Sample, 0, len(raw))
	for _, r := range raw {
		smp, err := r.sample()
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		out = append(out, smp)
	}
	return out, nil
}

// WaitForSample runs the instant query every 100 ms until it returns a
// non-empty vector (rate() needs two scrapes: about 2 s after Start) and
// returns it. It gives up when ctx is done, after SampleTimeout when ctx
// has no deadline, or once the server has stopped. Failed queries are
// retried, except a query that does not parse (bad_data).
func (s *Server) WaitForSample(ctx context.Context, query string) ([]Sample, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, SampleTimeout)
		defer cancel()
	}
	var last error
	for {
		v, err := s.Query(ctx, query)
		if err == nil && len(v) > 0 {
			return v, nil
		}
		if apiErr := (*APIError)(nil); errors.As(err, &apiErr) && apiErr.Type == "bad_data" {
			return nil, err
		}
		last = err
		select {
		case <-s.proc.Done():
			return nil, fmt.Errorf("query %q: prometheus has stopped", query)
		case <-ctx.Done():
			if last != nil {
				return nil, fmt.Errorf("query %q: no sample before %w: %w", query, ctx.Err(), last)
			}
			return nil, fmt.Errorf("query %q: no sample before %w", query, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// Stop stops Prometheus (SIGTERM, then SIGKILL after 5 s) and waits for it
// to exit; queries fail from then on. It may be called more than once.
func (s *Server) Stop() {
	s.proc.Stop()
	s.transport.CloseIdleConnections()
}

// LogTail returns the last lines Prometheus wrote to stdout and stderr.
func (s *Server) LogTail() string { return s.proc.LogTail() }
