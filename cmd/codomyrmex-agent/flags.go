package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/flags"
)

// flagsCommand runs codomyrmex-agent flags: a durable flag service for
// protocol v1 (PUT/GET/DELETE /v1/flags/{name}) that also answers OFREP
// evaluations (/ofrep/v1/evaluate/flags[/{key}]).
func flagsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flagSet("flags", args, stdout, stderr)
	listen := fs.String("listen", ":7077", "address to listen on")
	dataDir := fs.String("data-dir", "", "directory holding the flags (required; created when missing); every acknowledged write is on disk there")
	tokenFile := fs.String("token-file", "", "file holding the bearer token every protocol call (PUT/GET/DELETE /v1/flags/NAME) must carry")
	ofrepTokenFile := fs.String("ofrep-token-file", "", "file holding the token OFREP evaluations must carry, as a bearer token or X-API-Key (default: evaluations need no token)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate file; serves HTTPS with --tls-key")
	tlsKey := fs.String("tls-key", "", "PEM private key file for --tls-cert")
	tlsClientCA := fs.String("tls-client-ca", "", "PEM CA certificate file: with --tls-cert, every caller must present a client certificate it signed (mutual TLS)")
	shutdown := fs.Duration("shutdown-timeout", shutdownTimeout, "on SIGTERM, how long calls in flight get to finish")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dataDir == "" {
		return usagef("flags: --data-dir is required")
	}
	tlsCfg, err := serverTLS("flags", *tlsCert, *tlsKey, *tlsClientCA)
	if err != nil {
		return err
	}
	if *shutdown < 0 {
		return usagef("flags: --shutdown-timeout must not be negative")
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	ofrepToken, err := readTokenFlag("--ofrep-token-file", *ofrepTokenFile)
	if err != nil {
		return err
	}

	store, err := flags.Open(*dataDir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	count, err := store.List(ctx)
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	handler := flags.NewHandler(store, flags.HandlerConfig{Token: token, OFREPToken: ofrepToken})
	if *verbose {
		handler = logRequests(handler, logger)
	}
	srv := server{addr: *listen, handler: handler, tls: tlsCfg, grace: *shutdown, logger: logger}
	return srv.run(ctx, stdout, func(base string) {
		logger.Info("serving flags", "url", base, "flags", base+"/v1/flags/", "ofrep", base+"/ofrep/v1/evaluate/flags",
			"data_dir", *dataDir, "stored", len(count), "token_required", token != "", "ofrep_token_required", ofrepToken != "")
	})
}
