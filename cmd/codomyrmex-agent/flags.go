package main

import (
	"context"
	"flag"
	"io"
	"net/http"
	"strings"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/flags"
)

// defineFlags declares the flags of flags: a durable flag service for
// protocol v1 (PUT/GET/DELETE /v1/flags/{name}) that also answers OFREP
// evaluations (/ofrep/v1/evaluate/flags[/{key}]).
func defineFlags(fs *flag.FlagSet) runFunc {
	shared := defineServerFlags(fs, "flags", listenDefault{port: "7077"})
	dataDir := fs.String("data-dir", "", "`DIR` holding the flags (required; created when missing); every acknowledged write is on disk there")
	ofrepTokenFile := fs.String("ofrep-token-file", "", "`PATH` of a file of tokens, one a line, readable by its owner only: OFREP evaluations must carry one, "+
		"as a bearer token or X-API-Key (default: evaluations need no token); SIGHUP reads it again")
	return func(ctx context.Context, stdout, stderr io.Writer) (err error) {
		if *dataDir == "" {
			return usagef("flags: --data-dir is required")
		}
		ofrepTokens, err := loadTokenFile("--ofrep-token-file", *ofrepTokenFile)
		if err != nil {
			return err
		}
		srv, tokens, err := shared.prepare(stderr, ofrepTokens)
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

		metrics := flags.NewMetrics(srv.metrics, store)
		srv.handler = observe(flags.NewService(store, flags.ServiceConfig{
			Tokens: tokens, OFREPTokens: ofrepTokens.tokens, Metrics: metrics, Logger: srv.logger,
		}), srv.logger, func(r *http.Request) {
			if (r.Method == http.MethodPut || r.Method == http.MethodDelete) && strings.HasPrefix(r.URL.Path, "/v1/flags/") {
				metrics.RefusedWrite()
			}
		})
		if shared.verbose {
			srv.handler = logRequests(srv.handler, srv.logger)
		}
		srv.started = func(base string) (string, []any) {
			return "serving flags", []any{"flags", base + "/v1/flags/", "ofrep", base + "/ofrep/v1/evaluate/flags",
				"data_dir", *dataDir, "stored", len(count), "ofrep_token_required", ofrepTokens.tokens.Required()}
		}
		return srv.run(ctx, stdout)
	}
}
