package provider

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/notify/notifytest"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// hookSecret is the value of the receiver's header: it must reach the
// receiver and nothing else.
const hookSecret = "hook-9d2e7c41b0a6f385"

// notifications is a notifications argument with one entry for rcv, with
// the hook header; more are its other arguments.
func notifications(rcv *notifytest.Receiver, more string) string {
	return fmt.Sprintf(`
  notifications = [{
    url     = %q
    headers = { "X-Hook-Secret" = %q }
    %s
  }]`, rcv.URL, hookSecret, more)
}

// received checks the events rcv got since the last check, each as "kind
// [targets]" (with the stage when it is one: "stage_passed stage 1 (25%)
// [t1]"), and that each came as the contract says; then forgets them.
func received(rcv *notifytest.Receiver, prefix string, want ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		defer rcv.Reset()
		var got []string
		ids := map[string]bool{}
		for _, r := range rcv.Received() {
			e := r.Event
			if e == nil {
				return fmt.Errorf("a text where a CloudEvent was expected: %q", r.Text)
			}
			if !strings.HasPrefix(e.Type(), prefix) || !strings.HasPrefix(e.Source(), "codomyrmex/") || e.Time().IsZero() || ids[e.ID()] {
				return fmt.Errorf("event %s: wrong type, source, time or a repeated id", e)
			}
			ids[e.ID()] = true
			if h := r.Header.Get("X-Hook-Secret"); h != hookSecret || r.Header.Get("Authorization") != "" {
				return fmt.Errorf("event %s came with X-Hook-Secret %q and Authorization %q", e.Type(), h, r.Header.Get("Authorization"))
			}
			var d notify.Data
			if err := e.DataAs(&d); err != nil {
				return err
			}
			line := r.Kind()
			if r.Kind() == "stage_passed" || r.Kind() == "advanced" {
				line += " " + d.Stage
			}
			got = append(got, fmt.Sprintf("%s %v", line, d.Targets))
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("events\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		return nil
	}
}

// deployed is received for a deployment.
func deployed(rcv *notifytest.Receiver, want ...string) resource.TestCheckFunc {
	return received(rcv, notify.DeploymentType, want...)
}

func TestAccNotifications_rollingAndBlueGreen(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	rcv := notifytest.New(t)
	blueGreen := fmt.Sprintf(`
  version    = "3.0.0"
  targets    = %s
  blue_green = {}`, f.targets(4, `i <= 2 ? "blue" : "green"`))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: hcl{provider: `token = "provider-token-never-sent"`, body: rollingArgs(f, 4, 2, `"2.0.0"`) + notifications(rcv, "")}.String(),
				Check: deployed(rcv,
					"started [t1 t2 t3 t4]",
					"stage_passed batch 1/2 [t1 t2]",
					"stage_passed batch 2/2 [t3 t4]",
					"completed [t1 t2 t3 t4]"),
			},
			{
				// Replaced: a blue/green deployment goes to the idle slot.
				Config: hcl{body: blueGreen + notifications(rcv, "")}.String(),
				Check: deployed(rcv,
					"started [t3 t4]",
					"stage_passed green slot [t3 t4]",
					"completed [t3 t4]"),
			},
		},
	})
}

func TestAccNotifications_canaryGateAndFailure(t *testing.T) {
	f := newTestFleet(t, 4, "1.0.0")
	rcv := notifytest.New(t)
	canary := fmt.Sprintf(`{
    stages         = [25, 50, 100]
    stage_interval = "0s"
    router_url     = "%s/router"
    gates          = [{ at = 50 }]
  }`, f.URL)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			{
				Config: hcl{body: canaryArgs(f, "2.0.0", canary) + notifications(rcv, "")}.String(),
				Check: deployed(rcv,
					"started [t1 t2 t3 t4]",
					"stage_passed stage 1 (25%) [t1]",
					"stage_passed stage 2 (50%) [t2]",
					"paused [t1 t2]"),
			},
			{
				Config: hcl{body: canaryArgs(f, "2.0.0", canary) + notifications(rcv, "") + `
  approve = { version = "2.0.0", through = 50 }`}.String(),
				Check: deployed(rcv,
					"started [t3 t4]",
					"stage_passed stage 3 (100%) [t3 t4]",
					"completed [t3 t4]"),
			},
			{
				// t3 fails 3.0.0 at the second stage: failed, naming it,
				// then rolled back, naming every target put back.
				PreConfig:   func() { f.SetFault("t2", simulator.Fault{Unhealthy: true, FailVersion: "3.0.0"}) },
				Config:      hcl{body: canaryArgs(f, "3.0.0", canary) + notifications(rcv, "")}.String(),
				ExpectError: regexp.MustCompile(`Deployment failed`),
			},
		},
	})
	// A step that fails runs no Check: what the failed apply sent is read here.
	if err := deployed(rcv, "started [t1 t2 t3 t4]", "stage_passed stage 1 (25%) [t1]", "failed [t2]", "rolled_back [t1 t2]")(nil); err != nil {
		t.Error(err)
	}
}

// TestAccNotifications_slackAndReceiverDown: a chat webhook gets one line
// per event; a receiver that is down is a warning and the rollout
// completes. (How long an apply waits for a receiver is
// internal/notify's TestASlowReceiverDelaysTheApplyByOneTimeoutAtMost:
// the wall time of a CLI run on a busy machine says nothing about it.)
func TestAccNotifications_slackAndReceiverDown(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	chat := notifytest.New(t)
	down := httptest.NewServer(nil)
	downURL := down.URL + "/services/T0/B0/SECRETPATH"
	down.Close()
	var diags diagLog
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: diags.providers(),
		Steps: []resource.TestStep{{
			Config: hcl{provider: faultProvider, body: rollingArgs(f, 2, 2, `"2.0.0"`) + fmt.Sprintf(`
  notifications = [
    { url = %q, format = "slack", events = ["started", "completed"] },
    { url = %q },
  ]`, chat.URL, downURL)}.String(),
			Check: fleetCheck(func() error { return f.expectAll(2, "2.0.0") }),
		}},
	})
	var texts []string
	for _, r := range chat.Received() {
		texts = append(texts, r.Text)
	}
	want := []string{
		"codomyrmex/web: 2.0.0 started · 0% of traffic · targets t1, t2 · rolling, from 1.0.0",
		"codomyrmex/web: 2.0.0 completed · 100% of traffic · targets t1, t2 · rolling, from 1.0.0 · 2 targets updated",
	}
	if !slices.Equal(texts, want) {
		t.Errorf("chat lines\n  %s\nwant\n  %s", strings.Join(texts, "\n  "), strings.Join(want, "\n  "))
	}
	said := diags.since(0)
	origin := down.URL
	if !strings.Contains(said, "Notification not delivered: notifications to "+origin) || strings.Contains(said, "SECRETPATH") {
		t.Errorf("the apply's diagnostics do not warn about %s alone:\n%s", origin, said)
	}
}

// TestAccNotifications_featureRollout: a create starts the rollout
// (advanced to stage 0), the due stage advances it, aborted aborts it.
func TestAccNotifications_featureRollout(t *testing.T) {
	f := newTestFleet(t, 1, "1.0.0")
	rcv := notifytest.New(t)
	clk := clocktest.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	rollout := func(more string) string {
		return hcl{fleet: f, rollout: true, body: `  stages = [10, 50, 100]` + notifications(rcv, "") + more}.String()
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: providersWithClock(clk),
		Steps: []resource.TestStep{
			{
				Config: rollout(""),
				Check:  received(rcv, notify.RolloutType, "advanced stage 0 (10%) []"),
			},
			{
				PreConfig: func() { clk.Advance(time.Hour) },
				Config:    rollout(""),
				Check:     received(rcv, notify.RolloutType, "advanced stage 1 (50%) []"),
			},
			{
				Config: rollout("\n  aborted = true"),
				Check:  received(rcv, notify.RolloutType, "aborted []"),
			},
		},
	})
}

// TestAccNotifications_headersNeverLogged runs a real CLI against the
// provider binary with TF_LOG=trace: the receiver gets the header, the
// output never shows its value.
func TestAccNotifications_headersNeverLogged(t *testing.T) {
	w := newCLIWorkdir(t)
	f := newTestFleet(t, 2, "1.0.0")
	rcv := notifytest.New(t)
	w.writeConfig(hcl{name: "web", body: rollingArgs(f, 2, 2, `"2.0.0"`) + notifications(rcv, `events = ["completed"]`)}.String())
	out := w.mustRun(0, []string{"TF_LOG=trace"}, "apply", "-auto-approve", "-input=false", "-no-color")
	if len(out) < 10000 {
		t.Fatalf("expected a trace log, got %d bytes", len(out))
	}
	if i := strings.Index(out, hookSecret); i >= 0 {
		t.Fatalf("a notification header appears in the TF_LOG=trace output: …%s…", out[max(0, i-300):i])
	}
	if err := received(rcv, notify.DeploymentType, "completed [t1 t2]")(nil); err != nil {
		t.Error(err)
	}
}

// TestAccNotifications_stateOfThePreviousShape: a state written before
// notifications existed (no such attribute) plans no change with a
// configuration without them.
func TestAccNotifications_stateOfThePreviousShape(t *testing.T) {
	w := newCLIWorkdir(t)
	f := newTestFleet(t, 2, "1.0.0")
	w.writeConfig(hcl{name: "web", fleet: f, body: rollingArgs(f, 2, 2, `"2.0.0"`)}.String() + `
resource "codomyrmex_feature_rollout" "checkout" {
  flag_name = "checkout"
}
`)
	w.mustRun(0, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	var state map[string]any
	if err := json.Unmarshal(w.stateFile(), &state); err != nil {
		t.Fatal(err)
	}
	removed := 0
	for _, r := range state["resources"].([]any) { //nolint:forcetypeassert // the state file's shape
		for _, inst := range r.(map[string]any)["instances"].([]any) { //nolint:forcetypeassert // the state file's shape
			attrs := inst.(map[string]any)["attributes"].(map[string]any) //nolint:forcetypeassert // the state file's shape
			if _, ok := attrs["notifications"]; ok {
				delete(attrs, "notifications")
				removed++
			}
		}
	}
	if removed != 2 {
		t.Fatalf("notifications found in %d resources of the state, want 2", removed)
	}
	raw, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(w.dir, "terraform.tfstate"), string(raw))
	w.mustRun(0, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color")
}

// TestAccNotifications_badConfiguration: a url that is not http(s) with a
// host, an event of the other resource, an unknown format: plan-time
// errors naming the attribute and what is allowed.
func TestAccNotifications_badConfiguration(t *testing.T) {
	f := newTestFleet(t, 2, "1.0.0")
	bad := func(entry string) string {
		return hcl{body: rollingArgs(f, 2, 2, `"2.0.0"`) + "\n  notifications = [" + entry + "]"}.String()
	}
	steps := []resource.TestStep{
		{Config: bad(`{ url = "ftp://hooks.example.com/x" }`), ExpectError: regexp.MustCompile(`notifications\[0\]\.url must be an absolute http:// or https:// URL`)},
		{Config: bad(`{ url = "https:///x" }`), ExpectError: regexp.MustCompile(`notifications\[0\]\.url must be an absolute http://`)},
		{Config: bad(`{ url = "https://hooks.example.com", events = ["advanced"] }`), ExpectError: regexp.MustCompile(`(?s)notifications\[0\]\.events\[0\].*value must be one of:.*"started".*"rolled_back"`)},
		{Config: bad(`{ url = "https://hooks.example.com", format = "teams" }`), ExpectError: regexp.MustCompile(`(?s)notifications\[0\]\.format.*value must be one of:.*"cloudevents".*"slack"`)},
	}
	for i := range steps {
		steps[i].PlanOnly = true
	}
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: testAccProviders, Steps: steps})
}
