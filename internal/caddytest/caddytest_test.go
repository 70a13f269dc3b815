package caddytest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// upstream is an HTTP server answering its name to GET /.
func upstream(t *testing.T, name string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, name)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestWeightedRoundRobin: a real Caddy splits requests exactly by the
// weights, weight 0 sends nothing, the admin API changes them, and weights
// that are all 0 are refused with the old ones left in place.
func TestWeightedRoundRobin(t *testing.T) {
	t.Parallel()
	a, b, c := upstream(t, "a"), upstream(t, "b"), upstream(t, "c")
	s := Start(t, Config{Upstreams: []string{a, b, c}, Weights: []int{1, 2, 3}, ID: "web"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	tally := func(n int, want string) {
		t.Helper()
		got, err := s.Tally(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("%d requests went %v, want %s", n, got, want)
		}
	}
	tally(600, "map[a:100 b:200 c:300]")

	if ups, err := s.Upstreams(ctx); err != nil || fmt.Sprint(ups) != fmt.Sprint([]string{a, b, c}) {
		t.Errorf("Upstreams() = %v, %v", ups, err)
	}
	if err := s.SetWeights(ctx, []int{0, 1, 3}); err != nil {
		t.Fatal(err)
	}
	if w, err := s.Weights(ctx); err != nil || fmt.Sprint(w) != "[0 1 3]" {
		t.Errorf("Weights() = %v, %v", w, err)
	}
	tally(400, "map[b:100 c:300]")

	err := s.SetWeights(ctx, []int{0, 0, 0})
	if err == nil || !strings.Contains(err.Error(), "at least one upstream with a positive weight") {
		t.Errorf("all weights 0: %v", err)
	}
	tally(40, "map[b:10 c:30]")

	s.Stop()
	if _, err := s.Tally(ctx, 1); err == nil {
		t.Error("the proxy still answers after Stop")
	}
}

func TestConfigJSON(t *testing.T) {
	t.Parallel()
	data, err := Config{Upstreams: []string{"127.0.0.1:1", "127.0.0.1:2"}}.JSON("127.0.0.1:3", "127.0.0.1:4", "/tmp/x")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Admin struct {
			Listen string `json:"listen"`
			Config struct {
				Persist bool `json:"persist"`
			} `json:"config"`
		} `json:"admin"`
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string `json:"listen"`
					Routes []struct {
						Handle []struct {
							ID            string              `json:"@id"`
							Handler       string              `json:"handler"`
							Upstreams     []map[string]string `json:"upstreams"`
							LoadBalancing struct {
								SelectionPolicy struct {
									Policy  string `json:"policy"`
									Weights []int  `json:"weights"`
								} `json:"selection_policy"`
							} `json:"load_balancing"`
						} `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	proxy := cfg.Apps.HTTP.Servers["proxy"]
	if cfg.Admin.Listen != "127.0.0.1:3" || cfg.Admin.Config.Persist || fmt.Sprint(proxy.Listen) != "[127.0.0.1:4]" || len(proxy.Routes) != 1 {
		t.Fatalf("config:\n%s", data)
	}
	h := proxy.Routes[0].Handle[0]
	if h.ID != DefaultID || h.Handler != "reverse_proxy" || len(h.Upstreams) != 2 || h.Upstreams[1]["dial"] != "127.0.0.1:2" ||
		h.LoadBalancing.SelectionPolicy.Policy != "weighted_round_robin" || fmt.Sprint(h.LoadBalancing.SelectionPolicy.Weights) != "[1 1]" {
		t.Errorf("handler %+v", h)
	}
	for _, bad := range []Config{{}, {Upstreams: []string{"127.0.0.1:1"}, Weights: []int{1, 2}}, {Upstreams: []string{"no-port"}}} {
		if _, err := bad.JSON("a:1", "b:2", "/tmp"); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

// TestBinaryMissing: a missing binary is an error that says how to build
// it (Start fails the test with it).
func TestBinaryMissing(t *testing.T) {
	t.Setenv("CODOMYRMEX_CADDY", filepath.Join(t.TempDir(), "caddy"))
	if _, err := Binary(); err == nil || !strings.Contains(err.Error(), "./scripts/install-clis.sh caddy") {
		t.Errorf("Binary() = %v, want the install command", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "caddy"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CODOMYRMEX_CADDY", filepath.Join(dir, "caddy"))
	if _, err := Binary(); err == nil || !strings.Contains(err.Error(), "not an executable") {
		t.Errorf("Binary() of a file that is not executable = %v", err)
	}
}
