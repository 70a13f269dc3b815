package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

const fleetToken = "fleet-token"

// fleetServer starts a fleet over HTTP and a client for it.
func fleetServer(t *testing.T, cfg FleetConfig, clientCfg protocol.ClientConfig) (*Fleet, *httptest.Server, *protocol.Client) {
	t.Helper()
	f := NewFleet(cfg)
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	if clientCfg.RetryWaitMin == 0 {
		clientCfg.RetryWaitMin, clientCfg.RetryWaitMax = time.Millisecond, 2*time.Millisecond
	}
	c, err := protocol.NewClient(clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	return f, srv, c
}

func target(srv *httptest.Server, id string) string { return srv.URL + "/t/" + id }

// deployV2 is a case that deploys v2 to target id.
func deployV2(id string) func(context.Context, *protocol.Client, *httptest.Server) error {
	return func(ctx context.Context, c *protocol.Client, srv *httptest.Server) error {
		return c.Deploy(ctx, target(srv, id), protocol.DeployRequest{Version: "v2"})
	}
}

// healthOf is a case that reads the health of target id.
func healthOf(id string) func(context.Context, *protocol.Client, *httptest.Server) error {
	return func(ctx context.Context, c *protocol.Client, srv *httptest.Server) error {
		_, err := c.Health(ctx, target(srv, id), "")
		return err
	}
}

func TestFleetDeployAndHealth(t *testing.T) {
	t.Parallel()

	f, srv, c := fleetServer(t, FleetConfig{Targets: 3, InitialVersion: "v1", Token: fleetToken}, protocol.ClientConfig{Token: fleetToken})
	ctx := context.Background()

	if got := f.TargetIDs(); fmt.Sprint(got) != "[t1 t2 t3]" {
		t.Errorf("TargetIDs = %v", got)
	}
	for _, id := range f.TargetIDs() {
		h, err := c.Health(ctx, target(srv, id), "")
		if err != nil || h.Version != "v1" {
			t.Errorf("Health(%s) = %+v, %v", id, h, err)
		}
	}
	req := protocol.DeployRequest{Deployment: "web", Version: "v2", PreviousVersion: ptr("v1"), TargetID: "t2", Strategy: "rolling"}
	for range 2 { // the repeat is a no-op that still succeeds
		if err := c.Deploy(ctx, target(srv, "t2"), req); err != nil {
			t.Fatalf("Deploy: %v", err)
		}
	}
	if got := f.Versions(); fmt.Sprint(got) != "map[t1:v1 t2:v2 t3:v1]" {
		t.Errorf("Versions = %v", got)
	}
	if h, err := c.Health(ctx, target(srv, "t2"), ""); err != nil || h.Version != "v2" {
		t.Errorf("Health(t2) = %+v, %v", h, err)
	}
	deploys := f.Deploys()
	if len(deploys) != 2 {
		t.Fatalf("Deploys = %+v, want 2 records", deploys)
	}
	d := deploys[0]
	if d.Target != "t2" || d.Version != "v2" || d.PreviousVersion != "v1" || d.Deployment != "web" || d.Strategy != "rolling" || d.At.IsZero() {
		t.Errorf("Deploys[0] = %+v", d)
	}
	if got := f.Calls(); got[CallDeploy] != 2 || got[CallHealth] != 4 {
		t.Errorf("Calls = %v", got)
	}
	if got := f.SeenAuthorization(); fmt.Sprint(got) != "[Bearer "+fleetToken+"]" {
		t.Errorf("SeenAuthorization = %q", got)
	}

	f.SetVersion("t3", "v0")
	f.SetVersion("t99", "ignored")
	if h, _ := c.Health(ctx, target(srv, "t3"), ""); h.Version != "v0" {
		t.Errorf("after SetVersion, t3 reports %q", h.Version)
	}
}

func TestFleetRejectsBadCalls(t *testing.T) {
	t.Parallel()

	f, srv, _ := fleetServer(t, FleetConfig{Targets: 1, Token: fleetToken}, protocol.ClientConfig{})
	ctx := context.Background()
	bad, _ := protocol.NewClient(protocol.ClientConfig{Token: "wrong"})

	var se *protocol.StatusError
	if err := bad.Deploy(ctx, target(srv, "t1"), protocol.DeployRequest{Version: "v2"}); !errors.As(err, &se) || se.StatusCode != 401 {
		t.Errorf("wrong token: %v, want 401", err)
	}
	if _, err := bad.Health(ctx, target(srv, "t7"), ""); !errors.As(err, &se) || se.StatusCode != 404 {
		t.Errorf("unknown target: %v, want 404", err)
	}
	if len(f.Deploys()) != 0 || f.Versions()["t1"] != "" {
		t.Errorf("a rejected call changed the fleet: %v %v", f.Deploys(), f.Versions())
	}
	if got := f.SeenAuthorization(); fmt.Sprint(got) != "[Bearer wrong]" {
		t.Errorf("SeenAuthorization = %q", got)
	}
}

func TestFleetFaults(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		fault Fault
		id    string // fault target; "" = t1
		// run does calls and returns what the test checks.
		run func(ctx context.Context, c *protocol.Client, srv *httptest.Server) error
		// wantErr: "" means success.
		wantErr string
		check   func(t *testing.T, f *Fleet)
	}{
		{
			name: "deploy status for one version", fault: Fault{DeployStatus: 500, FailVersion: "v2"},
			run: func(ctx context.Context, c *protocol.Client, srv *httptest.Server) error {
				if err := c.Deploy(ctx, target(srv, "t1"), protocol.DeployRequest{Version: "v3"}); err != nil {
					return fmt.Errorf("other version: %w", err)
				}
				return c.Deploy(ctx, target(srv, "t1"), protocol.DeployRequest{Version: "v2"})
			},
			wantErr: "HTTP 500 Internal Server Error: {\"error\":\"simulated deploy failure of v2 on t1\"}",
			check: func(t *testing.T, f *Fleet) {
				if v := f.Versions()["t1"]; v != "v3" {
					t.Errorf("t1 runs %q, want v3", v)
				}
				if n := f.Calls()[CallDeploy]; n != 2 {
					t.Errorf("deploy calls = %d, want 2 (500 is final)", n)
				}
			},
		},
		{
			name: "transient deploy status is retried", fault: Fault{DeployStatus: 503},
			run:     deployV2("t1"),
			wantErr: "giving up after 3 attempts, last answer: HTTP 503",
			check: func(t *testing.T, f *Fleet) {
				if n := f.Calls()[CallDeploy]; n != 3 {
					t.Errorf("deploy calls = %d, want 3", n)
				}
				if len(f.Deploys()) != 0 {
					t.Errorf("a failed deploy was recorded: %v", f.Deploys())
				}
			},
		},
		{
			name: "health status", fault: Fault{HealthStatus: 500},
			run:     healthOf("t1"),
			wantErr: "HTTP 500",
		},
		{
			name: "unhealthy answers 200 with status error", fault: Fault{Unhealthy: true},
			run:     healthOf("t1"),
			wantErr: `target reports status "error" (version "v1")`,
		},
		{
			name: "unhealthy only while running the fail version", fault: Fault{Unhealthy: true, FailVersion: "v2"},
			run: func(ctx context.Context, c *protocol.Client, srv *httptest.Server) error {
				if _, err := c.Health(ctx, target(srv, "t1"), ""); err != nil {
					return fmt.Errorf("before the deploy: %w", err)
				}
				if err := c.Deploy(ctx, target(srv, "t1"), protocol.DeployRequest{Version: "v2"}); err != nil {
					return fmt.Errorf("deploy: %w", err)
				}
				_, err := c.Health(ctx, target(srv, "t1"), "")
				return err
			},
			wantErr: `target reports status "error" (version "v2")`,
		},
		{
			name: "report version", fault: Fault{ReportVersion: "v9"},
			run: func(ctx context.Context, c *protocol.Client, srv *httptest.Server) error {
				h, err := c.Health(ctx, target(srv, "t1"), "")
				if err == nil && h.Version != "v9" {
					err = fmt.Errorf("reported %q", h.Version)
				}
				return err
			},
		},
		{
			name: "fault for every target", id: "*", fault: Fault{DeployStatus: 409},
			run:     deployV2("t2"),
			wantErr: "HTTP 409",
		},
		{
			name: "fault of another target", id: "t2", fault: Fault{DeployStatus: 500},
			run: deployV2("t1"),
		},
		{
			name: "close connection is retried then fails", fault: Fault{CloseConnection: true},
			run:     deployV2("t1"),
			wantErr: "giving up after 3 attempts, last error: EOF",
			check: func(t *testing.T, f *Fleet) {
				if n := f.Calls()[CallDeploy]; n != 3 {
					t.Errorf("deploy calls = %d, want 3", n)
				}
			},
		},
		{
			name: "fail after deploys", id: "*", fault: Fault{FailAfterDeploys: 2},
			run: func(ctx context.Context, c *protocol.Client, srv *httptest.Server) error {
				for _, id := range []string{"t1", "t2"} {
					if err := c.Deploy(ctx, target(srv, id), protocol.DeployRequest{Version: "v2"}); err != nil {
						return fmt.Errorf("deploy %s: %w", id, err)
					}
				}
				return c.Deploy(ctx, target(srv, "t3"), protocol.DeployRequest{Version: "v2"})
			},
			wantErr: "HTTP 500 Internal Server Error",
			check: func(t *testing.T, f *Fleet) {
				if got := f.Versions(); got["t1"] != "v2" || got["t2"] != "v2" || got["t3"] != "v1" {
					t.Errorf("Versions = %v", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv, c := fleetServer(t, FleetConfig{Targets: 3, InitialVersion: "v1"}, protocol.ClientConfig{Retries: 2})
			id := tt.id
			if id == "" {
				id = "t1"
			}
			f.SetFault(id, tt.fault)
			err := tt.run(context.Background(), c, srv)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestFleetFailAfterDeploysCountsFromTheFault(t *testing.T) {
	t.Parallel()

	f, srv, c := fleetServer(t, FleetConfig{Targets: 4, InitialVersion: "v1"}, protocol.ClientConfig{})
	ctx := context.Background()
	deploy := func(id, version string) error {
		return c.Deploy(ctx, target(srv, id), protocol.DeployRequest{Version: version})
	}
	for _, id := range f.TargetIDs() { // before the fault: not counted
		if err := deploy(id, "v2"); err != nil {
			t.Fatal(err)
		}
	}
	f.SetFault("*", Fault{FailAfterDeploys: 2, FailVersion: "v3"})
	results := []error{deploy("t1", "v3"), deploy("t2", "v3"), deploy("t3", "v3"), deploy("t3", "v2")}
	if results[0] != nil || results[1] != nil || results[2] == nil || results[3] != nil {
		t.Errorf("results = %v, want ok, ok, 500, ok (the rollback version is not affected)", results)
	}
}

func TestFleetFlapEvery(t *testing.T) {
	t.Parallel()

	f, srv, c := fleetServer(t, FleetConfig{Targets: 1, InitialVersion: "v1"}, protocol.ClientConfig{})
	f.SetFault("t1", Fault{FlapEvery: 2})
	var got []bool
	for range 6 {
		_, err := c.Health(context.Background(), target(srv, "t1"), "")
		got = append(got, err == nil)
	}
	if fmt.Sprint(got) != "[true true false false true true]" {
		t.Errorf("healthy per call = %v", got)
	}
}

func TestFleetHangTimesOut(t *testing.T) {
	t.Parallel()

	f, srv, c := fleetServer(t, FleetConfig{Targets: 1, InitialVersion: "v1"}, protocol.ClientConfig{RequestTimeout: 20 * time.Millisecond})
	f.SetFault("t1", Fault{Hang: 30 * time.Second})
	err := c.Deploy(context.Background(), target(srv, "t1"), protocol.DeployRequest{Version: "v2"})
	if err == nil || !strings.Contains(err.Error(), "no answer within the request timeout (20ms)") {
		t.Fatalf("error %v, want a timeout", err)
	}
	if v := f.Versions()["t1"]; v != "v1" {
		t.Errorf("an abandoned deploy changed t1 to %q", v)
	}
}

func TestFleetRedirectDropsToken(t *testing.T) {
	t.Parallel()

	elsewhere, _, _ := fleetServer(t, FleetConfig{Targets: 1, InitialVersion: "v0"}, protocol.ClientConfig{})
	elsewhereSrv := httptest.NewServer(elsewhere.Handler())
	defer elsewhereSrv.Close()

	f, srv, c := fleetServer(t, FleetConfig{Targets: 1, InitialVersion: "v1", Token: fleetToken}, protocol.ClientConfig{Token: fleetToken})
	f.SetFault("t1", Fault{RedirectTo: target(elsewhereSrv, "t1") + "/v1/health"})
	h, err := c.Health(context.Background(), target(srv, "t1"), "")
	if err != nil || h.Version != "v0" {
		t.Fatalf("Health through a redirect = %+v, %v", h, err)
	}
	if got := elsewhere.SeenAuthorization(); len(got) != 0 {
		t.Errorf("the token went to another host:port: %q", got)
	}
}

func TestFleetFaultsSetAndClear(t *testing.T) {
	t.Parallel()

	f, srv, c := fleetServer(t, FleetConfig{Targets: 2, InitialVersion: "v1"}, protocol.ClientConfig{})
	ctx := context.Background()
	healthy := func(id string) bool {
		_, err := c.Health(ctx, target(srv, id), "")
		return err == nil
	}
	f.SetFault("*", Fault{Unhealthy: true})
	f.SetFault("t2", Fault{ReportVersion: "v5"}) // its own fault replaces "*"
	if healthy("t1") || !healthy("t2") {
		t.Errorf("with faults: t1 healthy %v, t2 healthy %v", healthy("t1"), healthy("t2"))
	}
	f.SetFault("t2", Fault{})
	if healthy("t2") {
		t.Error("clearing t2's own fault did not fall back to the fleet-wide one")
	}
	f.ClearFaults()
	if !healthy("t1") || !healthy("t2") {
		t.Error("ClearFaults left a fault")
	}
}

func TestFleetRouter(t *testing.T) {
	t.Parallel()

	f, srv, c := fleetServer(t, FleetConfig{Token: fleetToken}, protocol.ClientConfig{Token: fleetToken})
	ctx := context.Background()
	router := srv.URL + "/router"

	if err := c.Switch(ctx, router, protocol.SwitchRequest{Deployment: "web", Slot: "green", Version: "v2"}); err != nil {
		t.Fatalf("Switch: %v", err)
	}
	for _, p := range []float64{10, 50} {
		if err := c.SetWeights(ctx, router, protocol.WeightsRequest{Deployment: "web", Version: "v2", Percentage: p}); err != nil {
			t.Fatalf("SetWeights: %v", err)
		}
	}
	var se *protocol.StatusError
	if err := c.Switch(ctx, router, protocol.SwitchRequest{Slot: "purple", Version: "v2"}); !errors.As(err, &se) || se.StatusCode != 400 {
		t.Errorf("Switch to a bad slot: %v, want 400", err)
	}
	got := f.Router()
	if got.ActiveSlot != "green" || got.Version != "v2" || got.Switches != 1 || fmt.Sprint(got.Weights) != "map[v2:50]" {
		t.Errorf("Router = %+v", got)
	}
	got.Weights["v2"] = 0 // a copy
	if f.Router().Weights["v2"] != 50 {
		t.Error("Router returned its own map")
	}
	if err := c.Switch(ctx, router, protocol.SwitchRequest{Deployment: "api", Slot: "blue", Version: "a1"}); err != nil {
		t.Fatalf("Switch api: %v", err)
	}
	st, raw, err := c.RouterState(ctx, router)
	if err != nil {
		t.Fatalf("RouterState: %v", err)
	}
	web, api := st.Deployments["web"], st.Deployments["api"]
	if len(st.Deployments) != 2 || fmt.Sprint(web.Weights) != "map[v2:50]" || web.Slot != "" ||
		api.Slot != "blue" || api.Version != "a1" || api.Weights != nil || api.UpdatedAt == "" {
		t.Errorf("RouterState = %+v (%s), want web's last weights and api's switch", st, raw)
	}

	f.SetRouterDown(true)
	if err := c.Switch(ctx, router, protocol.SwitchRequest{Slot: "blue", Version: "v1"}); !errors.As(err, &se) || se.StatusCode != 503 {
		t.Errorf("Switch while down: %v, want 503", err)
	}
	f.SetRouterDown(false)
	if err := c.Switch(ctx, router, protocol.SwitchRequest{Slot: "blue", Version: "v1"}); err != nil {
		t.Errorf("Switch after the outage: %v", err)
	}
	if calls := f.Calls(); calls[CallSwitch] != 5 || calls[CallWeights] != 2 {
		t.Errorf("Calls = %v", calls)
	}
}

func TestFleetFlags(t *testing.T) {
	t.Parallel()

	f, srv, c := fleetServer(t, FleetConfig{Token: fleetToken}, protocol.ClientConfig{Token: fleetToken})
	ctx := context.Background()
	flags := srv.URL + "/flags"

	if _, err := c.ReadFlag(ctx, flags, "checkout"); !errors.Is(err, protocol.ErrNotFound) {
		t.Fatalf("ReadFlag before publish: %v, want ErrNotFound", err)
	}
	doc := protocol.Flag{Flag: "checkout", State: "active", Stage: 1, Percentage: 25, Stages: []float64{5, 25, 50, 100}, UpdatedAt: "2025-01-02T03:04:05Z"}
	if err := c.PublishFlag(ctx, flags, doc); err != nil {
		t.Fatalf("PublishFlag: %v", err)
	}
	got, err := c.ReadFlag(ctx, flags, "checkout")
	if err != nil || fmt.Sprint(got) != fmt.Sprint(doc) {
		t.Errorf("ReadFlag = %+v, %v; want %+v", got, err, doc)
	}
	if stored, ok := f.Flag("checkout"); !ok || fmt.Sprint(stored) != fmt.Sprint(doc) {
		t.Errorf("Flag = %+v, %v", stored, ok)
	}
	var se *protocol.StatusError
	if err := c.PublishFlag(ctx, flags, protocol.Flag{Flag: "checkout", State: "exploded"}); !errors.As(err, &se) || se.StatusCode != 400 {
		t.Errorf("PublishFlag with a bad state: %v, want 400", err)
	}

	f.SetFlagsDown(true)
	if _, err := c.ReadFlag(ctx, flags, "checkout"); !errors.As(err, &se) || se.StatusCode != 503 {
		t.Errorf("ReadFlag while down: %v, want 503", err)
	}
	f.SetFlagsDown(false)

	for range 2 { // deleting a missing flag is fine too
		if err := c.DeleteFlag(ctx, flags, "checkout"); err != nil {
			t.Fatalf("DeleteFlag: %v", err)
		}
	}
	if _, ok := f.Flag("checkout"); ok {
		t.Error("flag still there after DeleteFlag")
	}
	if _, err := c.ReadFlag(ctx, flags, "checkout"); !errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("ReadFlag after delete: %v, want ErrNotFound", err)
	}
	calls := f.Calls()
	if calls[CallFlagPut] != 2 || calls[CallFlagGet] != 4 || calls[CallFlagDelete] != 2 {
		t.Errorf("Calls = %v", calls)
	}
}

func TestFleetSimEndpoints(t *testing.T) {
	t.Parallel()

	f, srv, c := fleetServer(t, FleetConfig{Targets: 2, InitialVersion: "v1"}, protocol.ClientConfig{})
	ctx := context.Background()
	post := func(path, body string) int {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}

	if code := post("/_sim/fault", `{"target":"t2","fault":{"deploy_status":500,"hang":"1ms","fail_version":"v2"}}`); code != 200 {
		t.Fatalf("POST /_sim/fault = %d", code)
	}
	if err := c.Deploy(ctx, target(srv, "t2"), protocol.DeployRequest{Version: "v2"}); err == nil {
		t.Error("deploy succeeded despite the fault set through /_sim/fault")
	}
	if code := post("/_sim/fault", `{"target":"t9","fault":{}}`); code != 404 {
		t.Errorf("fault for an unknown target = %d, want 404", code)
	}
	if code := post("/_sim/fault", `{"target":"t1","fault":{"hang":"soon"}}`); code != 400 {
		t.Errorf("fault with a bad duration = %d, want 400", code)
	}
	if code := post("/_sim/version", `{"target":"t1","version":"v0"}`); code != 200 || f.Versions()["t1"] != "v0" {
		t.Errorf("POST /_sim/version = %d, t1 runs %q", code, f.Versions()["t1"])
	}

	resp, err := http.Get(srv.URL + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st simState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decoding /_sim/state: %v", err)
	}
	if st.Targets["t1"] != "v0" || st.Targets["t2"] != "v1" || st.Calls[CallDeploy] != 1 ||
		st.Faults["t2"] != (Fault{DeployStatus: 500, Hang: time.Millisecond, FailVersion: "v2"}) {
		t.Errorf("state = %+v", st)
	}

	if code := post("/_sim/fault", `{"clear":true}`); code != 200 {
		t.Errorf("clearing faults = %d", code)
	}
	if err := c.Deploy(ctx, target(srv, "t2"), protocol.DeployRequest{Version: "v2"}); err != nil {
		t.Errorf("deploy after clearing faults: %v", err)
	}
}

func TestFleetLatency(t *testing.T) {
	t.Parallel()

	const latency = 5 * time.Millisecond
	_, srv, c := fleetServer(t, FleetConfig{Targets: 1, Latency: latency, Seed: 42}, protocol.ClientConfig{})
	start := time.Now()
	if _, err := c.Health(context.Background(), target(srv, "t1"), ""); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < latency*9/10 {
		t.Errorf("call took %s, want at least the latency", elapsed)
	}
}

// TestFleetConcurrentDeploys is the benchmark's access pattern in small:
// many targets deployed at once (run with -race).
func TestFleetConcurrentDeploys(t *testing.T) {
	t.Parallel()

	const n = 200
	f, srv, c := fleetServer(t, FleetConfig{Targets: n, InitialVersion: "v1"}, protocol.ClientConfig{})
	ids := f.TargetIDs()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan error, n)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := c.Deploy(context.Background(), target(srv, id), protocol.DeployRequest{Version: "v2", TargetID: id}); err != nil {
				errs <- err
				return
			}
			if _, err := c.Health(context.Background(), target(srv, id), ""); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	versions := f.Versions()
	for _, id := range ids {
		if versions[id] != "v2" {
			t.Fatalf("%s runs %q", id, versions[id])
		}
	}
	deployed := make([]string, 0, n)
	for _, d := range f.Deploys() {
		deployed = append(deployed, d.Target)
	}
	slices.Sort(deployed)
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	if !slices.Equal(deployed, sorted) {
		t.Errorf("Deploys has %d records, want one per target", len(deployed))
	}
}

func TestFaultJSON(t *testing.T) {
	t.Parallel()

	in := Fault{DeployStatus: 500, Hang: 1500 * time.Millisecond, FailVersion: "v2", FlapEvery: 3}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"hang":"1.5s"`) {
		t.Errorf("Marshal = %s, want hang as a duration string", data)
	}
	var out Fault
	if err := json.Unmarshal(data, &out); err != nil || out != in {
		t.Errorf("round trip = %+v, %v; want %+v", out, err, in)
	}
}

// BenchmarkFleetDeploy measures one deploy and one health call through the
// client against a 5000-target fleet, 32 in flight as with the provider's
// default max_concurrency.
func BenchmarkFleetDeploy(b *testing.B) {
	f := NewFleet(FleetConfig{Targets: 5000, InitialVersion: "v1"})
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	c, err := protocol.NewClient(protocol.ClientConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ids := f.TargetIDs()
	b.SetParallelism(16) // ×GOMAXPROCS goroutines
	b.ResetTimer()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			i := next.Add(1)
			id := ids[int(i)%len(ids)]
			if err := c.Deploy(ctx, srv.URL+"/t/"+id, protocol.DeployRequest{Version: fmt.Sprintf("v%d", i)}); err != nil {
				b.Error(err)
				return
			}
			if _, err := c.Health(ctx, srv.URL+"/t/"+id, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
func ptr(s string) *string { return &s }
