package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCLIConfigOverridesBothRegistries(t *testing.T) {
	t.Parallel()
	rc := cliConfig("/work/plugin")
	for _, want := range []string{
		`"registry.terraform.io/codomyrmex/codomyrmex" = "/work/plugin"`,
		`"registry.opentofu.org/codomyrmex/codomyrmex" = "/work/plugin"`,
		"dev_overrides",
	} {
		if !strings.Contains(rc, want) {
			t.Errorf("CLI config lacks %s:\n%s", want, rc)
		}
	}
}

func TestNewWorkspaceWritesTheTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := newWorkspace(dir, "/bin/tofu", nil, true, 3, func(i int) string { return "http://sim/t/t" + string(rune('0'+i)) })
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(w.dir, "targets.auto.tfvars.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vars struct {
		Targets []struct{ ID, Address string } `json:"targets"`
	}
	if err := json.Unmarshal(data, &vars); err != nil {
		t.Fatalf("targets file is not JSON: %v", err)
	}
	if len(vars.Targets) != 3 || vars.Targets[0].ID != "t1" || vars.Targets[2].Address != "http://sim/t/t3" {
		t.Errorf("targets = %+v, want t1…t3 at their addresses", vars.Targets)
	}
	tf, err := os.ReadFile(filepath.Join(dir, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"app_version", "batch_size", "batch_delay", "max_concurrency", "health_interval"} {
		if !strings.Contains(string(tf), `variable "`+v+`"`) {
			t.Errorf("main.tf does not declare %s", v)
		}
	}
}

func TestRolloutVars(t *testing.T) {
	t.Parallel()
	got := rollout{Version: "2.0.0", BatchSize: 100, BatchDelay: 0, MaxConcurrency: 32, HealthInterval: 100 * time.Millisecond}.vars()
	want := []string{"-var", "app_version=2.0.0", "-var", "batch_size=100", "-var", "batch_delay=0s",
		"-var", "max_concurrency=32", "-var", "health_interval=100ms"}
	if !slices.Equal(got, want) {
		t.Errorf("vars() = %q, want %q", got, want)
	}
}

func TestRunTimesTheCommandAndNamesItsLogOnFailure(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	w, err := newWorkspace(t.TempDir(), "/bin/sh", os.Environ(), false, 1, func(int) string { return "http://sim" })
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.run(context.Background(), "ok", nil, "-c", "echo fine")
	if err != nil || m.ExitCode != 0 || m.Wall <= 0 {
		t.Fatalf("run(ok) = %+v, %v; want a timed success", m, err)
	}
	if _, err := w.run(context.Background(), "changes", []int{2}, "-c", "exit 2"); err != nil {
		t.Errorf("exit code 2 was allowed, got %v", err)
	}
	_, err = w.run(context.Background(), "broken", nil, "-c", "echo the reason; exit 1")
	if err == nil || !strings.Contains(err.Error(), "the reason") || !strings.Contains(err.Error(), "exited with 1") {
		t.Errorf("run(broken) error = %v, want the exit code and the log's tail", err)
	}
}

func TestReadState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := `{"version": 4, "resources": [{"type": "codomyrmex_deployment", "name": "fleet", "instances": [
		{"attributes": {"version": "2.0.0", "status": "completed", "targets_updated": 1000, "duration_ms": 1042}}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "terraform.tfstate"), []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := (&workspace{dir: dir}).readState()
	if err != nil {
		t.Fatal(err)
	}
	if want := (deploymentState{Version: "2.0.0", Status: "completed", TargetsUpdated: 1000, DurationMs: 1042}); got != want {
		t.Errorf("readState() = %+v, want %+v", got, want)
	}
	if _, err := (&workspace{dir: t.TempDir()}).readState(); err == nil {
		t.Error("readState() of a workspace without state: want an error")
	}
}

func TestCleanEnvDropsLoggingAndCLIArguments(t *testing.T) {
	t.Parallel()
	got := cleanEnv([]string{"PATH=/bin", "TF_LOG=trace", "TF_LOG_PROVIDER=debug", "TF_CLI_ARGS_plan=-parallelism=1",
		"TF_CLI_CONFIG_FILE=/home/me/.terraformrc", EnvWrapProvider + "=/x", "HOME=/root"})
	if want := []string{"PATH=/bin", "HOME=/root"}; !slices.Equal(got, want) {
		t.Errorf("cleanEnv() = %q, want %q", got, want)
	}
}
