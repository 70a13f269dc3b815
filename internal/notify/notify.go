// Package notify delivers a rollout's notifications while it runs
// (docs/guides/watching-a-rollout.md): CloudEvents 1.0 in structured JSON
// mode, or a Slack-style {"text": ...} line, POSTed to each configured url
// with the provider's retries and timeout.
//
// Delivery never holds the rollout up: Notify queues the event and returns,
// one goroutine per destination sends its queue in order, and Close waits
// at most one request timeout for what is left. What could not be
// delivered comes back as warnings, never as a failure.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// Formats of a destination.
const (
	FormatCloudEvents = "cloudevents"
	FormatSlack       = "slack"
)

// Formats lists the formats a destination may have; the first is the
// default.
var Formats = []string{FormatCloudEvents, FormatSlack}

// Event type prefixes: the type of an event is the prefix and its kind.
const (
	DeploymentType = "dev.codomyrmex.deployment."
	RolloutType    = "dev.codomyrmex.rollout."
)

// Destination is one entry of a resource's notifications.
type Destination struct {
	URL string
	// Events are the kinds sent there; empty for all of them.
	Events []string
	Format string
	// Headers go with every request to URL's own origin, never to where it
	// redirects.
	Headers map[string]string
}

// Data is the data of an event: what happened to which rollout.
type Data struct {
	Deployment      string   `json:"deployment,omitempty"`
	Flag            string   `json:"flag,omitempty"`
	Version         string   `json:"version,omitempty"`
	PreviousVersion string   `json:"previous_version,omitempty"`
	Strategy        string   `json:"strategy,omitempty"`
	Stage           string   `json:"stage,omitempty"`
	Percentage      float64  `json:"percentage"`
	Targets         []string `json:"targets"`
	Reason          string   `json:"reason,omitempty"`
}

// Sender delivers the events of one apply of one resource. Notify and
// Close are called from one goroutine.
type Sender struct {
	typePrefix string
	source     string
	client     *http.Client
	timeout    time.Duration
	now        func() time.Time
	ctx        context.Context
	cancel     context.CancelFunc
	queues     []*queue
	wg         sync.WaitGroup
}

// Config is what a Sender needs besides its destinations.
type Config struct {
	// TypePrefix is DeploymentType or RolloutType.
	TypePrefix string
	// Name is the resource's name: the source is codomyrmex/<Name>.
	Name string
	// Transport sends the requests: the provider's retries, timeouts and
	// TLS settings, never its token.
	Transport http.RoundTripper
	// Timeout is one request timeout: the most Close waits.
	Timeout time.Duration
	// Now is the clock of the events' time.
	Now func() time.Time
}

// New starts a sender for dests. ctx only carries values (log masks):
// cancelling it does not stop the deliveries, Close does.
func New(ctx context.Context, cfg Config, dests []Destination) *Sender {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Sender{
		typePrefix: cfg.TypePrefix,
		source:     "codomyrmex/" + cfg.Name,
		client:     &http.Client{Transport: cfg.Transport},
		timeout:    cfg.Timeout,
		now:        cfg.Now,
		ctx:        ctx,
		cancel:     cancel,
	}
	for _, d := range dests {
		q := &queue{dest: d, wake: make(chan struct{}, 1), done: make(chan struct{})}
		s.queues = append(s.queues, q)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.drain(q)
		}()
	}
	return s
}

// Notify queues an event of kind for every destination that wants it. It
// never blocks on the network.
func (s *Sender) Notify(kind string, data Data) {
	if s == nil || len(s.queues) == 0 {
		return
	}
	if data.Targets == nil {
		data.Targets = []string{}
	}
	m := message{kind: kind, id: uuid.NewString(), time: s.now().UTC(), data: data}
	for _, q := range s.queues {
		if len(q.dest.Events) == 0 || slices.Contains(q.dest.Events, kind) {
			q.push(m)
		}
	}
}

// Close waits at most one request timeout for the queued events to be
// delivered, stops what is still in flight, and returns one warning per
// destination that did not get all of its events.
func (s *Sender) Close() []string {
	if s == nil {
		return nil
	}
	for _, q := range s.queues {
		q.close()
	}
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case <-finished:
	case <-timer.C:
		s.cancel()
		<-finished
	}
	s.cancel()
	var warnings []string
	for _, q := range s.queues {
		if w := q.warning(); w != "" {
			warnings = append(warnings, w)
		}
	}
	return warnings
}

// message is one queued event.
type message struct {
	kind, id string
	time     time.Time
	data     Data
}

// queue is one destination's events, sent in order by one goroutine.
type queue struct {
	dest Destination
	wake chan struct{}
	done chan struct{}

	mu      sync.Mutex
	pending []message
	closed  bool
	failed  []string // "started: HTTP 500", in order
	lost    int      // never sent: the apply ended first
}

func (q *queue) push(m message) {
	q.mu.Lock()
	q.pending = append(q.pending, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.done)
}

// next returns the next message, waiting for one until the queue is
// closed and empty.
func (q *queue) next(ctx context.Context) (message, bool) {
	for {
		q.mu.Lock()
		if len(q.pending) > 0 {
			m := q.pending[0]
			q.pending = q.pending[1:]
			q.mu.Unlock()
			return m, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return message{}, false
		}
		select {
		case <-q.wake:
		case <-q.done:
		case <-ctx.Done():
			return message{}, false
		}
	}
}

func (s *Sender) drain(q *queue) {
	for {
		m, ok := q.next(s.ctx)
		if !ok {
			break
		}
		if err := s.send(s.ctx, q.dest, m); err != nil {
			q.mu.Lock()
			if s.ctx.Err() != nil {
				q.lost++
			} else {
				q.failed = append(q.failed, fmt.Sprintf("%s: %v", m.kind, err))
			}
			q.mu.Unlock()
		}
	}
	q.mu.Lock()
	q.lost += len(q.pending)
	q.pending = nil
	q.mu.Unlock()
}

// warning says what q could not deliver; "" when everything went.
func (q *queue) warning() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.failed) == 0 && q.lost == 0 {
		return ""
	}
	var parts []string
	if len(q.failed) > 0 {
		parts = append(parts, fmt.Sprintf("%d failed (%s)", len(q.failed), strings.Join(q.failed, "; ")))
	}
	if q.lost > 0 {
		parts = append(parts, fmt.Sprintf("%d not sent before the apply ended (the rollout does not wait more than one request timeout for notifications)", q.lost))
	}
	return fmt.Sprintf("notifications to %s: %s", Origin(q.dest.URL), strings.Join(parts, "; "))
}

// send delivers one message to dest.
func (s *Sender) send(ctx context.Context, dest Destination, m message) error {
	body, contentType, err := s.encode(dest.Format, m)
	if err != nil {
		return err
	}
	// The headers are for this URL's origin only, not for where it redirects.
	ctx = protocol.WithOriginOnlyHeaders(ctx, slices.Collect(maps.Keys(dest.Headers))...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s", redactErr(err, dest.URL))
	}
	for k, v := range dest.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s", redactErr(err, dest.URL))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// encode renders m in format.
func (s *Sender) encode(format string, m message) ([]byte, string, error) {
	if format == FormatSlack {
		b, err := json.Marshal(map[string]string{"text": s.Line(m.kind, m.data)})
		return b, "application/json", err
	}
	e := event.New(event.CloudEventsVersionV1)
	e.SetID(m.id)
	e.SetType(s.typePrefix + m.kind)
	e.SetSource(s.source)
	e.SetTime(m.time)
	if err := e.SetData(event.ApplicationJSON, m.data); err != nil {
		return nil, "", err
	}
	if err := e.Validate(); err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(e)
	return b, event.ApplicationCloudEventsJSON, err
}

// Origin is scheme://host[:port] of raw: what a message may name of a
// notification url, whose path and query often hold a secret (a chat
// webhook's token).
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid url)"
	}
	return u.Scheme + "://" + u.Host
}

// redactErr is err's text with the url's path and query replaced by its
// origin.
func redactErr(err error, raw string) string {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil && (u.Path != "" || u.RawQuery != "") {
		msg = strings.ReplaceAll(msg, raw, Origin(raw)+"/…")
		msg = strings.ReplaceAll(msg, u.Redacted(), Origin(raw)+"/…")
	}
	return msg
}
