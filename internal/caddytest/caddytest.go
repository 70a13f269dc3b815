// Package caddytest runs a real Caddy for tests: the binary that
// scripts/install-clis.sh builds into the CLI cache, on 127.0.0.1, with a
// generated JSON configuration: its admin API on a free port, and one HTTP
// server on another whose only route is a reverse_proxy handler balancing
// over the given upstreams with the weighted_round_robin selection policy.
//
// Start returns once the admin API answers and the proxy accepts
// connections. Caddy stops when the test ends (or earlier with Stop), and
// the test fails with the tail of its log when it exited on its own.
//
// weighted_round_robin is deterministic: after each configuration change
// the i-th request (from 1) goes to the upstream whose block of weights
// holds i modulo the sum of the weights, so any run of requests as long as
// that sum is split exactly by the weights. An upstream of weight 0 gets
// nothing, and a configuration whose weights are all 0 is refused.
package caddytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clicache"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/testproc"
)

// Version is the Caddy release the tests run, as scripts/install-clis.sh
// builds it (CADDY_VERSION in scripts/versions.sh).
const Version = clicache.CaddyVersion

// DefaultID is the "@id" of the reverse_proxy handler when Config.ID is
// empty: the admin API reaches it at /id/<ID>.
const DefaultID = "proxy"

// ReadyTimeout bounds how long Start waits for Caddy to serve.
const ReadyTimeout = 30 * time.Second

const pollInterval = 50 * time.Millisecond

// Binary returns the path of the Caddy binary: $CODOMYRMEX_CADDY when set,
// else caddy-<Version> in the CLI cache (clicache.Dir). It fails,
// naming the command that builds it, when that file is not an executable.
func Binary() (string, error) {
	return clicache.Binary("CODOMYRMEX_CADDY", "caddy", Version)
}

// Config is what the generated configuration balances.
type Config struct {
	// Upstreams are the addresses (host:port) the proxy balances over, in
	// this order.
	Upstreams []string
	// Weights are the initial weights of weighted_round_robin, one per
	// upstream; nil gives each upstream 1.
	Weights []int
	// ID is the "@id" of the reverse_proxy handler (DefaultID when empty).
	ID string
}

// JSON renders the configuration of a Caddy whose admin API listens on
// admin and whose proxy listens on listen, keeping its files under dir.
// Nothing is persisted (no autosave), and automatic HTTPS is off.
func (c Config) JSON(admin, listen, dir string) ([]byte, error) {
	if len(c.Upstreams) == 0 {
		return nil, errors.New("caddytest: no upstream")
	}
	weights := c.Weights
	if weights == nil {
		weights = make([]int, len(c.Upstreams))
		for i := range weights {
			weights[i] = 1
		}
	}
	if len(weights) != len(c.Upstreams) {
		return nil, fmt.Errorf("caddytest: %d weights for %d upstreams", len(weights), len(c.Upstreams))
	}
	id := c.ID
	if id == "" {
		id = DefaultID
	}
	upstreams := make([]map[string]string, len(c.Upstreams))
	for i, u := range c.Upstreams {
		if _, _, err := net.SplitHostPort(u); err != nil {
			return nil, fmt.Errorf("caddytest: upstream %q: want host:port: %w", u, err)
		}
		upstreams[i] = map[string]string{"dial": u}
	}
	type obj = map[string]any
	cfg := obj{
		"admin":   obj{"listen": admin, "config": obj{"persist": false}},
		"storage": obj{"module": "file_system", "root": filepath.Join(dir, "storage")},
		"apps": obj{"http": obj{
			"grace_period": "2s",
			"servers": obj{"proxy": obj{
				"listen":          []string{listen},
				"automatic_https": obj{"disable": true},
				"routes": []obj{{"handle": []obj{{
					"@id":       id,
					"handler":   "reverse_proxy",
					"upstreams": upstreams,
					"load_balancing": obj{"selection_policy": obj{
						"policy":  "weighted_round_robin",
						"weights": weights,
					}},
				}}}},
			}},
		}},
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// Server is a running Caddy.
type Server struct {
	// URL is the proxy: http://127.0.0.1:PORT.
	URL string
	// AdminURL is the admin API: http://127.0.0.1:PORT.
	AdminURL string
	// ID is the "@id" of the reverse_proxy handler.
	ID string

	client *http.Client
	proc   *testproc.Process
}

// Start runs Caddy with cfg and returns once it serves (t.Fatal
// otherwise, or when the binary is missing). It is stopped when the test
// ends. Call it from the test's goroutine.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("caddytest: %v", err)
	}
	dir := t.TempDir()
	return testproc.StartRetrying(t, "caddytest", func(attempt int) (*Server, *testproc.Process, bool, error) {
		return start(bin, dir, cfg, attempt)
	}, (*Server).Stop)
}

// start runs the binary once on free ports and waits until it serves. A
// port can be taken between choosing it and Caddy binding it: portTaken
// says so.
func start(bin, dir string, cfg Config, attempt int) (s *Server, proc *testproc.Process, portTaken bool, err error) {
	ports, err := testproc.FreePorts(2)
	if err != nil {
		return nil, nil, false, err
	}
	admin := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	data, err := cfg.JSON(admin, listen, dir)
	if err != nil {
		return nil, nil, false, err
	}
	n := strconv.Itoa(attempt)
	cfgPath := filepath.Join(dir, "caddy-"+n+".json")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		return nil, nil, false, err
	}
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Dir = dir
	// Caddy's own files (its data and configuration directories) stay in
	// the test's directory.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	proc, err = testproc.Start("caddy", cmd, filepath.Join(dir, "caddy-"+n+".log"))
	if err != nil {
		return nil, nil, false, err
	}
	id := cfg.ID
	if id == "" {
		id = DefaultID
	}
	s = &Server{
		URL:      "http://" + listen,
		AdminURL: "http://" + admin,
		ID:       id,
		client: &http.Client{
			Timeout: 10 * time.Second,
			// A new connection per request: a configuration change closes
			// the old server's connections.
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		},
		proc: proc,
	}
	if err := s.waitReady(listen); err != nil {
		portTaken, err := proc.NotReady(err)
		s.client.CloseIdleConnections()
		return nil, nil, portTaken, err
	}
	return s, proc, false, nil
}

// waitReady polls the admin API until it answers 200 and the proxy until it
// accepts connections.
func (s *Server) waitReady(listen string) error {
	return s.proc.WaitReady(ReadyTimeout, pollInterval, func() bool {
		if !testproc.Answers200(s.client, s.AdminURL+"/config/") {
			return false
		}
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, fmt.Errorf("caddy not serving at %s (admin %s) after %s", s.URL, s.AdminURL, ReadyTimeout))
}

// admin calls the admin API at path (relative to /id/<ID>) and decodes
// its answer into out.
func (s *Server) admin(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.AdminURL+"/id/"+s.ID+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("caddy admin %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Weights reads the weights of the reverse_proxy handler through the admin
// API, in the order of its upstreams.
func (s *Server) Weights(ctx context.Context) ([]int, error) {
	var w []int
	err := s.admin(ctx, http.MethodGet, "/load_balancing/selection_policy/weights", nil, &w)
	return w, err
}

// Upstreams reads the dial addresses of the handler's upstreams.
func (s *Server) Upstreams(ctx context.Context) ([]string, error) {
	var ups []struct {
		Dial string `json:"dial"`
	}
	if err := s.admin(ctx, http.MethodGet, "/upstreams", nil, &ups); err != nil {
		return nil, err
	}
	out := make([]string, len(ups))
	for i, u := range ups {
		out[i] = u.Dial
	}
	return out, nil
}

// SetWeights replaces the weights through the admin API; Caddy refuses
// weights that are all 0.
func (s *Server) SetWeights(ctx context.Context, weights []int) error {
	return s.admin(ctx, http.MethodPatch, "/load_balancing/selection_policy",
		map[string]any{"policy": "weighted_round_robin", "weights": weights}, nil)
}

// Tally sends n requests GET / through the proxy, one after the other, and
// counts their answers by body (white space trimmed). Any answer but 200
// is an error.
func (s *Server) Tally(ctx context.Context, n int) (map[string]int, error) {
	counts := map[string]int{}
	for i := range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
		if err != nil {
			return counts, err
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return counts, fmt.Errorf("request %d of %d: %w", i+1, n, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if err != nil {
			return counts, fmt.Errorf("request %d of %d: %w", i+1, n, err)
		}
		if resp.StatusCode != http.StatusOK {
			return counts, fmt.Errorf("request %d of %d: %s: %s", i+1, n, resp.Status, bytes.TrimSpace(body))
		}
		counts[strings.TrimSpace(string(body))]++
	}
	return counts, nil
}

// Stop stops Caddy (SIGTERM, then SIGKILL after 5 s) and waits for it to
// exit. It may be called more than once.
func (s *Server) Stop() {
	s.proc.Stop()
	s.client.CloseIdleConnections()
}

// LogTail returns the last lines Caddy wrote to stdout and stderr.
func (s *Server) LogTail() string { return s.proc.LogTail() }
