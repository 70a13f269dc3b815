package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// defineRouter declares the flags of router: the router calls of protocol
// v1, served by running a command that drives the operator's load
// balancer.
func defineRouter(fs *flag.FlagSet) runFunc {
	shared := defineServerFlags(fs, "router", listenDefault{port: "7070"})
	execCmd := fs.String("exec", "", "`CMD` that moves traffic (required), run with sh -c for every call, with "+
		strings.Join(agent.RouterEnv(), ", ")+" in its environment ("+agent.EnvAction+" is "+agent.ActionSwitch+
		" with "+agent.EnvSlot+", or "+agent.ActionWeights+" with "+agent.EnvPercentage+
		"); a non-zero exit fails the call, and only a call that succeeded is recorded")
	stateFile := fs.String("state-file", "codomyrmex-router.state.json",
		"`PATH` of the file remembering what was last applied to each deployment across restarts, served at GET /v1/state (\"\" keeps it in memory)")
	versionPattern := fs.String("version-pattern", "", "`REGEX`, a "+versionPatternHelp)
	execTimeout := fs.Duration("exec-timeout", time.Minute, "longest a command may run (0 = no limit); "+
		"keep commands well within the provider's request_timeout (10s by default), after which it calls again")
	reapply := fs.Duration("reapply-interval", 0, "every so often, run the command again for what was last applied to each deployment (0 = never): "+
		"restores weights a load balancer lost on a restart, and gives traffic back to hosts a rollback restored after their weight went to 0")
	return func(ctx context.Context, stdout, stderr io.Writer) error {
		versions, srv, tokens, err := shared.prepareCommand(stderr, *execCmd, *versionPattern, func() error {
			if *reapply < 0 {
				return usagef("router: --reapply-interval must not be negative")
			}
			return nil
		})
		if err != nil {
			return err
		}
		metrics := agent.NewRouterMetrics(srv.metrics)
		r, err := agent.NewRouter(agent.RouterConfig{
			Exec: *execCmd, StateFile: *stateFile, ExecTimeout: *execTimeout, Versions: versions, Logger: srv.logger,
			Metrics: metrics,
		})
		if err != nil {
			return err
		}
		srv.serveCalls(protocol.NewRouterHandlerWithTokens(r, tokens), shared.verbose, func(req *http.Request) {
			if req.Method != http.MethodPut {
				return
			}
			switch req.URL.Path {
			case "/v1/switch":
				metrics.Refused(agent.ActionSwitch)
			case "/v1/weights":
				metrics.Refused(agent.ActionWeights)
			}
		}, r.History)
		if *reapply > 0 {
			go reapplyEvery(ctx, r, *reapply)
		}
		srv.host = r
		srv.started = func(base string) (string, []any) {
			return "serving the router calls", []any{"deployments", len(r.State().Deployments), "state", base + "/v1/state"}
		}
		return srv.run(ctx, stdout)
	}
}

// reapplyEvery runs r.Reapply every interval until ctx is done; the
// router logs and counts each run.
func reapplyEvery(ctx context.Context, r *agent.Router, interval time.Duration) {
	clock.Every(ctx, interval, func() { _ = r.Reapply(ctx) })
}
