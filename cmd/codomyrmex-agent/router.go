package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// busyBackend is a backend whose command in progress the shutdown waits
// for: *agent.Host (a deploy), *agent.Router (a switch or weights call).
type busyBackend interface {
	// Deploying names what runs, "" when nothing does.
	Deploying() string
	// Idle waits until nothing runs.
	Idle(ctx context.Context) error
}

// router serves the router calls of protocol v1 by running a command that
// drives the operator's load balancer.
func router(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("router", args, stdout, stderr)
	listen := fs.String("listen", ":7070", "address to listen on")
	execCmd := fs.String("exec", "", "command that moves traffic (required), run with sh -c for every call, with "+
		strings.Join(agent.RouterEnv(), ", ")+" in its environment ("+agent.EnvAction+" is "+agent.ActionSwitch+
		" with "+agent.EnvSlot+", or "+agent.ActionWeights+" with "+agent.EnvPercentage+
		"); a non-zero exit fails the call, and only a call that succeeded is recorded")
	stateFile := fs.String("state-file", "codomyrmex-router.state.json",
		`file remembering what was last applied to each deployment across restarts, served at GET /v1/state ("" keeps it in memory)`)
	versionPattern := fs.String("version-pattern", "", "regular expression (RE2) a version must match in full, replacing the default rule "+
		"(at most 256 bytes, no '..' path segment, no leading '-' or '/'); control characters are always refused")
	tokenFile := fs.String("token-file", "", "file holding the bearer token every call must carry")
	tlsCert := fs.String("tls-cert", "", "PEM certificate file; serves HTTPS with --tls-key")
	tlsKey := fs.String("tls-key", "", "PEM private key file for --tls-cert")
	tlsClientCA := fs.String("tls-client-ca", "", "PEM CA certificate file: with --tls-cert, every caller must present a client certificate it signed (mutual TLS)")
	execTimeout := fs.Duration("exec-timeout", time.Minute, "longest a command may run (0 = no limit); "+
		"keep commands well within the provider's request_timeout (10s by default), after which it calls again")
	reapply := fs.Duration("reapply-interval", 0, "every so often, run the command again for what was last applied to each deployment (0 = never): "+
		"restores weights a load balancer lost on a restart, and gives traffic back to hosts a rollback restored after their weight went to 0")
	shutdown := fs.Duration("shutdown-timeout", shutdownTimeout,
		"on SIGTERM, how long calls in flight get to finish; a command in progress is always seen through (signal again to stop at once)")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*execCmd) == "" {
		return usagef("router: --exec is required")
	}
	if *shutdown < 0 {
		return usagef("router: --shutdown-timeout must not be negative")
	}
	if *reapply < 0 {
		return usagef("router: --reapply-interval must not be negative")
	}
	tlsCfg, err := serverTLS("router", *tlsCert, *tlsKey, *tlsClientCA)
	if err != nil {
		return err
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	versions, err := agent.NewVersionRule(*versionPattern)
	if err != nil {
		return usagef("router: --version-pattern: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	r, err := agent.NewRouter(agent.RouterConfig{
		Exec: *execCmd, StateFile: *stateFile, ExecTimeout: *execTimeout, Versions: versions, Logger: logger,
	})
	if err != nil {
		return err
	}
	handler := protocol.NewRouterHandler(r, token)
	if *verbose {
		handler = logRequests(handler, logger)
	}
	if *reapply > 0 {
		go reapplyEvery(ctx, r, *reapply, logger)
	}
	srv := server{addr: *listen, handler: handler, tls: tlsCfg, grace: *shutdown, host: r, logger: logger}
	return srv.run(ctx, stdout, func(base string) {
		logger.Info("serving the router calls", "url", base, "deployments", len(r.State().Deployments),
			"state", base+"/v1/state", "token_required", token != "")
	})
}

// reapplyEvery runs r.Reapply every interval until ctx is done.
func reapplyEvery(ctx context.Context, r *agent.Router, interval time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := r.Reapply(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("applying the last routes again failed", "error", err)
			}
		}
	}
}
