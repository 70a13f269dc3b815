package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

const testToken = "status-test-token"

// world is a simulated fleet of three targets after a canary of web to
// 2.0.0 paused at 25 %, a rolling api deployment of t3 to 1.0.0, and a
// feature rollout "checkout" at its stage 1; showJSON is what `tofu show
// -json` prints of that state, with web in a module.
type world struct {
	fleet  *simulator.Fleet
	url    string
	client *protocol.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := simulator.NewFleet(simulator.FleetConfig{Targets: 3, InitialVersion: "1.0.0", Token: testToken})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	c, err := protocol.NewClient(protocol.ClientConfig{Token: testToken, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{fleet: f, url: srv.URL, client: c}
	ctx := context.Background()
	if err := c.Deploy(ctx, srv.URL+"/t/t1", protocol.DeployRequest{Deployment: "web", Version: "2.0.0", TargetID: "t1", Strategy: "canary"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWeights(ctx, srv.URL+"/router", protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 25}); err != nil {
		t.Fatal(err)
	}
	flag := protocol.Flag{Flag: "checkout", State: "active", Stage: 1, Percentage: 25, Stages: []float64{5, 25, 50, 100}, UpdatedAt: "2026-01-02T03:04:05Z"}
	if err := c.PublishFlag(ctx, srv.URL+"/flags", flag); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) showJSON() []byte {
	return []byte(fmt.Sprintf(`{
  "format_version": "1.0",
  "terraform_version": "1.12.6",
  "values": {
    "root_module": {
      "resources": [
        {
          "address": "codomyrmex_deployment.api", "mode": "managed", "type": "codomyrmex_deployment", "name": "api",
          "values": {
            "name": "api", "version": "1.0.0", "strategy": "rolling", "status": "completed",
            "paused_at": null, "resume_at": null, "traffic_percentage": 100, "active_slot": null,
            "targets": [{"id": "t3", "address": "%[1]s/t/t3", "name": null, "slot": null, "metadata": null}],
            "target_versions": {"t3": "1.0.0"},
            "health_check": {"path": "/v1/health", "enabled": true},
            "rolling": {"batch_size": 1}, "canary": null, "blue_green": null, "feature_flag": null
          }
        },
        {
          "address": "codomyrmex_feature_rollout.checkout", "mode": "managed", "type": "codomyrmex_feature_rollout", "name": "checkout",
          "values": {
            "flag_name": "checkout", "endpoint": "%[1]s/flags", "state": "active", "current_stage": 1, "percentage": 25,
            "stages": [5, 25, 50, 100], "updated_at": "2026-01-02T03:04:05Z", "next_advance_at": "2026-01-02T04:04:05Z"
          }
        },
        {
          "address": "data.codomyrmex_fleet.web", "mode": "data", "type": "codomyrmex_fleet", "name": "web", "values": {}
        }
      ],
      "child_modules": [{
        "address": "module.app",
        "resources": [{
          "address": "module.app.codomyrmex_deployment.web", "mode": "managed", "type": "codomyrmex_deployment", "name": "web",
          "values": {
            "name": "web", "version": "2.0.0", "strategy": "canary", "status": "paused",
            "paused_at": 25, "resume_at": null, "traffic_percentage": 25, "active_slot": null,
            "targets": [{"id": "t1", "address": "%[1]s/t/t1"}, {"id": "t2", "address": "%[1]s/t/t2"}],
            "target_versions": {"t1": "2.0.0", "t2": "1.0.0"},
            "health_check": null,
            "canary": {"stages": [25, 50, 100], "router_url": "%[1]s/router"}
          }
        }]
      }]
    }
  }
}`, w.url))
}

func (w *world) check(t *testing.T, state []byte) Report {
	t.Helper()
	resources, err := ReadState(state)
	if err != nil {
		t.Fatalf("ReadState: %v", err)
	}
	rep, err := Check(context.Background(), w.client, resources, Options{})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return rep
}

func text(t *testing.T, rep Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// row finds the row item of the resource address.
func row(t *testing.T, rep Report, address, item string) Row {
	t.Helper()
	for _, res := range rep.Resources {
		if res.Address != address {
			continue
		}
		for _, r := range res.Rows {
			if r.Item == item {
				return r
			}
		}
	}
	t.Fatalf("no row %s of %s in %+v", item, address, rep)
	return Row{}
}

func TestCheckConvergedPausedAtAGate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rep := w.check(t, w.showJSON())
	out := text(t, rep)
	if rep.ExitCode() != ExitMatches || rep.Differences != 0 || len(rep.Errors) != 0 {
		t.Fatalf("exit %d, want %d:\n%s", rep.ExitCode(), ExitMatches, out)
	}
	var addrs []string
	for _, r := range rep.Resources {
		addrs = append(addrs, r.Address)
	}
	if got := strings.Join(addrs, " "); got != "codomyrmex_deployment.api codomyrmex_feature_rollout.checkout module.app.codomyrmex_deployment.web" {
		t.Errorf("resources %s: want the managed codomyrmex resources of every module, sorted", got)
	}
	for _, want := range []string{
		"module.app.codomyrmex_deployment.web: strategy canary, version 2.0.0, status paused, paused_at 25%, traffic 25%\n",
		"codomyrmex_feature_rollout.checkout: flag checkout, state active, next_advance_at 2026-01-02T04:04:05Z\n",
		"  t1       2.0.0         2.0.0 (healthy)",
		"  t2       1.0.0         1.0.0 (healthy)",
		"traffic  25% on 2.0.0  25% on 2.0.0",
		"  percentage  25%     25%",
		"The fleet matches state.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "!") {
		t.Errorf("a converged fleet has a row marked !:\n%s", out)
	}
}

func TestCheckDrifted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.fleet.SetVersion("t2", "1.0.1-hotfix")
	if err := w.client.SetWeights(context.Background(), w.url+"/router", protocol.WeightsRequest{Deployment: "web", Version: "2.0.0", Percentage: 50}); err != nil {
		t.Fatal(err)
	}
	if err := w.client.DeleteFlag(context.Background(), w.url+"/flags", "checkout"); err != nil {
		t.Fatal(err)
	}
	w.fleet.SetFault("t3", simulator.Fault{Unhealthy: true})
	rep := w.check(t, w.showJSON())
	out := text(t, rep)
	if rep.ExitCode() != ExitDiffers || len(rep.Errors) != 0 {
		t.Fatalf("exit %d, want %d:\n%s", rep.ExitCode(), ExitDiffers, out)
	}
	web := "module.app.codomyrmex_deployment.web"
	for _, c := range []struct {
		address, item, live string
	}{
		{web, "t2", "1.0.1-hotfix"},
		{web, "traffic", "50% on 2.0.0"},
		{"codomyrmex_deployment.api", "t3", "1.0.0"}, // unhealthy
		{"codomyrmex_feature_rollout.checkout", "state", "absent"},
	} {
		if r := row(t, rep, c.address, c.item); !r.Differs || r.Live != c.live {
			t.Errorf("%s %s = %+v, want live %q marked as differing", c.address, c.item, r, c.live)
		}
	}
	if r := row(t, rep, web, "t1"); r.Differs {
		t.Errorf("t1 = %+v: it runs what state says", r)
	}
	for _, want := range []string{"! t2       1.0.0         1.0.1-hotfix (healthy)", "! t3    1.0.0  1.0.0 (unhealthy)", "The fleet differs from state: 6 differences (marked !)."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckRouterDownNamesTheCall(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.fleet.SetRouterDown(true)
	c, err := protocol.NewClient(protocol.ClientConfig{Token: testToken, Retries: 0})
	if err != nil {
		t.Fatal(err)
	}
	resources, err := ReadState(w.showJSON())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Check(context.Background(), c, resources, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := text(t, rep)
	if rep.ExitCode() != ExitFailed || len(rep.Errors) != 1 {
		t.Fatalf("exit %d with errors %q, want %d and one error:\n%s", rep.ExitCode(), rep.Errors, ExitFailed, out)
	}
	want := "router: GET " + w.url + "/router/v1/state: "
	if !strings.HasPrefix(rep.Errors[0], want) || !strings.Contains(rep.Errors[0], "503") {
		t.Errorf("error %q, want it to start %q and say 503", rep.Errors[0], want)
	}
	if !strings.Contains(out, "Could not ask the fleet: 1 call failed.\n  "+want) {
		t.Errorf("output does not name the failed call:\n%s", out)
	}
	if strings.Contains(out, testToken) {
		t.Errorf("output shows the token:\n%s", out)
	}
}

func TestCheckUnreachableTargetAndFlagService(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.fleet.SetFlagsDown(true)
	state := bytes.ReplaceAll(w.showJSON(), []byte(w.url+"/t/t3"), []byte("http://127.0.0.1:1/t/t3"))
	rep := w.check(t, state)
	if rep.ExitCode() != ExitFailed || len(rep.Errors) != 2 {
		t.Fatalf("exit %d, errors %q: want %d with the target and the flag service", rep.ExitCode(), rep.Errors, ExitFailed)
	}
	if !strings.HasPrefix(rep.Errors[0], "target t3: GET http://127.0.0.1:1/t/t3/v1/health: ") ||
		!strings.HasPrefix(rep.Errors[1], "flag service: GET "+w.url+"/flags/v1/flags/checkout: ") {
		t.Errorf("errors %q do not name the calls", rep.Errors)
	}
}

func TestCheckBlueGreenAndFeatureFlagDeployments(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	if err := w.client.Switch(ctx, w.url+"/router", protocol.SwitchRequest{Deployment: "bg", Slot: "green", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if err := w.client.PublishFlag(ctx, w.url+"/flags", protocol.Flag{Flag: "web-v2", State: "active", Percentage: 10, Stages: []float64{10}}); err != nil {
		t.Fatal(err)
	}
	state := fmt.Sprintf(`{"version": 4, "resources": [
	  {"mode": "managed", "type": "codomyrmex_deployment", "name": "bg", "instances": [{"index_key": "a", "attributes": {
	    "name": "bg", "version": "1.0.0", "strategy": "blue_green", "status": "completed", "active_slot": "green",
	    "targets": [{"id": "t3", "address": "%[1]s/t/t3"}], "target_versions": {"t3": "1.0.0"},
	    "blue_green": {"router_url": "%[1]s/router"}}}]},
	  {"module": "module.m", "mode": "managed", "type": "codomyrmex_deployment", "name": "ff", "instances": [{"index_key": 0, "attributes": {
	    "name": "ff", "version": "1.0.0", "strategy": "feature_flag", "status": "completed", "traffic_percentage": 20,
	    "targets": [], "target_versions": {}, "feature_flag": {"flag_name": "web-v2"}}}]}
	]}`, w.url)
	resources, err := ReadState([]byte(state))
	if err != nil {
		t.Fatal(err)
	}
	if len(resources) != 2 || resources[0].Address != `codomyrmex_deployment.bg["a"]` || resources[1].Address != "module.m.codomyrmex_deployment.ff[0]" {
		t.Fatalf("resources of a state file: %+v", resources)
	}
	rep, err := Check(ctx, w.client, resources, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := row(t, rep, `codomyrmex_deployment.bg["a"]`, "slot"); r.Differs || r.Live != "green (1.0.0)" {
		t.Errorf("slot row %+v, want green matching", r)
	}
	if r := row(t, rep, "module.m.codomyrmex_deployment.ff[0]", "flag web-v2"); r.Differs || !strings.HasPrefix(r.Live, "not asked") {
		t.Errorf("flag row without an endpoint %+v, want not asked", r)
	}
	rep, err = Check(ctx, w.client, resources, Options{FlagEndpoint: w.url + "/flags"})
	if err != nil {
		t.Fatal(err)
	}
	if r := row(t, rep, "module.m.codomyrmex_deployment.ff[0]", "flag web-v2"); !r.Differs || r.Live != "10%" || r.State != "20%" {
		t.Errorf("flag row %+v, want 20%% in state beside 10%% live", r)
	}
}

func TestReadStateRejects(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`not json`: "not JSON",
		`{"format_version": "1.2", "planned_values": {}}`: "the JSON of a plan",
		`{"hello": 1}`: "neither the output of",
	} {
		if _, err := ReadState([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadState(%s) = %v, want an error saying %q", in, err, want)
		}
	}
	res, err := ReadState([]byte(`{"format_version": "1.0"}`))
	if err != nil || len(res) != 0 {
		t.Errorf("an empty state: %v, %v", res, err)
	}
	rep, err := Check(context.Background(), nil, res, Options{})
	if err != nil || rep.ExitCode() != ExitMatches || !strings.HasPrefix(text(t, rep), "No codomyrmex_deployment") {
		t.Errorf("an empty state: %+v, %v", rep, err)
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.fleet.SetVersion("t1", "1.0.0")
	var b bytes.Buffer
	if err := WriteJSON(&b, w.check(t, w.showJSON())); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Matches   bool `json:"matches"`
		ExitCode  int  `json:"exit_code"`
		Resources []struct {
			Address  string   `json:"address"`
			PausedAt *float64 `json:"paused_at"`
			Rows     []Row    `json:"rows"`
		} `json:"resources"`
		Differences int      `json:"differences"`
		Errors      []string `json:"errors"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, b.Bytes())
	}
	web := got.Resources[2]
	if got.Matches || got.ExitCode != ExitDiffers || got.Differences != 1 || got.Errors == nil ||
		web.PausedAt == nil || *web.PausedAt != 25 || !web.Rows[0].Differs || web.Rows[0].Live != "1.0.0" {
		t.Errorf("JSON report: %s", b.Bytes())
	}
}

func TestWatchRedrawsUntilTheContextEnds(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	resources, err := ReadState(w.showJSON())
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktest.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	clk.OnSleep = clk.Advance
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var codes []int
	var times []time.Time
	last, err := Watch(ctx, clk, 2*time.Second,
		func(ctx context.Context) (Report, error) { return Check(ctx, w.client, resources, Options{}) },
		func(r Report, at time.Time) error {
			codes, times = append(codes, r.ExitCode()), append(times, at)
			if len(codes) == 2 {
				w.fleet.SetVersion("t1", "1.0.0") // the world moves between redraws
			}
			if len(codes) == 3 {
				cancel() // Ctrl-C
			}
			return nil
		})
	if err != nil || fmt.Sprint(codes) != "[0 0 3]" || last.ExitCode() != ExitDiffers {
		t.Errorf("watch: codes %v, last %d, err %v; want [0 0 3] and the last report", codes, last.ExitCode(), err)
	}
	if got := clk.Sleeps(); len(got) != 2 || got[0] != 2*time.Second || !times[2].Equal(times[0].Add(4*time.Second)) {
		t.Errorf("sleeps %v, draws at %v: want one 2s wait between redraws", got, times)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := Watch(ctx, clk, time.Second, func(context.Context) (Report, error) { return Report{}, nil },
		func(Report, time.Time) error { t.Error("drew after Ctrl-C"); return nil }); err == nil {
		t.Error("a watch stopped before its first report returned no error")
	}
}
