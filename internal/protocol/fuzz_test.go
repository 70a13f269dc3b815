package protocol

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FuzzHealthAnswer serves arbitrary answers (status and body) to a real
// Client's health call: it never panics, accepts exactly a 2xx JSON object
// with status "ok", and never puts the token in an error, whatever the
// server echoes.
func FuzzHealthAnswer(f *testing.F) {
	const token = "fuzz-token-5e0c2a"
	for _, seed := range []struct {
		code int
		body string
	}{
		{200, `{"status":"ok","version":"v1"}`},
		{200, `{"status":"error","version":"v1"}`},
		{200, `{"status":"ok","version":"v1"} trailing`},
		{200, `["ok"]`},
		{200, `null`},
		{200, ``},
		{200, "\x00\xff garbage"},
		{200, `{"status":"ok","version":` + strings.Repeat("[", 5000)},
		{500, `{"error":"Authorization: Bearer ` + token + `"}`},
		{200, `{"status":"` + token + `"}`},
		{200, `{"status":"ok","version":"` + token + `"` + "\x01"},
		{418, "<html>teapot</html>"},
		{204, ``},
	} {
		f.Add(seed.code, seed.body)
	}
	var mu sync.Mutex
	var code int
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		c, b := code, body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(c)
		_, _ = w.Write([]byte(b))
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{Token: token, RequestTimeout: 5 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, answer string) {
		// Statuses a server can send and that are not retried (retries are 0
		// anyway) and not informational (1xx are not final answers).
		if status < 200 || status > 599 {
			status = 200 + (status%400+400)%400
		}
		mu.Lock()
		code, body = status, answer
		mu.Unlock()
		h, err := c.Health(context.Background(), srv.URL, "")
		var want Health
		ok := status >= 200 && status < 300 && len(answer) <= MaxBodyBytes &&
			decodeJSON([]byte(answer), &want) == nil && want.Status == HealthOK
		if (err == nil) != ok {
			t.Fatalf("HTTP %d %q: Health = %+v, %v; want success %v", status, answer, h, err, ok)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Fatalf("HTTP %d %q: the error carries the token: %v", status, answer, err)
		}
	})
}

// FuzzRetryAfter checks that any Retry-After value gives a wait in
// [0, 24h] or none, and that backoff stays within its bounds.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "5", "-1", "soon", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", " 7 ", "1e3", ""} {
		f.Add(s, 3)
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string, attempt int) {
		resp := &http.Response{Header: http.Header{"Retry-After": []string{v}}}
		d, ok := retryAfter(now, resp)
		if ok && (d < 0 || d > 24*time.Hour) {
			t.Fatalf("Retry-After %q gives %s", v, d)
		}
		if secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && secs >= 0 && !ok {
			t.Fatalf("Retry-After %q (seconds) ignored", v)
		}
		// retryablehttp counts attempts from 0.
		attempt = (attempt%100 + 100) % 100
		minWait, maxWait := 10*time.Millisecond, time.Second
		if w := backoffAt(now, minWait, maxWait, attempt, resp); w < 0 || w > maxWait {
			t.Fatalf("backoff(attempt %d, Retry-After %q) = %s, outside [0, %s]", attempt, v, w, maxWait)
		}
	})
}
