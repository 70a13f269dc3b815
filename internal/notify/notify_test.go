package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify/notifytest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// sender is a deployment's sender over the provider's client with
// timeout per request and retries.
func sender(t *testing.T, timeout time.Duration, retries int, dests ...notify.Destination) *notify.Sender {
	t.Helper()
	c, err := protocol.NewClient(protocol.ClientConfig{RequestTimeout: timeout, Retries: retries, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return notify.New(context.Background(), notify.Config{
		TypePrefix: notify.DeploymentType, Name: "web", Transport: c.RoundTripper(),
		Timeout: timeout, Now: func() time.Time { return epoch },
	}, dests)
}

var data = notify.Data{Deployment: "web", Version: "v2", PreviousVersion: "v1", Strategy: "canary", Stage: "stage 1 (10%)", Percentage: 10, Targets: []string{"t1"}}

func TestCloudEventsInOrder(t *testing.T) {
	t.Parallel()
	all, failures := notifytest.New(t), notifytest.New(t)
	s := sender(t, 5*time.Second, 0,
		notify.Destination{URL: all.URL, Format: notify.FormatCloudEvents, Headers: map[string]string{"X-Hook-Secret": "s3cret"}},
		notify.Destination{URL: failures.URL, Events: []string{"failed"}})
	for _, kind := range []string{"started", "stage_passed", "completed"} {
		s.Notify(kind, data)
	}
	if w := s.Close(); len(w) > 0 {
		t.Fatalf("warnings: %v", w)
	}
	if got := all.Kinds(); !slices.Equal(got, []string{"started", "stage_passed", "completed"}) {
		t.Fatalf("received %v", got)
	}
	if got := failures.Received(); len(got) != 0 {
		t.Errorf("a destination for failed only got %d events", len(got))
	}
	ids := map[string]bool{}
	for _, r := range all.Received() {
		e := r.Event
		ids[e.ID()] = true
		if !strings.HasPrefix(e.Type(), "dev.codomyrmex.deployment.") || e.Source() != "codomyrmex/web" || !e.Time().Equal(epoch) || e.SpecVersion() != "1.0" {
			t.Errorf("event %s", e)
		}
		var d notify.Data
		if err := e.DataAs(&d); err != nil || d.Version != "v2" || d.PreviousVersion != "v1" || d.Strategy != "canary" || d.Percentage != 10 || !slices.Equal(d.Targets, []string{"t1"}) || d.Stage != "stage 1 (10%)" {
			t.Errorf("data %+v (%v)", d, err)
		}
		if r.Header.Get("X-Hook-Secret") != "s3cret" || r.Header.Get("Authorization") != "" {
			t.Errorf("headers %v", r.Header)
		}
	}
	if len(ids) != 3 {
		t.Errorf("ids are not unique: %v", ids)
	}
}

func TestSlackLine(t *testing.T) {
	t.Parallel()
	rcv := notifytest.New(t)
	s := sender(t, 5*time.Second, 0, notify.Destination{URL: rcv.URL, Format: notify.FormatSlack})
	failed := data
	failed.Stage, failed.Targets = "stage 2 (25%)", []string{"t1", "t2", "t3", "t4", "t5", "t6", "t7"}
	failed.Reason = "stage 2 (25%): success rate 0.50\nis below 0.95"
	s.Notify("failed", failed)
	if w := s.Close(); len(w) > 0 {
		t.Fatalf("warnings: %v", w)
	}
	got := rcv.Received()
	want := "codomyrmex/web: v2 failed at stage 2 (25%) · 10% of traffic · targets t1, t2, t3, t4, t5 and 2 more · canary, from v1 · stage 2 (25%): success rate 0.50 is below 0.95"
	if len(got) != 1 || got[0].Text != want {
		t.Errorf("got %+v\nwant %q", got, want)
	}
}

func TestHeadersStayWithTheOrigin(t *testing.T) {
	t.Parallel()
	elsewhere := notifytest.New(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	s := sender(t, 5*time.Second, 0, notify.Destination{URL: redirect.URL + "/hook", Headers: map[string]string{"X-Hook-Secret": "s3cret"}})
	s.Notify("started", data)
	if w := s.Close(); len(w) > 0 {
		t.Fatalf("warnings: %v", w)
	}
	got := elsewhere.Received()
	if len(got) != 1 {
		t.Fatalf("the redirect was not followed: %d events", len(got))
	}
	if v := got[0].Header.Get("X-Hook-Secret"); v != "" {
		t.Errorf("a header went to another origin: %q", v)
	}
}

func TestAFailedDeliveryIsAWarningThatNamesOnlyTheOrigin(t *testing.T) {
	t.Parallel()
	rcv := notifytest.New(t)
	rcv.Fail(http.StatusInternalServerError)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + "/services/T000/B000/XXXXSECRET"
	down.Close()
	s := sender(t, 5*time.Second, 1,
		notify.Destination{URL: rcv.URL + "?token=XXXXSECRET"},
		notify.Destination{URL: downURL})
	s.Notify("started", data)
	s.Notify("completed", data)
	w := s.Close()
	if len(w) != 2 {
		t.Fatalf("warnings %v, want one per destination", w)
	}
	if !strings.Contains(w[0], "2 failed (started: HTTP 500; completed: HTTP 500)") {
		t.Errorf("warning %q", w[0])
	}
	if !strings.Contains(w[1], "started:") || !strings.Contains(w[1], strings.TrimSuffix(down.URL, "/")) {
		t.Errorf("warning %q", w[1])
	}
	for _, x := range w {
		if strings.Contains(x, "XXXXSECRET") {
			t.Errorf("a warning names the url's secret part: %s", x)
		}
	}
}

func TestASlowReceiverDelaysTheApplyByOneTimeoutAtMost(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	const timeout = 300 * time.Millisecond
	s := sender(t, timeout, 3, notify.Destination{URL: slow.URL})
	start := time.Now()
	for range 10 {
		s.Notify("stage_passed", data)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Notify waited for the network: %s", d)
	}
	w := s.Close()
	if d := time.Since(start); d > timeout+time.Second {
		t.Errorf("Close took %s, want at most about one request timeout (%s)", d, timeout)
	}
	if len(w) != 1 || !strings.Contains(w[0], "not sent before the apply ended") {
		t.Errorf("warnings %v", w)
	}
}
