package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = "s3cr3t-token-value"

// newTestClient returns a client with waits short enough not to slow tests.
func newTestClient(t *testing.T, cfg ClientConfig) *Client {
	t.Helper()
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = time.Millisecond
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = 2 * time.Millisecond
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// scriptedServer answers with the statuses of script in turn, repeating the
// last one, and counts calls.
func scriptedServer(t *testing.T, script ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(calls.Add(1)) - 1
		script[min(n, len(script)-1)](w)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func status(code int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func TestClientSendsProtocolRequest(t *testing.T) {
	t.Parallel()

	type seen struct {
		method, path, auth, ua, ctype, custom string
	}
	type call struct {
		seen
		body map[string]any
	}
	got := make(chan call, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := call{seen: seen{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"),
			ua: r.Header.Get("User-Agent"), ctype: r.Header.Get("Content-Type"), custom: r.Header.Get("X-Team")}}
		if err := json.NewDecoder(r.Body).Decode(&s.body); err != nil {
			t.Errorf("decoding request body: %v", err)
		}
		got <- s
	}))
	defer srv.Close()

	c := newTestClient(t, ClientConfig{
		Token:   testToken,
		Headers: map[string]string{"X-Team": "payments", "Authorization": "Basic overridden"},
	})
	err := c.Deploy(context.Background(), srv.URL+"/t/web-1/", DeployRequest{
		Deployment: "web", Version: "v2", TargetID: "web-1", Strategy: "rolling",
	})
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	c2 := <-got
	want := seen{method: http.MethodPut, path: "/t/web-1/v1/deploy", auth: "Bearer " + testToken,
		ua: DefaultUserAgent, ctype: "application/json", custom: "payments"}
	body := c2.body
	if c2.seen != want {
		t.Errorf("request = %+v, want %+v", c2.seen, want)
	}
	wantBody := map[string]any{
		"deployment": "web", "version": "v2", "previous_version": nil, "target_id": "web-1",
		"strategy": "rolling", "metadata": map[string]any{},
	}
	if fmt.Sprint(body) != fmt.Sprint(wantBody) {
		t.Errorf("body = %v, want %v", body, wantBody)
	}
}

func TestClientNoTokenNoAuthorization(t *testing.T) {
	t.Parallel()

	auth := make(chan []string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth <- r.Header.Values("Authorization")
		_, _ = io.WriteString(w, `{"status":"ok","version":"v1"}`)
	}))
	defer srv.Close()

	c := newTestClient(t, ClientConfig{UserAgent: "terraform-provider-codomyrmex/1.2.3"})
	h, err := c.Health(context.Background(), srv.URL, "")
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if h != (Health{Status: "ok", Version: "v1"}) {
		t.Errorf("Health = %+v", h)
	}
	if got := <-auth; len(got) != 0 {
		t.Errorf("Authorization sent without a token: %q", got)
	}
}

func TestClientRetries(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		script    []func(http.ResponseWriter)
		retries   int
		wantCalls int32
		wantCode  int    // 0: success
		wantErr   string // substring
	}{
		{"503 then success", []func(http.ResponseWriter){status(503, ""), status(503, ""), status(200, "")}, 2, 3, 0, ""},
		{"502 then success", []func(http.ResponseWriter){status(502, ""), status(200, "")}, 2, 2, 0, ""},
		{"504 then success", []func(http.ResponseWriter){status(504, ""), status(200, "")}, 2, 2, 0, ""},
		{"429 with Retry-After 0 then success", []func(http.ResponseWriter){func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
		}, status(200, "")}, 2, 2, 0, ""},
		{"503 exhausted", []func(http.ResponseWriter){status(503, `{"error":"warming up"}`)}, 2, 3, 503,
			`giving up after 3 attempts, last answer: HTTP 503 Service Unavailable: {"error":"warming up"}`},
		{"503 without retries", []func(http.ResponseWriter){status(503, "busy")}, 0, 1, 503, "HTTP 503 Service Unavailable: busy"},
		{"500 is final", []func(http.ResponseWriter){status(500, `{"error":"exit status 3"}`)}, 2, 1, 500, `HTTP 500 Internal Server Error: {"error":"exit status 3"}`},
		{"501 is final", []func(http.ResponseWriter){status(501, "")}, 2, 1, 501, "HTTP 501"},
		{"400 is final", []func(http.ResponseWriter){status(400, "bad")}, 2, 1, 400, "HTTP 400 Bad Request: bad"},
		{"401 is final", []func(http.ResponseWriter){status(401, "")}, 2, 1, 401, "HTTP 401 Unauthorized"},
		{"404 is final", []func(http.ResponseWriter){status(404, "")}, 2, 1, 404, "HTTP 404"},
		{"409 is final", []func(http.ResponseWriter){status(409, "")}, 2, 1, 409, "HTTP 409"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, calls := scriptedServer(t, tt.script...)
			c := newTestClient(t, ClientConfig{Retries: tt.retries})
			err := c.Deploy(context.Background(), srv.URL, DeployRequest{Version: "v1"})
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("Deploy: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Deploy succeeded, want an error")
			}
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *StatusError", err)
			}
			if se.StatusCode != tt.wantCode || se.Method != http.MethodPut || se.URL != srv.URL+"/v1/deploy" {
				t.Errorf("StatusError = %+v", se)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "PUT "+srv.URL+"/v1/deploy") {
				t.Errorf("error %q does not contain the request and %q", err, tt.wantErr)
			}
		})
	}
}

func TestClientConnectionRefusedRetried(t *testing.T) {
	t.Parallel()

	// Port 1 (tcpmux): nothing listens there, so connecting is refused. A
	// port picked free with :0 could be taken meanwhile by a parallel test.
	const addr = "http://127.0.0.1:1"

	var mu sync.Mutex
	var attempts []any
	c := newTestClient(t, ClientConfig{Retries: 2, Log: func(_ context.Context, msg string, f map[string]any) {
		if msg == "sending request" {
			mu.Lock()
			attempts = append(attempts, f["attempt"])
			mu.Unlock()
		}
	}})
	err := c.Deploy(context.Background(), addr, DeployRequest{Version: "v1"})
	if err == nil {
		t.Fatal("Deploy to a closed port succeeded")
	}
	for _, want := range []string{"PUT " + addr + "/v1/deploy", "giving up after 3 attempts", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Errorf("logged attempts %v, want [1 2 3]", attempts)
	}
}

func TestClientTimeoutRetried(t *testing.T) {
	t.Parallel()

	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // hang until the client gives up on this attempt
			return
		}
		_, _ = io.WriteString(w, `{"status":"ok","version":"v1"}`)
	}))
	defer srv.Close()

	// The timeout also bounds the retry, which dials again: 500ms leaves a
	// loaded machine room.
	c := newTestClient(t, ClientConfig{Retries: 1, RequestTimeout: 500 * time.Millisecond})
	if _, err := c.Health(context.Background(), srv.URL, ""); err != nil {
		t.Fatalf("Health after one timeout: %v", err)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("calls = %d, want 2", got)
	}
}

// TestClientTimeoutMessage: an attempt cut off by RequestTimeout always
// reads the same. net/http says "Client.Timeout exceeded" or, when its
// timer loses a race with the request's deadline, "context deadline
// exceeded"; the second made an acceptance test's pattern fail in CI. A
// deadline of the caller's own is not reported as the request timeout.
func TestClientTimeoutMessage(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Read the body first: net/http notices the client hanging up only
		// once it has.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()

	c := newTestClient(t, ClientConfig{Retries: 1, RequestTimeout: 20 * time.Millisecond, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	// Repeated: the race in net/http goes either way from call to call.
	for i := range 10 {
		err := c.Deploy(context.Background(), srv.URL, DeployRequest{Version: "v1"})
		var te *AttemptTimeoutError
		if !errors.As(err, &te) || te.After != 20*time.Millisecond || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d: error %v, want an AttemptTimeoutError after 20ms", i, err)
		}
		want := "PUT " + srv.URL + "/v1/deploy: giving up after 2 attempts, last error: no answer within the request timeout (20ms)"
		if err.Error() != want {
			t.Fatalf("call %d: error %q, want %q", i, err, want)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	slow := newTestClient(t, ClientConfig{Retries: 1, RequestTimeout: time.Minute})
	_, err := slow.Health(ctx, srv.URL, "")
	var te *AttemptTimeoutError
	if errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller's deadline: error %v, want context.DeadlineExceeded and no AttemptTimeoutError", err)
	}
}

// WithoutRetries makes a call a single attempt: a 503 comes back at once,
// where the same client otherwise retries it.
func TestClientWithoutRetries(t *testing.T) {
	t.Parallel()

	srv, calls := scriptedServer(t, status(503, ""), status(200, `{"status":"ok","version":"v1"}`))
	c := newTestClient(t, ClientConfig{Retries: 3})
	_, err := c.Health(WithoutRetries(context.Background()), srv.URL, "")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 || calls.Load() != 1 {
		t.Fatalf("error %v after %d calls, want the 503 after 1", err, calls.Load())
	}
	if _, err := c.Health(context.Background(), srv.URL, ""); err != nil || calls.Load() != 2 {
		t.Fatalf("error %v after %d calls, want success on the second", err, calls.Load())
	}
}

func TestClientContextCanceledNotRetried(t *testing.T) {
	t.Parallel()

	srv, calls := scriptedServer(t, status(503, ""))
	ctx, cancel := context.WithCancel(context.Background())
	c := newTestClient(t, ClientConfig{Retries: 5, Log: func(_ context.Context, msg string, _ map[string]any) {
		if msg == "received response" {
			cancel()
		}
	}})
	err := c.Deploy(ctx, srv.URL, DeployRequest{Version: "v1"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("calls = %d, want 1", got)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()

	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	answer := func(code int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	exact := []struct {
		name string
		resp *http.Response
		want time.Duration
	}{
		{"429 seconds", answer(429, "3"), 3 * time.Second},
		{"503 seconds", answer(503, "1"), time.Second},
		{"zero seconds", answer(429, "0"), 0},
		{"seconds above max are capped", answer(429, "120"), 10 * time.Second},
		{"huge seconds are capped", answer(429, "99999999999999"), 10 * time.Second},
		{"HTTP date", answer(429, now.Add(4*time.Second).Format(http.TimeFormat)), 4 * time.Second},
		{"HTTP date in the past", answer(503, now.Add(-time.Hour).Format(http.TimeFormat)), 0},
	}
	for _, tt := range exact {
		for attempt := range 3 {
			if got := backoffAt(now, 100*time.Millisecond, 10*time.Second, attempt, tt.resp); got != tt.want {
				t.Errorf("%s, attempt %d: backoff = %s, want %s", tt.name, attempt, got, tt.want)
			}
		}
	}

	jittered := []struct {
		name     string
		attempt  int
		resp     *http.Response
		min, max time.Duration
	}{
		{"first retry", 0, nil, 100 * time.Millisecond, 100 * time.Millisecond},
		{"second retry", 1, answer(503, ""), 100 * time.Millisecond, 200 * time.Millisecond},
		{"fourth retry", 3, answer(502, ""), 400 * time.Millisecond, 800 * time.Millisecond},
		{"capped at max", 20, nil, 5 * time.Second, 10 * time.Second},
		{"shift overflow", 200, nil, 5 * time.Second, 10 * time.Second},
		{"negative Retry-After ignored", 1, answer(429, "-3"), 100 * time.Millisecond, 200 * time.Millisecond},
		{"garbage Retry-After ignored", 1, answer(429, "soon"), 100 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, tt := range jittered {
		seen := map[time.Duration]bool{}
		for range 200 {
			got := backoffAt(now, 100*time.Millisecond, 10*time.Second, tt.attempt, tt.resp)
			if got < tt.min || got > tt.max {
				t.Fatalf("%s: backoff = %s, want within [%s, %s]", tt.name, got, tt.min, tt.max)
			}
			seen[got] = true
		}
		if tt.min != tt.max && len(seen) < 2 {
			t.Errorf("%s: backoff has no jitter", tt.name)
		}
	}
}

func TestCheckRetry(t *testing.T) {
	t.Parallel()

	c := newTestClient(t, ClientConfig{})
	for code, want := range map[int]bool{200: false, 204: false, 400: false, 401: false, 404: false, 409: false,
		429: true, 500: false, 501: false, 502: true, 503: true, 504: true, 505: false} {
		got, err := c.checkRetry(context.Background(), &http.Response{StatusCode: code}, nil)
		if got != want || err != nil {
			t.Errorf("checkRetry(%d) = %v, %v; want %v", code, got, err, want)
		}
	}

	errs := map[string]struct {
		err  error
		want bool
	}{
		"connection reset": {errors.New("read: connection reset by peer"), true},
		"redirect loop":    {fmt.Errorf("Put x: %w", errTooManyRedirects), false},
		"peer alert":       {errors.New("remote error: tls: certificate required"), false},
	}
	for name, tt := range errs {
		if got, _ := c.checkRetry(context.Background(), nil, tt.err); got != tt.want {
			t.Errorf("checkRetry(%s) = %v, want %v", name, got, tt.want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := c.checkRetry(ctx, &http.Response{StatusCode: 503}, nil); got || !errors.Is(err, context.Canceled) {
		t.Errorf("checkRetry after cancel = %v, %v; want false, context.Canceled", got, err)
	}
}

// authRecorder records the Authorization header of every call and answers
// with handler.
func authRecorder(t *testing.T, handler http.HandlerFunc) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func TestClientRedirects(t *testing.T) {
	t.Parallel()

	ok := func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), `"version":"v1"`) {
			t.Errorf("redirected %s lost its body: %q", r.Method, body)
		}
	}
	// Same host name (127.0.0.1), another port: Go alone would keep the token.
	var originURL atomic.Pointer[string]
	other, otherSeen := authRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/back" {
			http.Redirect(w, r, *originURL.Load()+"/home", http.StatusTemporaryRedirect)
			return
		}
		ok(w, r)
	})
	origin, originSeen := authRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away/v1/deploy":
			http.Redirect(w, r, other.URL+"/v1/deploy", http.StatusTemporaryRedirect)
		case "/away-and-back/v1/deploy":
			http.Redirect(w, r, other.URL+"/back", http.StatusTemporaryRedirect)
		case "/same/v1/deploy":
			http.Redirect(w, r, "/moved/v1/deploy", http.StatusTemporaryRedirect)
		default:
			ok(w, r)
		}
	})
	originURL.Store(&origin.URL)

	c := newTestClient(t, ClientConfig{Token: testToken})
	for _, prefix := range []string{"/same", "/away", "/away-and-back"} {
		if err := c.Deploy(context.Background(), origin.URL+prefix, DeployRequest{Version: "v1"}); err != nil {
			t.Fatalf("Deploy via %s: %v", prefix, err)
		}
	}
	bearer := "Bearer " + testToken
	// /same: origin twice with the token; /away: origin with it; /away-and-back:
	// origin with it, then back at the origin without it.
	if got, want := fmt.Sprint(originSeen()), fmt.Sprint([]string{bearer, bearer, bearer, bearer, ""}); got != want {
		t.Errorf("origin saw Authorization %s, want %s", got, want)
	}
	if got := otherSeen(); len(got) != 2 || got[0] != "" || got[1] != "" {
		t.Errorf("the other host:port saw Authorization %q, want it absent", got)
	}
}

func TestClientRedirectLoop(t *testing.T) {
	t.Parallel()

	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()

	c := newTestClient(t, ClientConfig{Retries: 2})
	_, err := c.Health(context.Background(), srv.URL, "")
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Fatalf("error %v, want one about the redirects", err)
	}
	if got := calls.Load(); got != 11 {
		t.Errorf("calls = %d, want 11 (one attempt, no retry)", got)
	}
}

// errorWanted checks the error of what: none when want is "", else one
// containing want (t.Fatal otherwise). It says whether an error was
// wanted, and so whether there is more of it to check.
func errorWanted(t *testing.T, what string, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	return true
}

func TestClientResponseBodyLimit(t *testing.T) {
	t.Parallel()

	doc := `{"status":"ok","version":"v1"}`
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"exactly 1 MiB", doc + strings.Repeat(" ", MaxBodyBytes-len(doc)), ""},
		{"one byte over", doc + strings.Repeat(" ", MaxBodyBytes-len(doc)+1), "response body exceeds 1 MiB"},
		{"far over", strings.Repeat("x", 3*MaxBodyBytes), "response body exceeds 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := scriptedServer(t, status(200, tt.body))
			c := newTestClient(t, ClientConfig{})
			_, err := c.Health(context.Background(), srv.URL, "")
			errorWanted(t, "Health", err, tt.wantErr)
		})
	}

	// An error answer that is too large still gives the status.
	srv, _ := scriptedServer(t, status(500, strings.Repeat("e", 2*MaxBodyBytes)))
	err := newTestClient(t, ClientConfig{}).Deploy(context.Background(), srv.URL, DeployRequest{Version: "v1"})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 500 || len(se.Body) > 4*maxExcerpt {
		t.Errorf("oversized 500: error %v", err)
	}
}

func TestClientBadAnswers(t *testing.T) {
	t.Parallel()

	health := map[string]struct {
		body, wantErr string
	}{
		"not JSON":        {"<html>502 from a proxy</html>", "not a health document: not a JSON object"},
		"empty":           {"", "empty body"},
		"null":            {"null", "not a JSON object"},
		"array":           {`[{"status":"ok"}]`, "not a JSON object"},
		"truncated":       {`{"status":"ok"`, "invalid JSON"},
		"trailing":        {`{"status":"ok"} {"x":1}`, "trailing data"},
		"wrong type":      {`{"status":1}`, "invalid JSON"},
		"binary":          {"\x00\xff\xfe{", "not a JSON object"},
		"status error":    {`{"status":"error","version":"v1"}`, `target reports status "error" (version "v1")`},
		"status missing":  {`{"version":"v1"}`, `target reports status ""`},
		"status OK upper": {`{"status":"OK"}`, `target reports status "OK"`},
	}
	for name, tt := range health {
		t.Run("health "+name, func(t *testing.T) {
			t.Parallel()
			srv, _ := scriptedServer(t, status(200, tt.body))
			_, err := newTestClient(t, ClientConfig{}).Health(context.Background(), srv.URL, "/custom/health")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), srv.URL+"/custom/health") {
				t.Fatalf("error %v, want one naming the URL and %q", err, tt.wantErr)
			}
		})
	}

	flags := map[string]struct {
		body, wantErr string
	}{
		"not JSON":    {"garbage", "not a flag document"},
		"other flag":  {`{"flag":"other","state":"active"}`, `flag document of "other", want "checkout"`},
		"no flag":     {`{}`, `flag document of "", want "checkout"`},
		"wrong types": {`{"flag":"checkout","stage":"one"}`, "invalid JSON"},
	}
	for name, tt := range flags {
		t.Run("flag "+name, func(t *testing.T) {
			t.Parallel()
			srv, _ := scriptedServer(t, status(200, tt.body))
			_, err := newTestClient(t, ClientConfig{}).ReadFlag(context.Background(), srv.URL, "checkout")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestClientHealthReturnsVersionWhenUnhealthy(t *testing.T) {
	t.Parallel()

	srv, _ := scriptedServer(t, status(200, `{"status":"error","version":"v7"}`))
	h, err := newTestClient(t, ClientConfig{}).Health(context.Background(), srv.URL, "")
	if err == nil || h.Version != "v7" || h.Status != "error" {
		t.Errorf("Health = %+v, %v; want the document and an error", h, err)
	}
}

// TestClientReusesConnectionsOfAWholeBatch checks that a batch as wide as
// MaxIdleConnsPerHost, sent twice to one host, dials once per call of the
// first batch only: every batch above the idle pool would dial again, and
// so would every batch after a call that gave up, if giving up closed the
// pool.
func TestClientReusesConnectionsOfAWholeBatch(t *testing.T) {
	t.Parallel()

	const width = 80 // above DefaultMaxIdleConnsPerHost
	var dials atomic.Int32
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// Hold every call until the whole batch is in flight, so the
		// batch needs width connections at once.
		arrived.Done()
		arrived.Wait()
		_, _ = io.WriteString(w, `{"status":"ok","version":"v1"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	failing, _ := scriptedServer(t, status(http.StatusServiceUnavailable, "restarting"))
	c := newTestClient(t, ClientConfig{MaxIdleConnsPerHost: width})
	for batch := range 2 {
		if batch > 0 {
			// A call to another host that gives up must not close this
			// host's idle connections.
			if _, err := c.Health(context.Background(), failing.URL, ""); err == nil {
				t.Fatal("Health of a target answering 503: want an error")
			}
		}
		arrived.Add(width)
		errs := make(chan error, width)
		for range width {
			go func() {
				_, err := c.Health(context.Background(), srv.URL, "")
				errs <- err
			}()
		}
		for range width {
			if err := <-errs; err != nil {
				t.Fatalf("batch %d: Health: %v", batch, err)
			}
		}
	}
	// A pool that keeps the batch opens width connections; one that drops
	// it opens 2*width. net/http may close a few on its own: a connection
	// whose request writer has not reported within 50 ms of the answer is
	// not reused (transport.go maxWriteWaitBeforeConnReuse), which a loaded
	// CI machine can cause.
	if got := dials.Load(); got < width || got > width+width/4 {
		t.Errorf("two batches of %d calls opened %d connections, want %d (a few more under load; %d means the pool was dropped)", width, got, width, 2*width)
	}
}

func TestClientFlags(t *testing.T) {
	t.Parallel()

	srv, calls := scriptedServer(t, status(404, `{"error":"flag not found"}`), status(404, ""), status(204, ""), status(500, "boom"))
	c := newTestClient(t, ClientConfig{})
	ctx := context.Background()

	if _, err := c.ReadFlag(ctx, srv.URL, "checkout"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadFlag on 404: %v, want ErrNotFound", err)
	}
	if err := c.DeleteFlag(ctx, srv.URL, "checkout"); err != nil {
		t.Errorf("DeleteFlag on 404: %v", err)
	}
	if err := c.DeleteFlag(ctx, srv.URL, "checkout"); err != nil {
		t.Errorf("DeleteFlag on 204: %v", err)
	}
	if err := c.DeleteFlag(ctx, srv.URL, "checkout"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteFlag on 500: %v, want a status error", err)
	}
	if _, err := c.ReadFlag(ctx, srv.URL, "checkout"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("ReadFlag on 500: %v, want a status error", err)
	}
	if _, err := c.ReadFlag(ctx, srv.URL, ""); err == nil {
		t.Error("ReadFlag with an empty name succeeded")
	}
	if got := calls.Load(); got != 5 {
		t.Errorf("calls = %d, want 5", got)
	}
}

func TestClientInvalidAddress(t *testing.T) {
	t.Parallel()

	c := newTestClient(t, ClientConfig{})
	ctx := context.Background()
	for name, err := range map[string]error{
		"deploy":  c.Deploy(ctx, "ftp://h", DeployRequest{}),
		"switch":  c.Switch(ctx, "http://h?x=1", SwitchRequest{}),
		"weights": c.SetWeights(ctx, "", WeightsRequest{}),
		"publish": c.PublishFlag(ctx, "http://u:p@h", Flag{Flag: "f"}),
	} {
		if err == nil || !strings.Contains(err.Error(), "invalid address") {
			t.Errorf("%s: error %v, want an invalid address", name, err)
		}
	}
}

func TestClientNeverLeaksToken(t *testing.T) {
	t.Parallel()

	srv, _ := scriptedServer(t, func(w http.ResponseWriter) {
		w.Header().Set("X-Echo", testToken)
		w.WriteHeader(503)
	})
	var mu sync.Mutex
	var logged []string
	c := newTestClient(t, ClientConfig{Token: testToken, Retries: 2, Headers: map[string]string{"X-Api-Key": "hdr-secret"},
		Log: func(_ context.Context, msg string, f map[string]any) {
			mu.Lock()
			defer mu.Unlock()
			logged = append(logged, fmt.Sprint(msg, f))
		}})
	err := c.Deploy(context.Background(), srv.URL, DeployRequest{Version: "v1"})
	if err == nil {
		t.Fatal("Deploy succeeded against 503s")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 6 {
		t.Errorf("logged %d lines, want 6 (3 requests, 3 answers): %q", len(logged), logged)
	}
	for _, s := range append(logged, err.Error()) {
		if strings.Contains(s, testToken) || strings.Contains(s, "hdr-secret") {
			t.Errorf("a secret leaked into %q", s)
		}
	}
}

func TestNewClientValidation(t *testing.T) {
	t.Parallel()

	const keyMaterial = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"
	tests := map[string]struct {
		cfg     ClientConfig
		wantErr string
	}{
		"negative retries":      {ClientConfig{Retries: -1}, "retries must be 0 or more"},
		"negative timeout":      {ClientConfig{RequestTimeout: -time.Second}, "must not be negative"},
		"negative idle conns":   {ClientConfig{MaxIdleConnsPerHost: -1}, "max idle connections per host must be 0 or more"},
		"min above max":         {ClientConfig{RetryWaitMin: time.Second, RetryWaitMax: time.Millisecond}, "is above retry wait max"},
		"bad header name":       {ClientConfig{Headers: map[string]string{"X Bad": "v"}}, `"X Bad" is not a valid header name`},
		"header value newline":  {ClientConfig{Headers: map[string]string{"X-Key": "sec\nret"}}, `value of "X-Key" contains a line break`},
		"token newline":         {ClientConfig{Token: "a\nb"}, "token must not contain a line break"},
		"CA garbage":            {ClientConfig{CACertPEM: "not a pem"}, "ca_cert_pem"},
		"cert without key":      {ClientConfig{ClientCertPEM: "x"}, "must be set together"},
		"key without cert":      {ClientConfig{ClientKeyPEM: "x"}, "must be set together"},
		"cert not PEM":          {ClientConfig{ClientCertPEM: "x", ClientKeyPEM: "y"}, `client_cert_pem: no PEM "CERTIFICATE" block`},
		"key not PEM":           {ClientConfig{ClientCertPEM: testCertPEM(t), ClientKeyPEM: keyMaterial}, `client_key_pem: no PEM "PRIVATE KEY" block`},
		"key corrupt":           {ClientConfig{ClientCertPEM: testCertPEM(t), ClientKeyPEM: "-----BEGIN PRIVATE KEY-----\n" + keyMaterial + "\n-----END PRIVATE KEY-----\n"}, "client_cert_pem / client_key_pem"},
		"key of another cert":   {ClientConfig{ClientCertPEM: testCertPEM(t), ClientKeyPEM: testKeyPEM(t)}, "client_cert_pem / client_key_pem"},
		"defaults are accepted": {ClientConfig{}, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(tt.cfg)
			if !errorWanted(t, "NewClient", err, tt.wantErr) {
				return
			}
			for _, secret := range []string{keyMaterial, "sec\nret", "BEGIN"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q echoes %q", err, secret)
				}
			}
		})
	}
}

func TestStatusErrorExcerpt(t *testing.T) {
	t.Parallel()

	e := &StatusError{Method: "PUT", URL: "http://h/v1/deploy", StatusCode: 500,
		Body: excerpt([]byte("line one\n\tline\x00two\r\n" + strings.Repeat("é", 1000) + "\xff"))}
	msg := e.Error()
	if !strings.HasPrefix(msg, "PUT http://h/v1/deploy: HTTP 500 Internal Server Error: line one line two éé") {
		t.Errorf("Error() = %q", msg)
	}
	if strings.ContainsAny(msg, "\n\r\t\x00") || len([]rune(e.Body)) > maxExcerpt+1 {
		t.Errorf("excerpt is not one short line: %q", e.Body)
	}
}

func TestClientRouterState(t *testing.T) {
	t.Parallel()
	srv, _ := scriptedServer(t,
		status(200, `{"deployments": {"web": {"weights": {"2.0.0": 25}, "updated_at": "2026-01-02T03:04:05Z"}}}`),
		status(200, `[]`),
		status(404, `no such path`))
	c := newTestClient(t, ClientConfig{})
	st, raw, err := c.RouterState(context.Background(), srv.URL+"/router")
	if err != nil || st.Deployments["web"].Weights["2.0.0"] != 25 || !strings.Contains(string(raw), `"2.0.0": 25`) {
		t.Fatalf("RouterState = %+v, %s, %v", st, raw, err)
	}
	if _, _, err := c.RouterState(context.Background(), srv.URL+"/router"); err == nil || !strings.Contains(err.Error(), "GET "+srv.URL+"/router/v1/state: answer is not a router state") {
		t.Errorf("RouterState of an array: %v, want an error naming the call", err)
	}
	var se *StatusError
	if _, _, err := c.RouterState(context.Background(), srv.URL+"/router"); !errors.As(err, &se) || se.StatusCode != 404 {
		t.Errorf("RouterState of a 404: %v, want a StatusError", err)
	}
}
