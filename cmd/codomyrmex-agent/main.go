// Command codomyrmex-agent is the target side of the codomyrmex provider.
//
//	codomyrmex-agent serve --listen :8080 --exec 'deploy.sh'
//	codomyrmex-agent router --listen :7070 --exec 'set-weights.sh'
//	codomyrmex-agent flags --listen :7077 --data-dir /var/lib/codomyrmex/flags
//	codomyrmex-agent simulate --targets 50 --listen 127.0.0.1:7070
//	terraform show -json | codomyrmex-agent status --watch 2s
//
// serve runs a deploy command on the machine it runs on (serve.go); router
// runs a command for every traffic call, in front of a load balancer
// (router.go); flags is a durable flag service that also answers
// OpenFeature remote evaluations (flags.go); simulate serves an in-memory
// fleet, router and flag service for demos, tests and benchmarks
// (simulate.go); status asks a fleet what it runs beside what a Terraform
// or OpenTofu state says (status.go, internal/status). The flags every
// serving mode shares (listener, TLS, tokens) are declared once
// (options.go), and so is the server they run (server.go).
// The serving modes print their base URL as the first line of stdout and
// shut down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// runFunc runs a mode once its flags are parsed.
type runFunc func(ctx context.Context, stdout, stderr io.Writer) error

// mode is a subcommand: define declares its flags on fs and returns what
// runs it with their values.
type mode struct {
	name string
	// required names the flags the mode cannot run without.
	required []string
	define   func(fs *flag.FlagSet) runFunc
	// client: the mode asks servers and serves nothing, so it takes none
	// of the flags the serving modes share.
	client bool
}

// modes are the subcommands, in the order usage lists them.
var modes = []mode{
	{name: "serve", required: []string{"exec"}, define: defineServe},
	{name: "router", required: []string{"exec"}, define: defineRouter},
	{name: "simulate", define: defineSimulate},
	{name: "flags", required: []string{"data-dir"}, define: defineFlags},
	{name: "status", client: true, define: defineStatus},
}

// wantsHelp reports whether args ask for help, which then goes to stdout:
// "codomyrmex-agent serve --help | less" should work.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "--h":
			return true
		case "--":
			return false
		}
	}
	return false
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	top := flag.NewFlagSet("codomyrmex-agent", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { fmt.Fprint(top.Output(), usage()) }
	if len(args) > 0 && wantsHelp(args[:1]) {
		top.SetOutput(stdout)
	}
	showVersion := top.Bool("version", false, "print the version and exit")
	if err := top.Parse(args); err != nil {
		return usageExit(err)
	}
	if *showVersion {
		fmt.Fprintln(stdout, "codomyrmex-agent", version)
		return exitOK
	}
	if top.NArg() == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	name, rest := top.Arg(0), top.Args()[1:]
	if name == "version" {
		fmt.Fprintln(stdout, "codomyrmex-agent", version)
		return exitOK
	}
	var err error
	for _, m := range modes {
		if m.name != name {
			continue
		}
		fs := flag.NewFlagSet(m.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		if wantsHelp(rest) {
			fs.SetOutput(stdout)
		}
		runMode := m.define(fs)
		if err = parseFlags(fs, rest); err == nil {
			err = runMode(ctx, stdout, stderr)
		}
		return exitCode(err, stderr)
	}
	fmt.Fprintf(stderr, "codomyrmex-agent: unknown command %q\n\n%s", name, usage())
	return exitUsage
}

// exitCode reports err on stderr and returns the exit code it means.
func exitCode(err error, stderr io.Writer) int {
	var uerr usageError
	var status exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &status):
		if status.msg != "" {
			fmt.Fprintln(stderr, "codomyrmex-agent:", status.msg)
		}
		return status.code
	case errors.As(err, &uerr):
		if !uerr.printed {
			fmt.Fprintln(stderr, "codomyrmex-agent:", err)
		}
		return exitUsage
	default:
		fmt.Fprintln(stderr, "codomyrmex-agent:", err)
		return exitError
	}
}

func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// usageError is a bad command line (exit status 2). printed is set when
// the flag package already told the user.
type usageError struct {
	error
	printed bool
}

func usagef(format string, args ...any) error { return usageError{error: fmt.Errorf(format, args...)} }

// parseFlags parses a subcommand's flags; flag errors are already printed.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{error: err, printed: true}
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// usageWidth is where usage wraps its lines.
const usageWidth = 100

// usage is the top-level help, generated from each mode's flag set: the
// flags every mode shares are listed once, after the modes.
func usage() string {
	shared := flag.NewFlagSet("", flag.ContinueOnError)
	defineServerFlags(shared, "", listenDefault{})
	var b strings.Builder
	b.WriteString("Usage:\n")
	var helps, serving []string
	for _, m := range modes {
		if !m.client {
			serving = append(serving, m.name)
		}
		fs := flag.NewFlagSet(m.name, flag.ContinueOnError)
		m.define(fs)
		var words []string
		for _, name := range m.required {
			words = append(words, flagWord(fs.Lookup(name), true))
		}
		fs.VisitAll(func(f *flag.Flag) {
			if shared.Lookup(f.Name) == nil && !slices.Contains(m.required, f.Name) {
				words = append(words, flagWord(f, false))
			}
		})
		wrapWords(&b, "  codomyrmex-agent "+m.name+" ", words)
		helps = append(helps, fmt.Sprintf("%q", "codomyrmex-agent "+m.name+" -h"))
	}
	b.WriteString("  codomyrmex-agent --version\n\n")
	wrapWords(&b, "", strings.Fields(strings.Join(serving[:len(serving)-1], ", ")+" and "+serving[len(serving)-1]+" also take:"))
	var words []string
	shared.VisitAll(func(f *flag.Flag) { words = append(words, flagWord(f, false)) })
	wrapWords(&b, "  ", words)
	b.WriteString("\n")
	words = []string{"Run"}
	for i, h := range helps {
		switch {
		case i == len(helps)-1:
			words = append(words, "or", h)
		case i < len(helps)-2:
			h += ","
			fallthrough
		default:
			words = append(words, h)
		}
	}
	wrapWords(&b, "", append(words, strings.Fields("for what each flag does.")...))
	return b.String()
}

// flagWord is one flag in usage: "--exec CMD" when required,
// "[--listen ADDR]", "[--targets 3]" (the default) or "[--v]" otherwise.
func flagWord(f *flag.Flag, required bool) string {
	name, _ := flag.UnquoteUsage(f)
	w := "--" + f.Name
	switch {
	case name == "":
	case required || f.DefValue == "":
		w += " " + name
	default:
		w += " " + f.DefValue
	}
	if required {
		return w
	}
	return "[" + w + "]"
}

// wrapWords writes prefix and words, wrapped at usageWidth with the
// continuation lines indented under the first word.
func wrapWords(b *strings.Builder, prefix string, words []string) {
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	for i, w := range words {
		if i > 0 && len(line)+1+len(w) > usageWidth {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = indent
		} else if i > 0 {
			line += " "
		}
		line += w
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
}
