// Package notifytest is a notification receiver for tests: an httptest
// server on 127.0.0.1 that decodes CloudEvents with the CloudEvents Go SDK
// and Slack-style {"text": ...} messages, and keeps what it received.
package notifytest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// Received is one request the receiver accepted.
type Received struct {
	// Event is the decoded CloudEvent; nil for a Slack-style message.
	Event *event.Event
	// Text is a Slack-style message's text.
	Text   string
	Header http.Header
}

// Kind is the event's kind, the last part of its type
// ("dev.codomyrmex.deployment.started" → "started"); "" for a text.
func (r Received) Kind() string {
	if r.Event == nil {
		return ""
	}
	typ := r.Event.Type()
	return typ[strings.LastIndex(typ, ".")+1:]
}

// Receiver records notifications. Requests it cannot decode are test
// errors and answered 400.
type Receiver struct {
	URL    string
	t      testing.TB
	srv    *httptest.Server
	status atomic.Int32

	mu  sync.Mutex
	got []Received
}

// New starts a receiver, stopped when the test ends.
func New(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{t: t}
	r.srv = httptest.NewServer(r)
	r.URL = r.srv.URL + "/hooks/codomyrmex"
	t.Cleanup(r.srv.Close)
	return r
}

// Fail makes the receiver answer every request with status (0: accept
// them again). A failed request is not recorded.
func (r *Receiver) Fail(status int) { r.status.Store(int32(status)) }

// Received returns what was received so far, in order.
func (r *Receiver) Received() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.got...)
}

// Kinds returns the kind of every event received so far, in order.
func (r *Receiver) Kinds() []string {
	var out []string
	for _, g := range r.Received() {
		out = append(out, g.Kind())
	}
	return out
}

// Reset forgets what was received.
func (r *Receiver) Reset() {
	r.mu.Lock()
	r.got = nil
	r.mu.Unlock()
}

// Handler is a receiver without a server of its own, for a test that
// serves it next to other handlers; its URL is empty.
func Handler(t testing.TB) *Receiver { return &Receiver{t: t} }

// ServeHTTP receives one notification.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if s := r.status.Load(); s != 0 {
		http.Error(w, "failing on purpose", int(s))
		return
	}
	if req.Method != http.MethodPost {
		r.t.Errorf("notification with method %s, want POST", req.Method)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	got := Received{Header: req.Header.Clone()}
	media, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if media == event.ApplicationCloudEventsJSON {
		e, err := cehttp.NewEventFromHTTPRequest(req)
		if err == nil {
			err = e.Validate()
		}
		if err != nil {
			r.t.Errorf("not a valid structured CloudEvent: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got.Event = e
	} else {
		var msg map[string]any
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		text, ok := "", false
		if json.Unmarshal(body, &msg) == nil && len(msg) == 1 {
			text, ok = msg["text"].(string)
		}
		if !ok || text == "" || strings.ContainsAny(text, "\r\n") {
			r.t.Errorf("not a Slack-style message of one line (Content-Type %q): %s", req.Header.Get("Content-Type"), body)
			http.Error(w, "want {\"text\": \"...\"}", http.StatusBadRequest)
			return
		}
		got.Text = text
	}
	r.mu.Lock()
	r.got = append(r.got, got)
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}
