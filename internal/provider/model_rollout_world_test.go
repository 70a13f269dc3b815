package provider

// The configuration and the flag services of the rollout model
// (model_rollout_acc_test.go).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/rollout"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// --- the configuration ---

// roStages is a stages list as written in HCL and as numbers; nil values
// leave the attribute out (the default).
type roStages struct {
	hcl    string
	values []float64
}

var roStageChoices = []roStages{
	{"", nil},
	{"[10, 50, 100]", []float64{10, 50, 100}},
	{"[1, 5, 25, 100]", []float64{1, 5, 25, 100}},
	{"[2, 100]", []float64{2, 100}},
	{"[50]", []float64{50}},
	{"[25, 75, 100]", []float64{25, 75, 100}},
	{"[100/3, 100]", []float64{100.0 / 3, 100}},
	{"[5, 25, 50, 100]", []float64{5, 25, 50, 100}},
}

func (s roStages) list() []float64 {
	if s.values == nil {
		return rollout.DefaultStages()
	}
	return s.values
}

// roEndpoint says where the configuration takes the endpoint from.
type roEndpoint struct {
	via string // "attribute", "provider", "env" or "none"
	svc int    // which flag service
}

type roConfig struct {
	stages   roStages
	delay    time.Duration
	paused   bool
	aborted  bool
	maxStage *int
	startAt  *time.Time
	retain   bool
	endpoint roEndpoint
	cbd      bool
}

func (c roConfig) clone() roConfig {
	if c.maxStage != nil {
		v := *c.maxStage
		c.maxStage = &v
	}
	if c.startAt != nil {
		v := *c.startAt
		c.startAt = &v
	}
	return c
}

func (c roConfig) String() string {
	var parts []string
	if c.stages.hcl != "" {
		parts = append(parts, "stages="+c.stages.hcl)
	}
	parts = append(parts, "delay="+c.delay.String())
	if c.paused {
		parts = append(parts, "paused")
	}
	if c.aborted {
		parts = append(parts, "aborted")
	}
	if c.maxStage != nil {
		parts = append(parts, fmt.Sprintf("max_stage=%d", *c.maxStage))
	}
	if c.startAt != nil {
		parts = append(parts, "start_at="+rfc(*c.startAt))
	}
	if c.retain {
		parts = append(parts, "retain")
	}
	parts = append(parts, fmt.Sprintf("endpoint=%s:%d", c.endpoint.via, c.endpoint.svc))
	if c.cbd {
		parts = append(parts, "create_before_destroy")
	}
	return strings.Join(parts, " ")
}

// --- the world ---

// roPublish is a PUT of the flag that the flag service accepted from the
// provider, at the fake clock's time.
type roPublish struct {
	at  time.Time
	doc protocol.Flag
}

// roService is a simulated flag service that records the provider's
// publishes; foreign changes bypass the record.
type roService struct {
	fleet *simulator.Fleet
	url   string // the flag endpoint
	record[roPublish]
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func newRoService(t *testing.T, clk *clocktest.Fake) *roService {
	t.Helper()
	s := &roService{fleet: simulator.NewFleet(simulator.FleetConfig{Targets: 1, InitialVersion: "1.0.0"})}
	s.url = serveFleet(t, s.fleet, func(h http.Handler) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPut || !strings.HasPrefix(r.URL.Path, "/flags/v1/flags/") {
				h.ServeHTTP(w, r)
				return
			}
			body := peekBody(r)
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			h.ServeHTTP(rec, r)
			var doc protocol.Flag
			if rec.status/100 == 2 && json.Unmarshal(body, &doc) == nil {
				s.add(roPublish{at: clk.Now(), doc: doc})
			}
		}
	}).URL + "/flags"
	return s
}

// foreign writes or deletes the flag behind the provider's back.
func (s *roService) foreign(t *testing.T, method string, doc *protocol.Flag) {
	t.Helper()
	var body io.Reader = http.NoBody
	if doc != nil {
		raw, _ := json.Marshal(doc)
		body = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, "/flags/v1/flags/checkout", body)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.fleet.Handler().ServeHTTP(rec, req)
	if rec.Code/100 != 2 && rec.Code != http.StatusNotFound {
		t.Fatalf("foreign %s of the flag: %d %s", method, rec.Code, rec.Body)
	}
}

// roSnap is the rollout as saved in state.
type roSnap struct {
	state       string
	stage       int
	pct         float64
	stages      []float64
	updatedAt   string
	nextAdvance string
	endpoint    string
}

func (s *roSnap) String() string {
	if s == nil {
		return "none"
	}
	return fmt.Sprintf("%s stage %d %g%% of %v updated %s endpoint %q", s.state, s.stage, s.pct, s.stages, s.updatedAt, s.endpoint)
}
