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

	"github.com/octrun/octrun/events"
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

exit codes: 0 finished, 1 failed while running, 2 usage error or invalid
protocol or input (nothing was run), 130 interrupted.
`

// runFlags are the flags of `octrun run`.
type runFlags struct {
	inputs     inputFlags
	inputFile  string
	events     string
	allEvents  bool
	llmBaseURL string
	mock       string
}

// inputFlags collects repeated --input NAME=VALUE flags.
type inputFlags []string

func (f *inputFlags) String() string     { return strings.Join(*f, ",") }
func (f *inputFlags) Set(v string) error { *f = append(*f, v); return nil }

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
	fs.StringVar(&f.events, "events", "", "")
	fs.BoolVar(&f.allEvents, "all-events", false, "")
	fs.StringVar(&f.llmBaseURL, "llm-base-url", "", "")
	fs.StringVar(&f.mock, "mock", "", "")
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
	if f.events != "" && f.events != "jsonl" && f.events != "sse" {
		fmt.Fprintf(std.err, "octrun: --events must be jsonl or sse, got %q\n", f.events)
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
	input, opts, err := prepare(p, f, std.in)
	if err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitUsage
	}

	if f.allEvents {
		opts = append(opts, runtime.WithAllEvents())
	}
	var finish func() error
	switch f.events {
	case "jsonl":
		opts = append(opts, runtime.WithEventSink(events.NewJSONLWriter(std.out)))
	case "sse":
		sse := events.NewSSEWriter(std.out)
		opts = append(opts, runtime.WithEventSink(sse.Send))
		finish = sse.Close
	default:
		opts = append(opts, runtime.WithEventSink(newProgress(std.err).sink))
	}
	res, runErr := runtime.Run(ctx, p, input, opts...)
	if finish != nil {
		_ = finish()
	}
	var re *runtime.Error
	switch {
	case errors.As(runErr, &re) && re.Cancelled:
		fmt.Fprintln(std.err, "octrun: interrupted; the run was cancelled")
		return exitInterrupted
	case runErr != nil:
		fmt.Fprintf(std.err, "octrun: the worker failed: %v\n", runErr)
		return exitFailed
	}
	if f.events == "" && res.HasOutput {
		if err := writeOutput(std.out, res.Output); err != nil {
			fmt.Fprintf(std.err, "octrun: %v\n", err)
			return exitFailed
		}
	}
	return exitOK
}

// prepare builds the run's input and the options that set its model client
// (and, with --mock, its scripted tools), checking everything that can be
// checked before the run starts.
func prepare(p *protocol.Protocol, f runFlags, stdin io.Reader) (map[string]any, []runtime.Option, error) {
	input, err := readInput(p, f, stdin)
	if err != nil {
		return nil, nil, err
	}
	values, err := p.ResolveInput(input)
	if err != nil {
		var ie *protocol.InputError
		if errors.As(err, &ie) {
			return nil, nil, usagef("invalid input:\n  %s", strings.Join(ie.Problems, "\n  "))
		}
		return nil, nil, err
	}
	if f.mock != "" {
		script, err := llm.LoadScript(f.mock)
		if err != nil {
			return nil, nil, usagef("--mock: %v", err)
		}
		return input, []runtime.Option{runtime.WithLLM(llm.NewScripted(script)), runtime.WithScriptedTools(script)}, nil
	}
	var routerOpts []llm.RouterOption
	if f.llmBaseURL != "" {
		routerOpts = append(routerOpts, llm.WithBaseURL(f.llmBaseURL, os.Getenv("OCTRUN_LLM_API_KEY")))
	}
	router := llm.NewRouter(os.Getenv, routerOpts...)
	if err := router.Check(models(p, values)); err != nil {
		return nil, nil, usagef("%v", err)
	}
	return input, []runtime.Option{runtime.WithLLM(router)}, nil
}

// models lists the models the worker and the workers it declares may call,
// with variable settings resolved from the input where possible.
func models(p *protocol.Protocol, values map[string]any) []string {
	var out []string
	add := func(s protocol.Setting, values map[string]any) {
		m, ok := s.Literal.(string)
		if s.Var != "" {
			m, ok = values[s.Var].(string)
		}
		if ok && m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	var walk func(p *protocol.Protocol, values map[string]any)
	seen := map[*protocol.Protocol]bool{}
	walk = func(p *protocol.Protocol, values map[string]any) {
		if seen[p] {
			return
		}
		seen[p] = true
		for _, s := range p.Steps {
			if st, ok := s.Block.(*protocol.StartThread); ok {
				add(st.Model, values)
				add(st.BackupModel, values)
			}
		}
		for _, w := range p.Workers {
			if w.Protocol != nil {
				walk(w.Protocol, defaults(w.Protocol))
			}
		}
	}
	walk(p, values)
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
