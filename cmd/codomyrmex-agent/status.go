package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/clock"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/protocol"
	"github.com/codomyrmex/terraform-provider-codomyrmex/internal/status"
)

// The environment status reads, as the provider does.
const (
	envToken        = "CODOMYRMEX_TOKEN"
	envFlagEndpoint = "CODOMYRMEX_FLAG_ENDPOINT"
)

// clearScreen moves the cursor home and clears the terminal before a
// redraw of --watch.
const clearScreen = "\x1b[H\x1b[2J"

// defineStatus declares the flags of status: what the fleet runs beside
// what a Terraform or OpenTofu state says (docs/guides/watching-a-rollout.md).
func defineStatus(fs *flag.FlagSet) runFunc {
	stateFile := fs.String("state", "-", "`FILE` holding the output of `terraform show -json` / `tofu show -json`, or a state file (- = stdin); "+
		"read again at every redraw of --watch")
	watch := fs.Duration("watch", 0, "redraw every `DURATION` until Ctrl-C (0 = once)")
	output := fs.String("output", "text", "`FORMAT` of the report: text (one table per resource, a ! before every difference) or json (one document a line)")
	flagEndpoint := fs.String("flag-endpoint", "", "`URL` of the flag service of feature_flag deployments, which state does not hold (default $"+envFlagEndpoint+")")
	timeout := fs.Duration("timeout", 5*time.Second, "bound of each call")
	retries := fs.Int("retries", 1, "retries of a call that failed on a connection error, a timeout, 429, 502, 503 or 504")
	caCert := fs.String("ca-cert", "", "`FILE` of PEM certificates trusted besides the system roots, for https targets")
	return func(ctx context.Context, stdout, stderr io.Writer) error {
		if *output != "text" && *output != "json" {
			return usagef("status: --output must be text or json, got %q", *output)
		}
		if *watch < 0 {
			return usagef("status: --watch must not be negative")
		}
		cfg := protocol.ClientConfig{Token: os.Getenv(envToken), RequestTimeout: *timeout, Retries: *retries, UserAgent: "codomyrmex-agent/" + version}
		if *caCert != "" {
			pem, err := os.ReadFile(*caCert)
			if err != nil {
				return fmt.Errorf("status: --ca-cert: %w", err)
			}
			cfg.CACertPEM = string(pem)
		}
		client, err := protocol.NewClient(cfg)
		if err != nil {
			return usagef("status: %v", err)
		}
		opts := status.Options{FlagEndpoint: *flagEndpoint}
		if opts.FlagEndpoint == "" {
			opts.FlagEndpoint = os.Getenv(envFlagEndpoint)
		}

		read := stateReader(*stateFile)
		check := func(ctx context.Context) (status.Report, error) {
			data, err := read()
			if err != nil {
				return status.Report{}, err
			}
			resources, err := status.ReadState(data)
			if err != nil {
				return status.Report{}, err
			}
			return status.Check(ctx, client, resources, opts)
		}
		write := status.WriteText
		if *output == "json" {
			write = status.WriteJSON
		}

		var rep status.Report
		if *watch == 0 {
			if rep, err = check(ctx); err != nil {
				return err
			}
			if err := write(stdout, rep); err != nil {
				return err
			}
		} else {
			rep, err = status.Watch(ctx, clock.Real(), *watch, check, func(r status.Report, at time.Time) error {
				if *output == "text" {
					fmt.Fprintf(stdout, "%sEvery %s: codomyrmex-agent status, %s (Ctrl-C to stop)\n\n", clearScreen, *watch, at.Format(time.TimeOnly))
				}
				return write(stdout, r)
			})
			if err != nil {
				return err
			}
		}
		return reportExit(rep, *output == "json")
	}
}

// stateReader reads the state from stdin once, or from the file every
// time.
func stateReader(name string) func() ([]byte, error) {
	if name != "-" {
		return func() ([]byte, error) {
			data, err := os.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("status: --state: %w", err)
			}
			return data, nil
		}
	}
	var data []byte
	var err error
	read := false
	return func() ([]byte, error) {
		if !read {
			read = true
			data, err = io.ReadAll(io.LimitReader(os.Stdin, 256<<20))
			if err == nil && len(strings.TrimSpace(string(data))) == 0 {
				err = errors.New("status: nothing on stdin: pipe `terraform show -json` (or `tofu show -json`) into it, or give --state FILE")
			}
		}
		return data, err
	}
}

// exitStatus is an exit code other than 0 that the report already
// explained; msg, when set, goes to stderr.
type exitStatus struct {
	code int
	msg  string
}

func (e exitStatus) Error() string { return e.msg }

// reportExit is the exit of a report: 0 when the fleet matches state, 3
// when it differs, 1 when a call failed. The text report names the failed
// calls; with JSON on stdout they also go to stderr.
func reportExit(rep status.Report, json bool) error {
	code := rep.ExitCode()
	if code == status.ExitMatches {
		return nil
	}
	e := exitStatus{code: code}
	if json && code == status.ExitFailed {
		e.msg = "could not ask the fleet: " + strings.Join(rep.Errors, "; ")
	}
	return e
}
