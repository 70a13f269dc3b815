package main

import (
	"context"
	"flag"
	"io"
	"log/slog"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/flags"
)

// defineFlags declares the flags of flags: a durable flag service for
// protocol v1 (PUT/GET/DELETE /v1/flags/{name}) that also answers OFREP
// evaluations (/ofrep/v1/evaluate/flags[/{key}]).
func defineFlags(fs *flag.FlagSet) runFunc {
	shared := defineServerFlags(fs, "flags", ":7077")
	dataDir := fs.String("data-dir", "", "`DIR` holding the flags (required; created when missing); every acknowledged write is on disk there")
	ofrepTokenFile := fs.String("ofrep-token-file", "", "`PATH` of a file holding the token OFREP evaluations must carry, as a bearer token or X-API-Key (default: evaluations need no token)")
	return func(ctx context.Context, stdout, stderr io.Writer) (err error) {
		if *dataDir == "" {
			return usagef("flags: --data-dir is required")
		}
		if err := shared.check(); err != nil {
			return err
		}
		tlsCfg, err := shared.tlsConfig()
		if err != nil {
			return err
		}
		token, err := readToken(shared.tokenFile)
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
		if shared.verbose {
			handler = logRequests(handler, logger)
		}
		srv := server{addr: shared.listen, handler: handler, tls: tlsCfg, grace: shared.shutdown, logger: logger}
		return srv.run(ctx, stdout, func(base string) {
			logger.Info("serving flags", "url", base, "flags", base+"/v1/flags/", "ofrep", base+"/ofrep/v1/evaluate/flags",
				"data_dir", *dataDir, "stored", len(count), "token_required", token != "", "ofrep_token_required", ofrepToken != "")
		})
	}
}
