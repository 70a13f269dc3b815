package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// memTarget is a TargetBackend that records deploys.
type memTarget struct {
	mu        sync.Mutex
	version   string
	deploys   []DeployRequest
	failWith  error
	healthErr error
}

func (m *memTarget) Deploy(_ context.Context, req DeployRequest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return m.failWith
	}
	m.deploys = append(m.deploys, req)
	m.version = req.Version
	return nil
}

func (m *memTarget) Health(context.Context) (Health, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Health{Status: HealthOK, Version: m.version}, m.healthErr
}

type memRouter struct {
	mu       sync.Mutex
	switches []SwitchRequest
	weights  []WeightsRequest
}

func (m *memRouter) Switch(_ context.Context, req SwitchRequest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.switches = append(m.switches, req)
	return nil
}

func (m *memRouter) SetWeights(_ context.Context, req WeightsRequest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.weights = append(m.weights, req)
	return nil
}

type memFlags struct {
	mu    sync.Mutex
	flags map[string]Flag
}

func (m *memFlags) Put(_ context.Context, f Flag) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.flags[f.Flag] = f
	return nil
}

func (m *memFlags) Get(_ context.Context, name string) (Flag, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.flags[name]
	return f, ok, nil
}

func (m *memFlags) Delete(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.flags, name)
	return nil
}

// raw makes one request against h and returns status, headers and the
// decoded JSON body.
func raw(t *testing.T, h http.Handler, method, path, auth, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var doc map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("%s %s: answer %q is not JSON: %v", method, path, rec.Body.String(), err)
		}
	}
	return rec.Code, rec.Header(), doc
}

func TestTargetHandler(t *testing.T) {
	t.Parallel()

	const bearer = "Bearer tok"
	valid := `{"deployment":"web","version":"v2","previous_version":null,"target_id":"t1","strategy":"rolling","metadata":{}}`
	tests := []struct {
		name       string
		backend    *memTarget
		method     string
		path, auth string
		body       string
		wantCode   int
		wantErr    string // substring of {"error": …}
		wantAllow  string
	}{
		{name: "deploy", method: "PUT", path: "/v1/deploy", auth: bearer, body: valid, wantCode: 200},
		{name: "bearer scheme is case-insensitive", method: "PUT", path: "/v1/deploy", auth: "bearer tok", body: valid, wantCode: 200},
		{name: "health", method: "GET", path: "/v1/health", auth: bearer, wantCode: 200},
		{name: "no token", method: "PUT", path: "/v1/deploy", body: valid, wantCode: 401, wantErr: "bearer token"},
		{name: "wrong token", method: "GET", path: "/v1/health", auth: "Bearer nope", wantCode: 401, wantErr: "bearer token"},
		{name: "basic auth", method: "GET", path: "/v1/health", auth: "Basic dG9r", wantCode: 401, wantErr: "bearer token"},
		{name: "unknown path", method: "GET", path: "/v2/health", auth: bearer, wantCode: 404, wantErr: "no protocol endpoint"},
		// The order is documented: 404 for an unknown path, then 401, then 405.
		{name: "unknown path without token", method: "GET", path: "/v2/health", wantCode: 404, wantErr: "no protocol endpoint"},
		{name: "wrong method without token", method: "POST", path: "/v1/deploy", wantCode: 401, wantErr: "bearer token"},
		{name: "trailing slash", method: "GET", path: "/v1/health/", auth: bearer, wantCode: 404, wantErr: "no protocol endpoint"},
		{name: "wrong method", method: "POST", path: "/v1/deploy", auth: bearer, body: valid, wantCode: 405, wantErr: "use PUT", wantAllow: "PUT"},
		{name: "GET deploy", method: "GET", path: "/v1/deploy", auth: bearer, wantCode: 405, wantAllow: "PUT"},
		{name: "bad JSON", method: "PUT", path: "/v1/deploy", auth: bearer, body: `{"version":`, wantCode: 400, wantErr: "invalid JSON body"},
		{name: "wrong type", method: "PUT", path: "/v1/deploy", auth: bearer, body: `{"version":2}`, wantCode: 400, wantErr: "invalid JSON body"},
		{name: "trailing data", method: "PUT", path: "/v1/deploy", auth: bearer, body: valid + `{}`, wantCode: 400, wantErr: "trailing data"},
		{name: "no version", method: "PUT", path: "/v1/deploy", auth: bearer, body: `{"deployment":"web"}`, wantCode: 400, wantErr: "version is required"},
		{name: "body too large", method: "PUT", path: "/v1/deploy", auth: bearer,
			body: `{"version":"v2","metadata":{"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}}`, wantCode: 413, wantErr: "exceeds 1 MiB"},
		{name: "backend failure", backend: &memTarget{failWith: errors.New("exit status 3")}, method: "PUT", path: "/v1/deploy",
			auth: bearer, body: valid, wantCode: 500, wantErr: `deploying version "v2": exit status 3`},
		{name: "health failure", backend: &memTarget{healthErr: errors.New("disk")}, method: "GET", path: "/v1/health",
			auth: bearer, wantCode: 500, wantErr: "health check failed: disk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.backend
			if b == nil {
				b = &memTarget{version: "v1"}
			}
			code, hdr, doc := raw(t, NewTargetHandler(b, "tok"), tt.method, tt.path, tt.auth, tt.body)
			if code != tt.wantCode {
				t.Fatalf("status %d, want %d (%v)", code, tt.wantCode, doc)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if msg, _ := doc["error"].(string); tt.wantErr != "" && !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q, want %q", msg, tt.wantErr)
			}
			if tt.wantAllow != "" && hdr.Get("Allow") != tt.wantAllow {
				t.Errorf("Allow %q, want %q", hdr.Get("Allow"), tt.wantAllow)
			}
			if code == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if code >= 400 && len(b.deploys) != 0 {
				t.Errorf("a rejected call reached the backend: %+v", b.deploys)
			}
		})
	}
}

func TestTargetHandlerWithoutToken(t *testing.T) {
	t.Parallel()

	code, _, doc := raw(t, NewTargetHandler(&memTarget{version: "v1"}, ""), "GET", "/v1/health", "Bearer anything", "")
	if code != 200 || doc["status"] != "ok" || doc["version"] != "v1" {
		t.Errorf("health = %d %v", code, doc)
	}
}

func TestRouterHandler(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, path, body string
		wantCode         int
		wantErr          string
	}{
		{"switch", "/v1/switch", `{"deployment":"web","slot":"green","version":"v2"}`, 200, ""},
		{"bad slot", "/v1/switch", `{"deployment":"web","slot":"red","version":"v2"}`, 400, `slot must be "blue" or "green"`},
		{"switch without version", "/v1/switch", `{"slot":"blue"}`, 400, "version is required"},
		{"weights", "/v1/weights", `{"deployment":"web","version":"v2","percentage":25}`, 200, ""},
		{"weights to zero", "/v1/weights", `{"deployment":"web","version":"v2","percentage":0}`, 200, ""},
		{"weights above 100", "/v1/weights", `{"deployment":"web","version":"v2","percentage":100.5}`, 400, "percentage must be in [0, 100]"},
		{"negative weights", "/v1/weights", `{"deployment":"web","version":"v2","percentage":-1}`, 400, "percentage must be in [0, 100]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &memRouter{}
			code, _, doc := raw(t, NewRouterHandler(r, ""), "PUT", tt.path, "", tt.body)
			if code != tt.wantCode {
				t.Fatalf("status %d, want %d (%v)", code, tt.wantCode, doc)
			}
			if msg, _ := doc["error"].(string); !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error %q, want %q", msg, tt.wantErr)
			}
			if calls := len(r.switches) + len(r.weights); (code == 200) != (calls == 1) {
				t.Errorf("status %d but the backend got %d calls", code, calls)
			}
		})
	}
}

// statefulRouter is a memRouter that tells what it was last told.
type statefulRouter struct {
	memRouter
	fail bool
}

func (s *statefulRouter) RouterState(context.Context) (any, error) {
	if s.fail {
		return nil, errors.New("disk on fire")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]int{"switches": len(s.switches), "weights": len(s.weights)}, nil
}

// TestRouterStateEndpoint: GET /v1/state is served only for a backend that
// has a state, behind the same token and method rules as the calls.
func TestRouterStateEndpoint(t *testing.T) {
	t.Parallel()
	r := &statefulRouter{}
	h := NewRouterHandler(r, "tok")
	const bearer = "Bearer tok"
	if code, _, doc := raw(t, h, "PUT", "/v1/weights", bearer, `{"deployment":"web","version":"v2","percentage":25}`); code != 200 {
		t.Fatalf("weights = %d %v", code, doc)
	}
	code, _, doc := raw(t, h, "GET", "/v1/state", bearer, "")
	if code != 200 || doc["weights"] != float64(1) || doc["switches"] != float64(0) {
		t.Errorf("state = %d %v", code, doc)
	}
	for _, tt := range []struct {
		method, auth string
		want         int
	}{
		{"GET", "", 401},
		{"PUT", bearer, 405},
	} {
		if code, _, doc := raw(t, h, tt.method, "/v1/state", tt.auth, ""); code != tt.want {
			t.Errorf("%s /v1/state (auth %q) = %d %v, want %d", tt.method, tt.auth, code, doc, tt.want)
		}
	}
	r.fail = true
	if code, _, doc := raw(t, h, "GET", "/v1/state", bearer, ""); code != 500 || !strings.Contains(fmt.Sprint(doc["error"]), "disk on fire") {
		t.Errorf("failing state = %d %v", code, doc)
	}
	// A router without a state (the simulator's) has no such endpoint.
	if code, _, _ := raw(t, NewRouterHandler(&memRouter{}, ""), "GET", "/v1/state", "", ""); code != 404 {
		t.Errorf("state of a stateless router = %d, want 404", code)
	}
}

func TestFlagHandler(t *testing.T) {
	t.Parallel()

	s := &memFlags{flags: map[string]Flag{}}
	h := NewFlagHandler(s, "tok")
	const bearer = "Bearer tok"

	steps := []struct {
		method, path, body string
		wantCode           int
		wantErr            string
	}{
		{"GET", "/v1/flags/checkout", "", 404, `flag "checkout" not found`},
		{"PUT", "/v1/flags/checkout", `{"flag":"checkout","state":"active","stage":0,"percentage":5,"stages":[5,100],"updated_at":"2025-01-01T00:00:00Z"}`, 200, ""},
		{"PUT", "/v1/flags/checkout", `{"flag":"other","state":"active"}`, 400, `document is for flag "other"`},
		{"PUT", "/v1/flags/checkout", `{"state":"sideways"}`, 400, "state must be one of"},
		{"PUT", "/v1/flags/checkout", `{"state":"active","percentage":101}`, 400, "percentage must be in [0, 100]"},
		{"PUT", "/v1/flags/checkout", `{"state":"active","percentage":-1}`, 400, "percentage must be in [0, 100]"},
		{"PUT", "/v1/flags/checkout", `{"state":"active","stage":-1}`, 400, "stage must not be negative"},
		{"PUT", "/v1/flags/checkout", `{"state":"active","stages":[5,200]}`, 400, "stages[1] must be in [0, 100]"},
		{"PUT", "/v1/flags/checkout", `{"state":"active","updated_at":"yesterday"}`, 400, "updated_at must be an RFC 3339 time"},
		{"PUT", "/v1/flags/new%20checkout", `{"state":"active"}`, 400, "flag name must be 1 to 128 characters"},
		{"PUT", "/v1/flags/" + strings.Repeat("x", 129), `{"state":"active"}`, 400, "flag name must be 1 to 128 characters"},
		{"GET", "/v1/flags/checkout", "", 200, ""},
		{"GET", "/v1/flags/", "", 404, "no protocol endpoint"},
		{"GET", "/v1/flags/a/b", "", 404, "no protocol endpoint"},
		{"POST", "/v1/flags/checkout", "", 405, "use DELETE or GET or PUT"},
		{"DELETE", "/v1/flags/checkout", "", 204, ""},
		{"DELETE", "/v1/flags/checkout", "", 204, ""},
		{"GET", "/v1/flags/checkout", "", 404, "not found"},
	}
	for i, st := range steps {
		code, _, doc := raw(t, h, st.method, st.path, bearer, st.body)
		if code != st.wantCode {
			t.Fatalf("step %d %s %s: status %d, want %d (%v)", i, st.method, st.path, code, st.wantCode, doc)
		}
		if msg, _ := doc["error"].(string); !strings.Contains(msg, st.wantErr) {
			t.Errorf("step %d %s %s: error %q, want %q", i, st.method, st.path, msg, st.wantErr)
		}
	}
	if code, _, _ := raw(t, h, "GET", "/v1/flags/checkout", "", ""); code != 401 {
		t.Errorf("GET without the token = %d, want 401", code)
	}
}

// TestClientServerRoundTrip mounts the handlers under path prefixes, as a
// load balancer or the simulator does, and drives them with the client.
func TestClientServerRoundTrip(t *testing.T) {
	t.Parallel()

	target, router, flags := &memTarget{version: "v1"}, &memRouter{}, &memFlags{flags: map[string]Flag{}}
	mux := http.NewServeMux()
	mux.Handle("/t/web-1/", http.StripPrefix("/t/web-1", NewTargetHandler(target, testToken)))
	mux.Handle("/router/", http.StripPrefix("/router", NewRouterHandler(router, testToken)))
	mux.Handle("/flags/", http.StripPrefix("/flags", NewFlagHandler(flags, testToken)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := newTestClient(t, ClientConfig{Token: testToken})
	ctx := context.Background()
	prev := "v1"
	deploy := DeployRequest{Deployment: "web", Version: "v2", PreviousVersion: &prev, TargetID: "web-1",
		Strategy: "canary", Metadata: map[string]string{"zone": "a"}}
	if err := c.Deploy(ctx, srv.URL+"/t/web-1/", deploy); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if h, err := c.Health(ctx, srv.URL+"/t/web-1", ""); err != nil || h.Version != "v2" {
		t.Errorf("Health = %+v, %v", h, err)
	}
	if err := c.Switch(ctx, srv.URL+"/router", SwitchRequest{Deployment: "web", Slot: "blue", Version: "v2"}); err != nil {
		t.Errorf("Switch: %v", err)
	}
	if err := c.SetWeights(ctx, srv.URL+"/router", WeightsRequest{Deployment: "web", Version: "v2", Percentage: 10}); err != nil {
		t.Errorf("SetWeights: %v", err)
	}
	flag := Flag{Flag: "new.checkout_v2", State: "active", Stage: 0, Percentage: 5, Stages: []float64{5, 100}, UpdatedAt: "2025-01-01T00:00:00Z"}
	if err := c.PublishFlag(ctx, srv.URL+"/flags", flag); err != nil {
		t.Errorf("PublishFlag: %v", err)
	}
	got, err := c.ReadFlag(ctx, srv.URL+"/flags", flag.Flag)
	if err != nil || got.Percentage != 5 || len(got.Stages) != 2 {
		t.Errorf("ReadFlag = %+v, %v", got, err)
	}
	if err := c.DeleteFlag(ctx, srv.URL+"/flags", flag.Flag); err != nil {
		t.Errorf("DeleteFlag: %v", err)
	}
	if _, err := c.ReadFlag(ctx, srv.URL+"/flags", flag.Flag); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadFlag after delete: %v", err)
	}

	if len(target.deploys) != 1 {
		t.Fatalf("deploys = %+v", target.deploys)
	}
	d := target.deploys[0]
	if d.Deployment != "web" || d.Version != "v2" || d.PreviousVersion == nil || *d.PreviousVersion != "v1" ||
		d.TargetID != "web-1" || d.Strategy != "canary" || d.Metadata["zone"] != "a" {
		t.Errorf("deploy request = %+v", d)
	}
	if len(router.switches) != 1 || router.switches[0].Slot != "blue" || len(router.weights) != 1 || router.weights[0].Percentage != 10 {
		t.Errorf("router got %+v %+v", router.switches, router.weights)
	}

	// A wrong token is a final 401.
	bad := newTestClient(t, ClientConfig{Token: "wrong", Retries: 2})
	var se *StatusError
	if err := bad.Deploy(ctx, srv.URL+"/t/web-1", deploy); !errors.As(err, &se) || se.StatusCode != 401 {
		t.Errorf("wrong token: %v", err)
	}
}

func TestRequestBodyLimit(t *testing.T) {
	t.Parallel()

	// The handler must stop reading at MaxBodyBytes: a 10 MiB string ends
	// in 413, not in a 10 MiB allocation.
	body := io.MultiReader(strings.NewReader(`{"version":"`), io.LimitReader(letterReader{}, 10*MaxBodyBytes))
	req := httptest.NewRequest("PUT", "/v1/deploy", body)
	rec := httptest.NewRecorder()
	NewTargetHandler(&memTarget{}, "").ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d for a 10 MiB body, want 413", rec.Code)
	}
}

// letterReader is an endless stream of "a".
type letterReader struct{}

func (letterReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
