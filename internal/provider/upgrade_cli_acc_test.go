package provider

// Upgrades never break a state: every released shape of the state has a
// fixture under testdata/states/<release>/, written by that release's
// provider with the real CLI, and the provider of today must plan no change
// on it and then apply a new version (RELEASING.md, "State fixtures").

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// stateFixtures is where the fixtures live, one directory per release:
// main.tf (the configuration, without its terraform block),
// state.json (the terraform.tfstate the CLI wrote; *.tfstate files are
// ignored by git) and fleets.json (what the
// fleets held then, and where they listened).
const stateFixtures = "testdata/states"

// fixtureFleetNames are the fleets of a fixture's configuration: each is a
// string variable holding a simulated fleet's base URL.
var fixtureFleetNames = []string{"main", "bluegreen", "canary", "gated"}

// fixtureFleet is what one simulated fleet held when a fixture was written
// (the part of GET /_sim/state the provider reads), and its URL then.
type fixtureFleet struct {
	URL     string                   `json:"url"`
	Targets map[string]string        `json:"targets"`
	Router  fixtureRouter            `json:"router"`
	Flags   map[string]protocol.Flag `json:"flags"`
}

type fixtureRouter struct {
	ActiveSlot string             `json:"active_slot"`
	Version    string             `json:"version"`
	Weights    map[string]float64 `json:"weights"`
}

// registryTerraformSource is the provider's address in a fixture's state:
// fixtures are written with Terraform 1.8 (the oldest CLI supported, so
// that every CLI reads its state).
const registryTerraformSource = "registry.terraform.io/codomyrmex/codomyrmex"

// fixtureVars are the -var arguments of a fixture's configuration.
func fixtureVars(urls map[string]string, version string, maxStage int) []string {
	args := []string{"-var", "app_version=" + version, "-var", fmt.Sprintf("rollout_max_stage=%d", maxStage)}
	for _, name := range fixtureFleetNames {
		args = append(args, "-var", name+"="+urls[name])
	}
	return args
}

// TestAccStateFixtures_plan reads the state of every release with today's
// provider: the plan is empty, then applies roll 3.0.0 out everywhere and
// advance the rollout, and the plan after them is empty again.
func TestAccStateFixtures_plan(t *testing.T) {
	releases, err := os.ReadDir(stateFixtures)
	if err != nil {
		t.Fatal(err)
	}
	if len(releases) == 0 {
		t.Fatalf("no fixture under %s", stateFixtures)
	}
	for _, rel := range releases {
		t.Run(rel.Name(), func(t *testing.T) {
			dir := filepath.Join(stateFixtures, rel.Name())
			w := newCLIWorkdir(t)
			var was map[string]fixtureFleet
			readJSONFile(t, filepath.Join(dir, "fleets.json"), &was)
			fleets, urls := map[string]*testFleet{}, map[string]string{}
			state := string(mustRead(t, filepath.Join(dir, "state.json")))
			for _, name := range fixtureFleetNames {
				old, ok := was[name]
				if !ok {
					t.Fatalf("fleets.json has no fleet %q", name)
				}
				f := restoreFleet(t, old)
				fleets[name], urls[name] = f, f.URL
				// The fleets listen elsewhere now: every address in the
				// state is "<url>/…".
				state = strings.ReplaceAll(state, old.URL+"/", f.URL+"/")
			}
			state = strings.ReplaceAll(state, registryTerraformSource, w.source)
			w.writeConfig(string(mustRead(t, filepath.Join(dir, "main.tf"))))
			writeFile(t, filepath.Join(w.dir, "terraform.tfstate"), state)

			plan := append([]string{"plan", "-input=false", "-no-color", "-detailed-exitcode"}, fixtureVars(urls, "2.0.0", 0)...)
			w.mustRun(0, nil, plan...)

			// The first apply raises max_stage, the second advances the
			// rollout to it.
			apply := append([]string{"apply", "-input=false", "-no-color", "-auto-approve"}, fixtureVars(urls, "3.0.0", 1)...)
			w.mustRun(0, nil, apply...)
			w.mustRun(0, nil, apply...)
			if err := fleets["main"].expectVersions(versionsMap("3.0.0", "t1", "t2", "t3", "t4", "t5", "t6")); err != nil {
				t.Error(err)
			}
			if err := fleets["canary"].expectAll(4, "3.0.0"); err != nil {
				t.Error(err)
			}
			if fl, ok := fleets["main"].Flag("checkout"); !ok || fl.Stage != 1 {
				t.Errorf("flag checkout = %+v (present %v), want stage 1 after max_stage 1", fl, ok)
			}
			if d, ok := w.localState("gated"); !ok || d.Version != "3.0.0" || d.Status != "paused" {
				t.Errorf("gated = %+v (present %v), want 3.0.0 paused at its gate", d, ok)
			}
			plan = append([]string{"plan", "-input=false", "-no-color", "-detailed-exitcode"}, fixtureVars(urls, "3.0.0", 1)...)
			w.mustRun(0, nil, plan...)
		})
	}
}

// TestAccStateFixtures_write writes the fixture of a release, when
// CODOMYRMEX_WRITE_STATE_FIXTURE names it, with the CLI under test
// (Terraform 1.8.5: the oldest CLI supported): it applies
// testdata/states/<release>/main.tf (written by hand first) with 2.0.0 on
// four fleets running 1.0.0, then saves the state and the fleets. See
// RELEASING.md.
func TestAccStateFixtures_write(t *testing.T) {
	release := os.Getenv("CODOMYRMEX_WRITE_STATE_FIXTURE")
	if release == "" {
		t.Skip("writes a state fixture: set CODOMYRMEX_WRITE_STATE_FIXTURE=<release> (RELEASING.md)")
	}
	dir := filepath.Join(stateFixtures, release)
	w := newCLIWorkdir(t)
	if !strings.HasPrefix(w.source, "registry.terraform.io/") {
		t.Fatal("write fixtures with Terraform 1.8.5 (the oldest CLI supported): OpenTofu's state names another registry")
	}
	fleets, urls := map[string]*testFleet{}, map[string]string{}
	for _, name := range fixtureFleetNames {
		fleets[name] = newTestFleet(t, 10, "1.0.0")
		urls[name] = fleets[name].URL
	}
	w.writeConfig(string(mustRead(t, filepath.Join(dir, "main.tf"))))
	w.mustRun(0, nil, append([]string{"apply", "-input=false", "-no-color", "-auto-approve"}, fixtureVars(urls, "2.0.0", 0)...)...)
	if d, ok := w.localState("gated"); !ok || d.Status != "paused" {
		t.Fatalf("gated = %+v (present %v), want paused at its gate", d, ok)
	}
	writeFile(t, filepath.Join(dir, "state.json"), string(w.stateFile()))
	was := map[string]fixtureFleet{}
	for _, name := range fixtureFleetNames {
		var st fixtureFleet
		getJSON(t, urls[name]+"/_sim/state", &st)
		st.URL = urls[name]
		was[name] = st
	}
	raw, err := json.MarshalIndent(was, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "fleets.json"), string(raw)+"\n")
}

// restoreFleet starts a fleet holding what old held: the targets' versions,
// the router's slot and weights, the flags.
func restoreFleet(t *testing.T, old fixtureFleet) *testFleet {
	t.Helper()
	f := newTestFleet(t, len(old.Targets), "")
	for id, v := range old.Targets {
		f.SetVersion(id, v)
	}
	c, err := protocol.NewClient(protocol.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if old.Router.ActiveSlot != "" {
		if err := c.Switch(ctx, f.URL+"/router", protocol.SwitchRequest{Deployment: "fixture", Slot: old.Router.ActiveSlot, Version: old.Router.Version}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range slices.Sorted(maps.Keys(old.Router.Weights)) {
		if err := c.SetWeights(ctx, f.URL+"/router", protocol.WeightsRequest{Deployment: "fixture", Version: v, Percentage: old.Router.Weights[v]}); err != nil {
			t.Fatal(err)
		}
	}
	for _, fl := range old.Flags {
		if err := c.PublishFlag(ctx, f.URL+"/flags", fl); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func readJSONFile(t *testing.T, p string, v any) {
	t.Helper()
	if err := json.Unmarshal(mustRead(t, p), v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
