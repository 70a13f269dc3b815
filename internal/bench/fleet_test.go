package bench

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/simulator"
)

// state decodes what the real simulator serves at /_sim/state.
func TestFleetStateReadsTheSimulator(t *testing.T) {
	t.Parallel()
	sim := simulator.NewFleet(simulator.FleetConfig{Targets: 3, InitialVersion: "1.0.0"})
	sim.SetVersion("t2", "2.0.0")
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	f := &fleet{URL: srv.URL, Targets: 3}
	before, err := f.state(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := before.countAt("1.0.0"); got != 2 {
		t.Errorf("countAt(1.0.0) = %d, want 2", got)
	}
	for _, id := range []string{"t1", "t3"} {
		resp, err := srv.Client().Get(srv.URL + "/t/" + id + "/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	after, err := f.state(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := after.callsSince(before), map[string]int{"health": 2}; !maps.Equal(got, want) {
		t.Errorf("callsSince() = %v, want %v", got, want)
	}
	if got := f.TargetAddress(3); got != srv.URL+"/t/t3" {
		t.Errorf("TargetAddress(3) = %q", got)
	}
}

// fakeAgentLines are the first lines the fake agents of these tests print.
var fakeAgentLines = []string{"http://127.0.0.1:7070", "listening soon"}

// fakeAgentDir holds the fake agents, written by TestMain before any test
// runs: a script written while a parallel test forks can still be open for
// writing in the child when it is executed, and exec then fails with "text
// file busy" (golang/go#22315).
var fakeAgentDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "codomyrmex-bench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i, line := range fakeAgentLines {
		script := "#!/bin/sh\necho '" + line + "'\nexec sleep 30\n"
		if err := os.WriteFile(filepath.Join(dir, "agent"+strconv.Itoa(i)), []byte(script), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fakeAgentDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// fakeAgent is a script that behaves like `agent simulate` as far as
// startFleet is concerned: it prints firstLine and waits to be stopped.
func fakeAgent(t *testing.T, firstLine string) string {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	i := slices.Index(fakeAgentLines, firstLine)
	if i < 0 {
		t.Fatalf("no fake agent printing %q: add it to fakeAgentLines", firstLine)
	}
	return filepath.Join(fakeAgentDir, "agent"+strconv.Itoa(i))
}

func TestStartFleetReadsTheURLAndStops(t *testing.T) {
	t.Parallel()
	f, err := startFleet(context.Background(), fakeAgent(t, "http://127.0.0.1:7070"), 3, "1.0.0", 0, filepath.Join(t.TempDir(), "sim.log"))
	if err != nil {
		t.Fatal(err)
	}
	if f.URL != "http://127.0.0.1:7070" {
		t.Errorf("URL = %q", f.URL)
	}
	f.stop()
	if err := f.alive(); err == nil {
		t.Error("alive() after stop(): want errFleetStopped")
	}
}

func TestStartFleetRejectsAnythingButAURL(t *testing.T) {
	t.Parallel()
	_, err := startFleet(context.Background(), fakeAgent(t, "listening soon"), 3, "1.0.0", 0, filepath.Join(t.TempDir(), "sim.log"))
	if err == nil || !strings.Contains(err.Error(), "listening soon") {
		t.Errorf("startFleet() error = %v, want one quoting what it printed", err)
	}
}
