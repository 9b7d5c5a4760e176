package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
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
  --events jsonl|sse       write every event to standard output instead
  --all-events             ignore display modes and show every event
  --llm-base-url URL       send every model call to this OpenAI-compatible endpoint
                           (env OCTRUN_LLM_BASE_URL, key in OCTRUN_LLM_API_KEY)
  --mock FILE              answer model calls from a scripted file (offline runs)
  --tool NAME=COMMAND      run COMMAND (with sh -c) for the tool NAME: the arguments
                           as JSON on stdin, the result on stdout; repeatable
  --tool-timeout DURATION  the longest a --tool command may run (default 60s)
  --state-dir DIR          where paused runs are kept (default .octrun)

A tool with no handler (no --tool, no mock answer) is a client tool: the run
pauses, prints the pending calls as JSON on standard output and exits with 3;
continue it with: octrun continue EXECUTION_ID --results FILE.

exit codes: 0 finished, 1 failed while running, 2 usage error or invalid
protocol or input (nothing was run), 3 paused for client tools, 130 interrupted.
`

// runFlags are the flags of `octrun run`.
type runFlags struct {
	inputs    listFlag
	inputFile string
	stateDir  string
	backend
	output
}

// backend is what answers a run's model and tool calls. A paused run keeps
// it beside its snapshot, so that `octrun continue` uses the same.
type backend struct {
	LLMBaseURL  string        `json:"llmBaseUrl,omitempty"`
	Mock        string        `json:"mock,omitempty"`
	Tools       listFlag      `json:"tools,omitempty"`
	ToolTimeout time.Duration `json:"toolTimeout"`
}

// output is how a run shows itself.
type output struct {
	events    string
	allEvents bool
}

// listFlag collects a repeated flag.
type listFlag []string

func (f *listFlag) String() string     { return strings.Join(*f, ",") }
func (f *listFlag) Set(v string) error { *f = append(*f, v); return nil }

// usageError is a problem with the command line or the input: nothing ran.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// runWorker is `octrun [run] PATH [flags]`.
func runWorker(ctx context.Context, args []string, std stdio) int {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() { fmt.Fprint(std.err, runUsage) }
	fs.Var(&f.inputs, "i", "")
	fs.Var(&f.inputs, "input", "")
	fs.StringVar(&f.inputFile, "input-file", "", "")
	fs.StringVar(&f.LLMBaseURL, "llm-base-url", os.Getenv(llm.EnvBaseURL), "")
	fs.StringVar(&f.Mock, "mock", "", "")
	fs.Var(&f.Tools, "tool", "")
	fs.DurationVar(&f.ToolTimeout, "tool-timeout", 60*time.Second, "")
	fs.StringVar(&f.stateDir, "state-dir", defaultStateDir, "")
	f.output.flags(fs)
	paths, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	if err := f.output.check(); err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitUsage
	}

	p, err := protocol.Load(paths[0])
	if len(p.Diagnostics) > 0 {
		_ = diag.Write(std.err, p.Diagnostics, p.Source)
	}
	if err != nil {
		fmt.Fprintf(std.err, "octrun: %s is not a valid worker; nothing was run\n", paths[0])
		return exitUsage
	}
	input, err := readInput(p, f, std.in)
	if err == nil {
		err = checkInput(p, input)
	}
	var opts []runtime.Option
	if err == nil {
		opts, err = f.backend.options(p, input, 0)
	}
	if err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitUsage
	}
	store := runtime.DirStore{Dir: f.stateDir}
	session := f.output.start(std)
	opts = append(opts, runtime.WithStore(store))
	res, runErr := runtime.Run(ctx, p, input, append(opts, session.options()...)...)
	return session.finish(res, runErr, f.backend, store)
}

// checkInput validates the input before anything runs (exit code 2).
func checkInput(p *protocol.Protocol, input map[string]any) error {
	if _, err := p.ResolveInput(input); err != nil {
		var ie *protocol.InputError
		if errors.As(err, &ie) {
			return usagef("invalid input:\n  %s", strings.Join(ie.Problems, "\n  "))
		}
		return err
	}
	return nil
}

// options builds the run options of a backend: the model client (the mock
// script, or the provider router after checking every model's key), the
// mock's tool answers and the --tool commands. replayed is the number of
// model calls a continued run already made, which a mock script skips.
func (b backend) options(p *protocol.Protocol, input map[string]any, replayed int) ([]runtime.Option, error) {
	var opts []runtime.Option
	if b.Mock != "" {
		script, err := llm.LoadScript(b.Mock)
		if err != nil {
			return nil, usagef("--mock: %v", err)
		}
		opts = append(opts, runtime.WithLLM(llm.NewScriptedFrom(script, replayed)), runtime.WithScriptedTools(script))
	} else {
		var routerOpts []llm.RouterOption
		if b.LLMBaseURL != "" {
			routerOpts = append(routerOpts, llm.WithBaseURL(b.LLMBaseURL, os.Getenv(llm.EnvAPIKey)))
		}
		router := llm.NewRouter(os.Getenv, append(routerOpts, llm.DefaultRetries())...)
		values, _ := p.ResolveInput(input)
		if err := router.Check(models(p, values)); err != nil {
			return nil, usagef("%v", err)
		}
		opts = append(opts, runtime.WithLLM(router))
	}
	declared := toolNames(p)
	for _, t := range b.Tools {
		name, command, ok := strings.Cut(t, "=")
		if !ok || name == "" || command == "" {
			return nil, usagef("--tool %q: write NAME=COMMAND", t)
		}
		if !slices.Contains(declared, name) {
			return nil, usagef("--tool %s: the worker has no tool %s%s; its tools are %s", name, name, diag.DidYouMean(name, declared), strings.Join(declared, ", "))
		}
		opts = append(opts, runtime.WithTool(name, runtime.CommandTool(command, b.ToolTimeout)))
	}
	return opts, nil
}

// toolNames lists the tools of a worker and of the workers it declares,
// sorted.
func toolNames(p *protocol.Protocol) []string {
	var names []string
	visit(p, func(p *protocol.Protocol) {
		for _, t := range p.Tools {
			if !slices.Contains(names, t.Name.Value) {
				names = append(names, t.Name.Value)
			}
		}
	})
	slices.Sort(names)
	return names
}

// visit calls fn on p and every worker it declares, once each.
func visit(p *protocol.Protocol, fn func(*protocol.Protocol)) {
	seen := map[*protocol.Protocol]bool{}
	var walk func(*protocol.Protocol)
	walk = func(p *protocol.Protocol) {
		if p == nil || seen[p] {
			return
		}
		seen[p] = true
		fn(p)
		for _, w := range p.Workers {
			walk(w.Protocol)
		}
	}
	walk(p)
}

// models lists the models the worker and the workers it declares may call
// (chat and media), with variable settings resolved from the input (or,
// for declared workers, their input defaults) where possible.
func models(p *protocol.Protocol, values map[string]any) []string {
	var out []string
	visit(p, func(q *protocol.Protocol) {
		vals := values
		if q != p {
			vals = defaults(q)
		}
		add := func(m string) {
			if m != "" && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
		for _, s := range q.Steps {
			switch b := s.Block.(type) {
			case *protocol.StartThread:
				for _, setting := range []protocol.Setting{b.Model, b.BackupModel} {
					m, _ := setting.Literal.(string)
					if setting.Var != "" {
						m, _ = vals[setting.Var].(string)
					}
					add(m)
				}
			case *protocol.GenerateImage:
				add(b.ImageModel.Value)
			case *protocol.GenerateSpeech:
				add(b.SpeechModel.Value)
			case *protocol.TranscribeAudio:
				add(b.TranscriptionModel.Value)
			}
		}
	})
	return out
}

// defaults returns the default values of a protocol's inputs.
func defaults(p *protocol.Protocol) map[string]any {
	v := map[string]any{}
	for _, in := range p.Inputs {
		if in.HasDefault {
			v[in.Name.Value] = in.Default
		}
	}
	return v
}

// readInput merges --input-file and --input flags, coercing each flag
// value by its input's declared type (CLI.md).
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
			return nil, usagef("--input-file: %v", err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&input); err != nil {
			return nil, usagef("--input-file %s must hold a JSON object of inputs: %v", f.inputFile, err)
		}
	}
	declared := map[string]*protocol.InputDef{}
	var names []string
	for _, in := range p.Inputs {
		declared[in.Name.Value] = in
		names = append(names, in.Name.Value)
	}
	for _, kv := range f.inputs {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usagef("--input %q: write NAME=VALUE", kv)
		}
		in := declared[name]
		if in == nil {
			return nil, usagef("--input %s: the worker has no input %s%s; its inputs are %s", name, name, diag.DidYouMean(name, names), strings.Join(names, ", "))
		}
		v, err := coerce(in.Type.Value, raw)
		if err != nil {
			return nil, usagef("--input %s: %q is not a valid %s: %v", name, raw, in.Type.Value, err)
		}
		input[name] = v
	}
	return input, nil
}

// coerce converts a command-line value to its input's type: a string stays
// as typed, number, integer and boolean are parsed, any other type is JSON.
func coerce(typ, raw string) (any, error) {
	switch typ {
	case "string":
		return raw, nil
	case "number":
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, errors.New("write a number, like 0.5")
		}
		return f, nil
	case "integer":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, errors.New("write a whole number, like 3")
		}
		return n, nil
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, errors.New("write true or false")
		}
		return b, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("write it as JSON: %v", err)
	}
	return v, nil
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
