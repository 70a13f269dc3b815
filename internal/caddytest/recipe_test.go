package caddytest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recipe is the router command of the routing guide.
const recipe = "../../examples/guides/routing/caddy-router.sh"

// fakeHost answers its version to GET / (app traffic) and to
// GET /v1/health (the agent), the latter behind a token when it has one.
type fakeHost struct {
	addr, url string
	mu        sync.Mutex
	version   string
}

func newFakeHost(t *testing.T, version, token string) *fakeHost {
	t.Helper()
	h := &fakeHost{version: version}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		v := h.version
		h.mu.Unlock()
		switch r.URL.Path {
		case "/v1/health":
			if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, `{"error":"missing or invalid bearer token"}`, http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, `{"status":"ok","version":%q}`, v)
		default:
			fmt.Fprintln(w, v)
		}
	}))
	t.Cleanup(srv.Close)
	h.url, h.addr = srv.URL, strings.TrimPrefix(srv.URL, "http://")
	return h
}

func (h *fakeHost) set(v string) {
	h.mu.Lock()
	h.version = v
	h.mu.Unlock()
}

// TestCaddyRouterRecipe runs caddy-router.sh against a real Caddy: the
// weights it sets for switch and weights calls, and the calls it refuses
// leaving the weights as they were.
func TestCaddyRouterRecipe(t *testing.T) {
	t.Parallel()
	const token = "agents-token"
	hosts := make([]*fakeHost, 5)
	var ups []string
	var conf strings.Builder
	conf.WriteString("# deployment upstream slot agent\n")
	for i := range hosts {
		hosts[i] = newFakeHost(t, "1.0.0", token)
		ups = append(ups, hosts[i].addr)
		slot := "blue"
		if i >= 2 {
			slot = "green"
		}
		fmt.Fprintf(&conf, "web  %s  %s  %s/\n", hosts[i].addr, slot, hosts[i].url)
	}
	// Another deployment on the same upstreams, to be ignored.
	fmt.Fprintf(&conf, "other %s - http://127.0.0.1:1\n", hosts[0].addr)
	dir := t.TempDir()
	targets, tokenFile := filepath.Join(dir, "targets.conf"), filepath.Join(dir, "token")
	if err := os.WriteFile(targets, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Start(t, Config{Upstreams: ups, ID: "web"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	run := func(env ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "bash", recipe)
		cmd.Env = append(os.Environ(), "CADDY_ADMIN="+s.AdminURL, "ROUTER_TARGETS="+targets, "AGENT_TOKEN_FILE="+tokenFile,
			"CODOMYRMEX_DEPLOYMENT=web")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	versions := func(vs ...string) {
		for i, v := range vs {
			hosts[i].set(v)
		}
	}
	for _, tt := range []struct {
		name     string
		versions []string
		env      []string
		weights  string // "" when the call must fail
		wantOut  string
		tally    int
		want     string
	}{
		{"canary 25% on 2 of 5", []string{"2", "2", "1", "1", "1"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=25"},
			"[1 1 2 2 2]", "web: 25 % to 2 on 2 of 5 upstreams; weights [1,1,2,2,2]", 400, "map[1:300 2:100]"},
		{"2.5% on 1 of 5", []string{"2", "1", "1", "1", "1"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=2.5"},
			"[4 39 39 39 39]", "", 160, "map[1:156 2:4]"},
		{"a third, to 0.01%", []string{"2", "1", "1", "1", "1"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=33.333333333333336"},
			"[13332 6667 6667 6667 6667]", "", 0, ""},
		{"0% drains the version", []string{"2", "2", "1", "1", "1"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=0"},
			"[0 0 1 1 1]", "", 30, "map[1:30]"},
		{"100% on some", []string{"2", "2", "1", "1", "1"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=100"},
			"[1 1 0 0 0]", "", 30, "map[2:30]"},
		{"0% of a version everyone runs keeps everyone", []string{"2", "2", "2", "2", "2"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=0"},
			"[1 1 1 1 1]", "", 0, ""},
		{"0% of a version nobody runs", []string{"1", "1", "1", "1", "1"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=0"},
			"[1 1 1 1 1]", "", 0, ""},
		{"a share for a version nobody runs", []string{"1", "1", "1", "1", "1"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=10"},
			"", "no upstream of web runs 2: cannot send it 10 %", 0, ""},
		{"over 100", []string{"2", "1", "1", "1", "1"}, []string{"CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=100.5"},
			"", "percentage 100.5 is over 100", 0, ""},
		{"switch to green", []string{"1", "1", "2", "2", "2"}, []string{"CODOMYRMEX_ACTION=switch", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_SLOT=green"},
			"[0 0 1 1 1]", "every request to slot green (2) on 3 of 5 upstreams", 30, "map[2:30]"},
		{"switch skips a green upstream on another version", []string{"1", "1", "2", "3", "2"}, []string{"CODOMYRMEX_ACTION=switch", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_SLOT=green"},
			"[0 0 1 0 1]", "", 30, "map[2:30]"},
		{"switch back to blue", []string{"1", "1", "2", "2", "2"}, []string{"CODOMYRMEX_ACTION=switch", "CODOMYRMEX_VERSION=1", "CODOMYRMEX_SLOT=blue"},
			"[1 1 0 0 0]", "", 30, "map[1:30]"},
		{"switch to a slot that does not run the version", []string{"1", "1", "2", "2", "2"}, []string{"CODOMYRMEX_ACTION=switch", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_SLOT=blue"},
			"", "no upstream of slot blue runs 2: traffic not switched", 0, ""},
		{"without the agents' token", []string{"2", "1", "1", "1", "1"}, []string{"AGENT_TOKEN_FILE=", "CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=50"},
			"", "does not answer its health check", 0, ""},
		{"an unknown handler", []string{"2", "1", "1", "1", "1"}, []string{"CADDY_HANDLER_ID=nope", "CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=50"},
			"", "unknown object ID", 0, ""},
		{"an upstream that is no target", []string{"2", "1", "1", "1", "1"}, []string{"CODOMYRMEX_DEPLOYMENT=other", "CADDY_HANDLER_ID=web", "CODOMYRMEX_ACTION=weights", "CODOMYRMEX_VERSION=2", "CODOMYRMEX_PERCENTAGE=50"},
			"", "is not a target of deployment other", 0, ""},
	} {
		versions(tt.versions...)
		before, err := s.Weights(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out, err := run(tt.env...)
		after, werr := s.Weights(ctx)
		if werr != nil {
			t.Fatal(werr)
		}
		switch {
		case tt.weights == "" && err == nil:
			t.Errorf("%s: succeeded, want a failure; output:\n%s", tt.name, out)
		case tt.weights == "" && fmt.Sprint(after) != fmt.Sprint(before):
			t.Errorf("%s: failed but the weights changed from %v to %v", tt.name, before, after)
		case tt.weights != "" && err != nil:
			t.Errorf("%s: %v; output:\n%s", tt.name, err, out)
		case tt.weights != "" && fmt.Sprint(after) != tt.weights:
			t.Errorf("%s: weights %v, want %s; output:\n%s", tt.name, after, tt.weights, out)
		}
		if !strings.Contains(out, tt.wantOut) {
			t.Errorf("%s: output %q does not say %q", tt.name, out, tt.wantOut)
		}
		if tt.tally > 0 && err == nil {
			got, err := s.Tally(ctx, tt.tally)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != tt.want {
				t.Errorf("%s: %d requests went %v, want %s", tt.name, tt.tally, got, tt.want)
			}
		}
	}
}
