package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/agent"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
)

// shutdownTimeout is the default of --shutdown-timeout.
const shutdownTimeout = 30 * time.Second

// listenDefault is where a mode listens when --listen is not given.
type listenDefault struct {
	port string
	// loopback keeps the default on 127.0.0.1 even with a token (simulate,
	// a tool for one machine).
	loopback bool
}

// serverFlags are the flags every mode takes, declared once here: where it
// listens, the tokens callers must carry, TLS, shutdown and logs.
type serverFlags struct {
	mode                 string
	defaults             listenDefault
	listen               string
	allowUnauthenticated bool
	tokenFile            string
	tlsCert              string
	tlsKey               string
	tlsClientCA          string
	shutdown             time.Duration
	metricsListen        string
	logFormat            string
	logLevel             string
	verbose              bool
}

// defineServerFlags declares the shared flags on fs for mode.
func defineServerFlags(fs *flag.FlagSet, mode string, defaults listenDefault) *serverFlags {
	f := &serverFlags{mode: mode, defaults: defaults}
	listenHelp := "`ADDR` to listen on, host:port (port 0 picks a free one)"
	switch {
	case defaults.port == "":
	case defaults.loopback:
		listenHelp += "; default 127.0.0.1:" + defaults.port
	default:
		listenHelp += fmt.Sprintf("; default :%[1]s (every interface) with --token-file or --allow-unauthenticated, "+
			"127.0.0.1:%[1]s (loopback) without: without a token only loopback may be served unless --allow-unauthenticated is set", defaults.port)
	}
	fs.StringVar(&f.listen, "listen", "", listenHelp)
	fs.BoolVar(&f.allowUnauthenticated, "allow-unauthenticated", false,
		"serve other machines without --token-file: anyone who can reach the address may call it (the agent warns at start)")
	fs.StringVar(&f.tokenFile, "token-file", "", "`PATH` of a file of bearer tokens, one a line, readable by its owner only (mode 0600): "+
		"every protocol call must carry one of them; SIGHUP reads it again")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate `FILE`; serves HTTPS with --tls-key (SIGHUP reads both again)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key `FILE` for --tls-cert")
	fs.StringVar(&f.tlsClientCA, "tls-client-ca", "", "PEM CA certificate `FILE`: with --tls-cert, every caller must present a client certificate it signed (mutual TLS)")
	fs.DurationVar(&f.shutdown, "shutdown-timeout", shutdownTimeout, "on SIGTERM, how long calls in flight get to finish; a command still running then (serve, router) is ended, "+
		"SIGTERM to its process group and SIGKILL 5s later, and its call answered as failed (a second signal ends it at once)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "`ADDR` of a second listener, plain HTTP, for GET /metrics, /healthz and /readyz "+
		"without a token (on the main listener /metrics needs the token; /healthz and /readyz never do)")
	fs.StringVar(&f.logFormat, "log-format", "text", "`FORMAT` of the log lines on stderr: text (key=value) or json (one object a line)")
	fs.StringVar(&f.logLevel, "log-level", "info", "`LEVEL` of the least severe line logged: debug, info, warn or error")
	fs.BoolVar(&f.verbose, "v", false, "log every request to stderr")
	return f
}

// newLogger is the logger --log-format and --log-level ask for, on w.
func (f *serverFlags) newLogger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usagef("%s: --log-level %q: want debug, info, warn or error", f.mode, f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("%s: --log-format %q: want text or json", f.mode, f.logFormat)
}

// check validates the shared flags.
func (f *serverFlags) check() error {
	if f.shutdown < 0 {
		return usagef("%s: --shutdown-timeout must not be negative", f.mode)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("%s: --tls-cert and --tls-key go together", f.mode)
	}
	if f.tlsClientCA != "" && f.tlsCert == "" {
		return usagef("%s: --tls-client-ca needs --tls-cert and --tls-key", f.mode)
	}
	return nil
}

// tls reads the TLS files: nil when there is no certificate.
func (f *serverFlags) tls() (*tlsSource, error) {
	if f.tlsCert == "" {
		return nil, nil
	}
	s := &tlsSource{cert: f.tlsCert, key: f.tlsKey, clientCA: f.tlsClientCA}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// address is where to listen. Without a token (authenticated false) only
// a loopback address may be served, unless --allow-unauthenticated says
// otherwise: the default is then loopback, and another address given is
// refused.
func (f *serverFlags) address(authenticated bool) (string, error) {
	open := authenticated || f.allowUnauthenticated
	if f.listen == "" {
		if open && !f.defaults.loopback {
			return ":" + f.defaults.port, nil
		}
		return net.JoinHostPort("127.0.0.1", f.defaults.port), nil
	}
	if !open && !isLoopback(f.listen) {
		return "", usagef("%s: --listen %s lets other machines call the agent, and without --token-file anyone of them could: "+
			"give --token-file, listen on 127.0.0.1, or pass --allow-unauthenticated", f.mode, f.listen)
	}
	return f.listen, nil
}

// isLoopback reports whether a listen address (host:port) or a bound
// address serves this machine only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// prepare reads what the shared flags name (the TLS files, --token-file,
// and the mode's other token files) and returns the mode's server, without
// its handler and first log line, and the tokens of --token-file.
func (f *serverFlags) prepare(stderr io.Writer, others ...*tokenFile) (*server, *protocol.Tokens, error) {
	if err := f.check(); err != nil {
		return nil, nil, err
	}
	logger, err := f.newLogger(stderr)
	if err != nil {
		return nil, nil, err
	}
	tlsFiles, err := f.tls()
	if err != nil {
		return nil, nil, err
	}
	tokens, err := loadTokenFile("--token-file", f.tokenFile)
	if err != nil {
		return nil, nil, err
	}
	authenticated := tokens.tokens.Required()
	addr, err := f.address(authenticated)
	if err != nil {
		return nil, nil, err
	}
	return &server{
		mode:            f.mode,
		addr:            addr,
		tls:             tlsFiles,
		creds:           credentials{tokenFiles: append([]*tokenFile{tokens}, others...), tls: tlsFiles},
		authenticated:   authenticated,
		unauthenticated: f.allowUnauthenticated,
		grace:           f.shutdown,
		logger:          logger,
		metrics:         newRegistry(),
		tokens:          tokens.tokens,
		metricsAddr:     f.metricsListen,
	}, tokens.tokens, nil
}

// prepareCommand checks the flags of the modes that run a command (serve,
// router): --exec is required, then the mode's own check, then
// --version-pattern must compile into the rule it returns; then it
// prepares the server.
func (f *serverFlags) prepareCommand(stderr io.Writer, execCmd, versionPattern string, check func() error) (agent.VersionRule, *server, *protocol.Tokens, error) {
	if strings.TrimSpace(execCmd) == "" {
		return agent.VersionRule{}, nil, nil, usagef("%s: --exec is required", f.mode)
	}
	if err := check(); err != nil {
		return agent.VersionRule{}, nil, nil, err
	}
	versions, err := agent.NewVersionRule(versionPattern)
	if err != nil {
		return agent.VersionRule{}, nil, nil, usagef("%s: --version-pattern: %v", f.mode, err)
	}
	srv, tokens, err := f.prepare(stderr)
	return versions, srv, tokens, err
}
