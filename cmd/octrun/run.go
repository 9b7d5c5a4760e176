package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/runtime"
)

const runUsage = `usage: octrun [run] PATH [flags]

Runs the worker at PATH (an agent folder or its protocol.yaml). Progress and
streamed text go to standard error, the output value to standard output.

flags:
  -i, --input NAME=VALUE   an input, repeatable; VALUE is coerced by the declared type
  --input-file FILE        a JSON object of inputs ("-" reads standard input)
  --events jsonl|sse       write the events to standard output instead
  --all-events             ignore display modes and show every event
  --log-level LEVEL        structured logs on standard error: off (default),
                           debug, info, warn or error
  --log-format text|json   the format of those logs (default text)
  --llm-base-url URL       send every model call to this OpenAI-compatible endpoint
                           (env OCTRUN_LLM_BASE_URL, key in OCTRUN_LLM_API_KEY)
  --mock FILE              answer model calls from a scripted file (offline runs)
  --tool NAME=COMMAND      run COMMAND (with sh -c) for the tool NAME: the arguments
                           as JSON on stdin, the result on stdout; repeatable
  --tool-timeout DURATION  the longest a --tool command may run (default 60s)
  --mcp-config FILE        an mcp.json ({"mcpServers": {NAME: {command, args, env} or
                           {url, headers}}}) saying how to reach the protocol's
                           consumer MCP servers, by namespace
  --state-dir DIR          where paused runs are kept (default .octrun)
  --temporal HOST:PORT     submit the run to Temporal workers (octrun worker)
                           instead of running it here (env OCTRUN_TEMPORAL);
                           with --namespace NS, --task-queue Q, --redis URL
                           (live events) and --skip-fingerprint-check; --mock,
                           --tool, --tool-timeout, --llm-base-url and
                           --mcp-config then belong to octrun worker

A tool with no handler (no --tool, no mock answer) is a client tool: the run
pauses, prints the pending calls as JSON on standard output and exits with 3;
continue it with: octrun continue EXECUTION_ID --results FILE.

exit codes: 0 finished, 1 failed once running (whatever the errorType), 2
refused: usage error, invalid protocol or input (nothing was run), 3 paused
for client tools, 130 interrupted.
`

// runFlags are the flags of `octrun run`.
type runFlags struct {
	inputs    listFlag
	inputFile string
	tools     listFlag
	stateDir  string
	backend   runtime.Backend
	temporal  temporalFlags
	// skipFingerprint lets a Temporal run start on workers whose agent
	// files differ.
	skipFingerprint bool
	output
}

// output is how a run shows itself.
type output struct {
	events    string
	allEvents bool
	logLevel  string
	logFormat string
}

// listFlag collects a repeated flag.
type listFlag []string

func (f *listFlag) String() string     { return strings.Join(*f, ",") }
func (f *listFlag) Set(v string) error { *f = append(*f, v); return nil }

// backendFlagNames are the flags backendFlags defines: how a run's model
// calls and tools are executed, which only the process that executes it
// (not a Temporal submitter) can use.
var backendFlagNames = []string{"llm-base-url", "mock", "mcp-config", "tool", "tool-timeout"}

// backendFlags defines the flags of backendFlagNames into b and, for the
// --tool values, tools. --tool-timeout defaults to
// runtime.DefaultToolTimeout; a value of 0 or less is a usage error: the
// library reads a Backend's zero timeout as the default, which the flag
// would do silently.
func backendFlags(fs *flag.FlagSet, b *runtime.Backend, tools *listFlag) {
	fs.StringVar(&b.LLMBaseURL, "llm-base-url", os.Getenv(llm.EnvBaseURL), "")
	fs.StringVar(&b.Mock, "mock", "", "")
	fs.StringVar(&b.MCPConfig, "mcp-config", "", "")
	fs.Var(tools, "tool", "")
	b.ToolTimeout = runtime.DefaultToolTimeout
	fs.Var(positiveDuration{&b.ToolTimeout}, "tool-timeout", "")
}

// positiveDuration is a flag.Value of a duration more than 0.
type positiveDuration struct{ d *time.Duration }

func (p positiveDuration) String() string {
	if p.d == nil {
		return ""
	}
	return p.d.String()
}

func (p positiveDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return errors.New("not a duration (such as 90s or 2m)")
	case d <= 0:
		return errors.New("must be more than 0")
	}
	*p.d = d
	return nil
}

// runWorker is `octrun [run] PATH [flags]`. Preparing the run is the
// library's: the input is read by protocol.DecodeInput and
// Protocol.ParseInputArgs and checked by Protocol.ResolveInput, the
// backend (models and tool commands) is a runtime.Backend whose Options
// check it against the protocol and install it. Here are the flags, the
// messages and the exit codes.
func runWorker(ctx context.Context, args []string, std stdio) int {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() { fmt.Fprint(std.err, runUsage) }
	fs.Var(&f.inputs, "i", "")
	fs.Var(&f.inputs, "input", "")
	fs.StringVar(&f.inputFile, "input-file", "", "")
	backendFlags(fs, &f.backend, &f.tools)
	fs.StringVar(&f.stateDir, "state-dir", defaultStateDir, "")
	f.temporal.flags(fs)
	fs.BoolVar(&f.skipFingerprint, "skip-fingerprint-check", false, "")
	f.output.flags(fs, "off")
	paths, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	if err := f.output.check(); err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitUsage
	}
	// From here on the format of the events is known: a refusal is an
	// error event too.
	if err := checkLLMBaseURL(fs, f.backend.LLMBaseURL); err != nil {
		return f.output.refuse(std, err.Error(), "")
	}
	if f.temporal.addr != "" {
		// On Temporal the worker processes execute: what they run with
		// is theirs to say.
		for _, name := range backendFlagNames {
			if isSet(fs, name) {
				return f.output.refuse(std, fmt.Sprintf("--%s does nothing with --temporal: the worker processes execute the run; give it to octrun worker instead", name), "")
			}
		}
	}
	for _, t := range f.tools {
		tc, err := runtime.ParseToolCommand(t)
		if err != nil {
			return f.output.refuse(std, fmt.Sprintf("--tool %q: %v", t, err), "")
		}
		f.backend.Tools = append(f.backend.Tools, tc)
	}

	p, err := protocol.Load(paths[0])
	if len(p.Diagnostics) > 0 {
		_ = diag.Write(std.err, p.Diagnostics, p.Source)
	}
	if err != nil {
		return f.output.refuse(std, paths[0]+" is not a valid worker; nothing was run", err.Error())
	}
	input, err := readInput(p, f, std.in)
	if err == nil {
		err = checkInput(p, input, std.err)
	}
	if err == nil && f.temporal.addr != "" {
		return submit(ctx, f.temporal, f.skipFingerprint, p, input, f.output, std)
	}
	var opts []runtime.Option
	if err == nil {
		opts, err = backendOptions(f.backend, p, input, 0)
	}
	if err != nil {
		return f.output.refuse(std, err.Error(), "")
	}
	store := runtime.DirStore{Dir: f.stateDir}
	session := f.output.start(ctx, std)
	opts = append(opts, runtime.WithStore(store))
	res, runErr := runtime.Run(session.ctx, p, input, append(opts, session.options()...)...)
	return session.finish(res, runErr, stateDirFlag(store))
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// checkLLMBaseURL refuses an --llm-base-url that no model call could use
// before anything runs. The message names the flag, or OCTRUN_LLM_BASE_URL
// when the value came from it.
func checkLLMBaseURL(fs *flag.FlagSet, u string) error {
	name := llm.EnvBaseURL
	if isSet(fs, "llm-base-url") {
		name = "--llm-base-url"
	}
	return llm.CheckBaseURL(name, u)
}

// checkInput validates the input before anything runs (exit code 2),
// after warning on stderr about the names the worker does not declare,
// which the run ignores (rule D18).
func checkInput(p *protocol.Protocol, input map[string]any, stderr io.Writer) error {
	for _, w := range p.InputWarnings(input) {
		fmt.Fprintf(stderr, "octrun: warning: %s\n", w)
	}
	if _, err := p.ResolveInput(input); err != nil {
		var ie *protocol.InputError
		if errors.As(err, &ie) {
			return fmt.Errorf("invalid input:\n  %s", strings.Join(ie.Problems, "\n  "))
		}
		return err
	}
	return nil
}

// backendOptions returns the run options of a backend, its problems told
// in terms of the flags that set it.
func backendOptions(b runtime.Backend, p *protocol.Protocol, input map[string]any, replayed int) ([]runtime.Option, error) {
	opts, err := b.Options(p, input, replayed)
	var be *runtime.BackendError
	if errors.As(err, &be) {
		switch be.Field {
		case runtime.BackendMock:
			return nil, fmt.Errorf("--mock: %w", be.Err)
		case runtime.BackendMCP:
			return nil, fmt.Errorf("--mcp-config: %w", be.Err)
		case runtime.BackendTools:
			return nil, fmt.Errorf("--tool %s: %w", be.Tool, be.Err)
		}
	}
	return opts, err
}

// readInput merges --input-file and --input flags, the flags last, each
// flag's value read by its input's declared type (rule C1).
func readInput(p *protocol.Protocol, f runFlags, stdin io.Reader) (map[string]any, error) {
	input := map[string]any{}
	if f.inputFile != "" {
		var data []byte
		var err error
		if f.inputFile == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(f.inputFile)
		}
		if err != nil {
			return nil, fmt.Errorf("--input-file: %w", err)
		}
		if input, err = protocol.DecodeInput(data); err != nil {
			return nil, fmt.Errorf("--input-file %s must hold a JSON object of inputs: %w", f.inputFile, err)
		}
	}
	given, err := p.ParseInputArgs(f.inputs)
	var te *protocol.InputTextError
	if errors.As(err, &te) {
		return nil, fmt.Errorf("--input %s: %s", te.Input, te.Problem)
	}
	if err != nil {
		return nil, err
	}
	maps.Copy(input, given)
	return input, nil
}

// writeOutput prints the output value: a string as it is with a trailing
// newline, anything else as JSON.
func writeOutput(w io.Writer, v any) error {
	if s, ok := v.(string); ok {
		_, err := fmt.Fprintln(w, s)
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
