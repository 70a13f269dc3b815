package provider

// A working directory driven by the real CLI (TF_ACC_TERRAFORM_PATH) as a
// process, whose provider is served from the test process through
// Terraform's reattach protocol, as terraform-plugin-testing serves it.
// The test owns the provider's clock and environment, so time-driven paths
// (saved plans applied late, -refresh=false plans, advances due between
// plan and apply) run without sleeping, and every CLI option and lifecycle
// block is available.

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock/clocktest"
)

// reattachWorkdir is a cliWorkdir whose provider runs in the test process
// with a fake clock and an environment of its own.
type reattachWorkdir struct {
	*cliWorkdir
	clock *clocktest.Fake

	mu  sync.Mutex
	env map[string]string // what the provider reads as its environment
}

// newReattachWorkdir skips the test unless acceptance tests are on, then
// prepares an empty working directory whose CLI uses no plugin cache or
// overrides: the provider is only reachable through TF_REATTACH_PROVIDERS.
func newReattachWorkdir(t *testing.T, clk *clocktest.Fake) *reattachWorkdir {
	t.Helper()
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || cli == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make testacc does)")
	}
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	dir := t.TempDir()
	rc := filepath.Join(dir, "cli.tfrc")
	writeFile(t, rc, "")
	w := &cliWorkdir{t: t, cli: cli, dir: filepath.Join(dir, "work"), source: host + "/codomyrmex/codomyrmex"}
	w.env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	// The provider's environment is the test's, never the process's.
	w.env = append(w.env, EnvFlagEndpoint+"=", EnvToken+"=")
	return &reattachWorkdir{cliWorkdir: w, clock: clk, env: map[string]string{}}
}

// setEnv sets (or, with "", unsets) a variable of the provider's
// environment for the next runs.
func (w *reattachWorkdir) setEnv(k, v string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v == "" {
		delete(w.env, k)
		return
	}
	w.env[k] = v
}

func (w *reattachWorkdir) getenv(k string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.env[k]
}

// run serves a fresh provider for one CLI run, as Terraform would start
// one, and runs the CLI against it.
func (w *reattachWorkdir) run(args ...string) (string, int) {
	w.t.Helper()
	reattach, stop := w.serve()
	defer stop()
	return w.cliWorkdir.run([]string{"TF_REATTACH_PROVIDERS=" + reattach}, args...)
}

// mustRun runs the CLI and fails the test unless it exits with want.
func (w *reattachWorkdir) mustRun(want int, args ...string) string {
	w.t.Helper()
	out, code := w.run(args...)
	if code != want {
		w.t.Fatalf("%s exited %d, want %d:\n%s", args, code, want, tail(out, 6000))
	}
	return out
}

// serve starts the provider's gRPC server and returns the value of
// TF_REATTACH_PROVIDERS and a function that stops it.
func (w *reattachWorkdir) serve() (string, func()) {
	w.t.Helper()
	p := &codomyrmexProvider{version: "test", clock: w.clock, getenv: w.getenv}
	server := providerserver.NewProtocol6(p)
	ctx, cancel := context.WithCancel(context.Background())
	configCh := make(chan *plugin.ReattachConfig, 1)
	closeCh := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- tf6server.Serve(w.source, server,
			tf6server.WithDebug(ctx, configCh, closeCh),
			tf6server.WithGoPluginLogger(hclog.New(&hclog.LoggerOptions{Name: "reattach", Output: io.Discard})),
			tf6server.WithLoggingSink(w.t),
			tf6server.WithoutLogStderrOverride())
	}()
	var cfg *plugin.ReattachConfig
	select {
	case cfg = <-configCh:
	case err := <-served:
		cancel()
		w.t.Fatalf("serving the provider: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		w.t.Fatal("serving the provider: no reattach configuration after 30s")
	}
	type addr struct{ Network, String string }
	raw, err := json.Marshal(map[string]any{w.source: map[string]any{
		"Protocol":        string(cfg.Protocol),
		"ProtocolVersion": cfg.ProtocolVersion,
		"Pid":             cfg.Pid,
		"Test":            cfg.Test,
		"Addr":            addr{cfg.Addr.Network(), cfg.Addr.String()},
	}})
	if err != nil {
		cancel()
		w.t.Fatal(err)
	}
	return string(raw), func() {
		cancel()
		<-closeCh
	}
}
