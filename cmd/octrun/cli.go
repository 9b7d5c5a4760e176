package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
)

// Exit codes (rule C3).
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitPaused      = 3
	exitInterrupted = 130
)

const usage = `usage:
  octrun [run] PATH [flags]       run a worker
  octrun continue ID --results F  continue a run paused for client tools
  octrun worker --agents DIR --temporal HOST:PORT
                                  serve agents to runs submitted through Temporal
  octrun serve --agents DIR       serve agents over HTTP (the Octavus worker API)
  octrun validate PATH [--json]   check a protocol without running it
  octrun version                  print octrun's version

PATH is an agent folder (protocol.yaml, settings.json, prompts/) or its protocol.yaml.
Run "octrun run --help" for the run flags.
`

// stdio is the command's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// run executes the command line args and returns the exit code. ctx ends
// when the user interrupts the command.
func run(ctx context.Context, args []string, std stdio) int {
	if len(args) == 0 {
		fmt.Fprint(std.err, usage)
		return exitUsage
	}
	switch args[0] {
	case "validate":
		return validate(args[1:], std.out, std.err)
	case "version", "--version":
		fmt.Fprintf(std.out, "octrun %s\n", version())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(std.out, usage)
		return exitOK
	case "run":
		return runWorker(ctx, args[1:], std)
	case "continue":
		return continueRun(ctx, args[1:], std)
	case "worker":
		return serveWorker(ctx, args[1:], std)
	case "serve":
		return serveHTTP(ctx, args[1:], std)
	}
	if strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(std.err, "octrun: unknown flag %s\n\n%s", args[0], usage)
		return exitUsage
	}
	return runWorker(ctx, args, std)
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// validate is `octrun validate PATH [--json]`.
func validate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the diagnostics as a JSON array")
	fs.Usage = func() { fmt.Fprint(stderr, "usage: octrun validate PATH [--json]\n") }
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	p, _ := protocol.Load(paths[0])
	diags := p.Diagnostics
	if *asJSON {
		if diags == nil {
			diags = diag.List{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(diags); err != nil {
			fmt.Fprintf(stderr, "octrun: %v\n", err)
		}
	} else {
		if err := diag.Write(stdout, diags, p.Source); err != nil {
			fmt.Fprintf(stderr, "octrun: %v\n", err)
		}
		fmt.Fprintln(stdout, summary(paths[0], diags))
	}
	if diags.HasErrors() {
		return exitUsage
	}
	return exitOK
}

// summary is the last line of a text report.
func summary(path string, diags diag.List) string {
	errs := len(diags.Errors())
	warns := len(diags) - errs
	if errs == 0 && warns == 0 {
		return fmt.Sprintf("%s: valid", path)
	}
	return fmt.Sprintf("%s: %s, %s", path, plural(errs, "error"), plural(warns, "warning"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// parseCommand parses a command's flags and positional arguments
// (parseInterspersed). When parsing ends the command, ok is false and code
// is its exit code: success for -h, a usage error for a bad flag (the flag
// package has printed why).
func parseCommand(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	positional, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK, false
	case err != nil:
		return nil, exitUsage, false
	}
	return positional, 0, true
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
