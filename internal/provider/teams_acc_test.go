package provider

// Teams on one state: two applies at once on the same state in OpenTofu's
// pg backend. scripts/pg-lock-test.sh starts a throwaway PostgreSQL and
// sets CODOMYRMEX_PG_CONN_STR; without it the test is skipped.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// EnvPGConnStr names the PostgreSQL database of TestAccReliability_pgBackendLock.
const envPGConnStr = "CODOMYRMEX_PG_CONN_STR"

// TestAccReliability_pgBackendLock: team A applies an update that takes a
// few seconds; meanwhile team B's apply with -lock-timeout=0s fails on the
// lock and changes nothing, and team C's apply with a lock timeout waits,
// then plans on top of A's result. Nothing is lost: the deploys of A and C
// never interleave, C's previous_version is A's version, and the state
// matches the fleet.
func TestAccReliability_pgBackendLock(t *testing.T) {
	conn := os.Getenv(envPGConnStr)
	if conn == "" {
		t.Skip("needs PostgreSQL: run ./scripts/pg-lock-test.sh (make reliability does)")
	}
	const n = 6
	a := newCLIWorkdir(t)
	b := a.sibling("team-b")
	f := newTestFleet(t, n, "1.0.0")
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	schema := "codomyrmex_" + hex.EncodeToString(suffix[:])
	cfg := fmt.Sprintf(`
terraform {
  backend "pg" {
    schema_name = %q
  }
}
%s`, schema, hcl{vars: []string{"app_version"}, name: "web", provider: cliProvider, body: rollingArgs(f, n, 1, "var.app_version")}.String())
	// init installs providers even under dev_overrides: give it the same
	// build as a local plugin directory, so it never asks a registry.
	mirror := filepath.Join(filepath.Dir(a.dir), "plugins")
	platform := filepath.Join(mirror, strings.SplitN(a.source, "/", 2)[0], "codomyrmex", "codomyrmex", "0.0.1", runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(platform, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(filepath.Dir(a.dir), "bin", "terraform-provider-codomyrmex"), filepath.Join(platform, "terraform-provider-codomyrmex")); err != nil {
		t.Fatal(err)
	}
	initArgs := []string{"init", "-input=false", "-no-color", "-plugin-dir=" + mirror, "-backend-config=conn_str=" + conn}
	for _, w := range []*cliWorkdir{a, b} {
		w.writeConfig(cfg)
		w.mustRun(0, nil, initArgs...)
	}
	apply := func(version string, extra ...string) []string {
		return append([]string{"apply", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=" + version}, extra...)
	}
	a.mustRun(0, nil, apply("2.0.0")...)

	// A's update holds the lock for a few seconds.
	cmdA, outA, doneA := startSlowApply(t, a, f, "3.0.0", 300*time.Millisecond, 1)

	out := b.mustRun(1, nil, apply("4.0.0", "-lock-timeout=0s")...)
	if !errorPattern(`Error acquiring the state lock`).MatchString(out) {
		t.Errorf("B's apply without a lock timeout failed for another reason:\n%s", tail(out, 3000))
	}
	if n := f.deploysOf("4.0.0"); n != 0 {
		t.Errorf("B's apply deployed 4.0.0 %d times without the lock", n)
	}

	// C starts while A still runs, waits for the lock, then applies.
	select {
	case err := <-doneA:
		t.Fatalf("A's apply ended (%v) before C could start: make it slower\n%s", err, tail(outA.String(), 3000))
	default:
	}
	outC := b.mustRun(0, nil, apply("4.0.0", "-lock-timeout=2m")...)
	if err := waitExit(t, doneA, "A's apply"); err != nil {
		t.Fatalf("A's apply: %v\n%s", err, tail(outA.String(), 4000))
	}
	_ = cmdA

	// The lock serialized the two rollouts: every 3.0.0 deploy came first.
	var order []string
	for _, d := range f.Deploys() {
		if d.Version == "3.0.0" || d.Version == "4.0.0" {
			order = append(order, d.Version)
		}
	}
	if i := slices.Index(order, "4.0.0"); i < 0 || slices.Contains(order[i:], "3.0.0") {
		t.Errorf("deploys interleave: %v", order)
	}
	if !strings.Contains(outC, `previous_version   = "2.0.0" -> "3.0.0"`) {
		t.Errorf("C did not plan on top of A's apply:\n%s", tail(outC, 4000))
	}
	if err := f.expectAll(n, "4.0.0"); err != nil {
		t.Error(err)
	}
	pulled := a.mustRun(0, nil, "state", "pull")
	d, _, ok := readDeployment(t, []byte(pulled), "web")
	if !ok {
		t.Fatalf("no deployment in the pg state:\n%s", tail(pulled, 2000))
	}
	if err := stateMatchesFleet(d, f, n, "4.0.0"); err != nil {
		t.Error(err)
	}
	if d.Version != "4.0.0" || d.PreviousVersion == nil || *d.PreviousVersion != "3.0.0" {
		t.Errorf("pg state: version %q, previous_version %v; want 4.0.0 after 3.0.0", d.Version, d.PreviousVersion)
	}
	a.mustRun(0, nil, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-var", "app_version=4.0.0")
	a.mustRun(0, nil, "destroy", "-auto-approve", "-input=false", "-no-color", "-var", "app_version=4.0.0")
	if err := f.expectAll(n, "3.0.0"); err != nil {
		t.Errorf("destroy did not roll back to 3.0.0: %v", err)
	}
}
