package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// versionPatternHelp is the help of --version-pattern (serve and router).
const versionPatternHelp = "regular expression (RE2) a version must match in full, replacing the default rule " +
	"(at most 256 bytes, no '..' path segment, no leading '-' or '/'); control characters are always refused"

// defineServe declares the flags of serve: the target protocol on the
// host it runs on, through a deploy command.
func defineServe(fs *flag.FlagSet) runFunc {
	shared := defineServerFlags(fs, "serve", listenDefault{port: "8080"})
	execCmd := fs.String("exec", "", "deploy `CMD` (required), run with sh -c and "+strings.Join(agent.DeployEnv(), ", ")+
		" in its environment; a non-zero exit fails the deploy")
	healthExec := fs.String("health-exec", "", "health `CMD`, run with sh -c and "+agent.EnvVersion+
		" (the running version) in its environment for every health call; a non-zero exit reports status error")
	stateFile := fs.String("state-file", "codomyrmex-agent.state.json", "`PATH` of the file remembering the running version across restarts (\"\" keeps it in memory)")
	versionExec := fs.String("version-exec", "", "`CMD` printing the version the host runs (first line of stdout), used until a deploy is recorded: "+
		"adopts a host whose application was installed without the agent, so the first apply knows what to roll back to")
	versionPattern := fs.String("version-pattern", "", "`REGEX`, a "+versionPatternHelp)
	execTimeout := fs.Duration("exec-timeout", 30*time.Minute, "longest a deploy command may run (0 = no limit)")
	healthTimeout := fs.Duration("health-timeout", 10*time.Second, "longest a --health-exec or --version-exec command may run")
	return func(ctx context.Context, stdout, stderr io.Writer) error {
		versions, srv, tokens, err := shared.prepareCommand(stderr, *execCmd, *versionPattern, func() error {
			if *healthTimeout <= 0 {
				return usagef("serve: --health-timeout must be positive")
			}
			return nil
		})
		if err != nil {
			return err
		}
		metrics := agent.NewDeployMetrics(srv.metrics)
		host, err := agent.NewHost(agent.HostConfig{
			Exec: *execCmd, HealthExec: *healthExec, StateFile: *stateFile,
			ExecTimeout: *execTimeout, HealthTimeout: *healthTimeout, Logger: srv.logger,
			VersionExec: *versionExec, Versions: versions, Metrics: metrics,
		})
		if err != nil {
			return err
		}
		srv.serveCalls(protocol.NewTargetHandlerWithTokens(host, tokens), shared.verbose, func(r *http.Request) {
			if r.Method == http.MethodPut && r.URL.Path == "/v1/deploy" {
				metrics.Refused()
			}
		}, host.History)
		srv.host = deployingHost{host}
		srv.started = func(string) (string, []any) {
			return "serving the target protocol", []any{"running_version", host.Version()}
		}
		return srv.run(ctx, stdout)
	}
}

// deployingHost names a host's deploy in progress for the shutdown.
type deployingHost struct{ *agent.Host }

func (h deployingHost) Deploying() string {
	if v := h.Host.Deploying(); v != "" {
		return "deploy of " + v
	}
	return ""
}
