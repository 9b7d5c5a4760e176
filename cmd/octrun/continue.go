package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/jsonmsg"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/runtime"
)

const continueUsage = `usage: octrun continue EXECUTION_ID --results FILE [flags]

Continues a run that paused for client tools, with their results: FILE (or
- for standard input) holds a JSON array of {"toolCallId": ..., "result": ...}
or {"toolCallId": ..., "error": "..."}, one for every pending call. The run
continues with the protocol, model and tools it started with; a protocol
whose files changed since is refused. A run is continued once at a time:
while one continue of it runs, another is refused (exit 2).

flags:
  --results FILE       the results of the pending tool calls
  --state-dir DIR      where paused runs are kept (default .octrun)
  --temporal HOST:PORT continue a run waiting on Temporal (env OCTRUN_TEMPORAL),
                       with --namespace NS and --redis URL (live events)
  --events jsonl|sse   write the events to standard output instead
  --all-events         ignore display modes and show every event
  --log-level LEVEL    structured logs on standard error: off (default),
                       debug, info, warn or error
  --log-format FORMAT  text (default) or json
`

// continueRun is `octrun continue EXECUTION_ID --results FILE`.
func continueRun(ctx context.Context, args []string, std stdio) int {
	var o output
	var t temporalFlags
	var resultsFile, stateDir string
	fs := flag.NewFlagSet("continue", flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() { fmt.Fprint(std.err, continueUsage) }
	fs.StringVar(&resultsFile, "results", "", "")
	fs.StringVar(&stateDir, "state-dir", defaultStateDir, "")
	t.flags(fs)
	o.flags(fs, "off")
	ids, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	if len(ids) != 1 || resultsFile == "" {
		fs.Usage()
		return exitUsage
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitUsage
	}
	// From here on the format of the events is known: a refusal is an
	// error event too.
	id := ids[0]
	results, err := readResults(resultsFile, std.in)
	if err != nil {
		return o.refuse(std, "--results: "+err.Error(), "")
	}
	if t.addr != "" {
		return continueOnTemporal(ctx, t, id, results, o, std)
	}
	store := runtime.DirStore{Dir: stateDir}
	snap, err := store.Load(ctx, id)
	if err != nil {
		return o.refuse(std, err.Error(), "")
	}
	if snap.Backend == nil {
		return o.refuse(std, fmt.Sprintf("paused run %s records no backend (it was not started by octrun run); it cannot continue here", id), "")
	}
	if snap.Protocol.Dir == "" {
		return o.refuse(std, fmt.Sprintf("paused run %s names no folder for its worker %s (it was loaded from elsewhere than a folder); continue it from the program that started it", id, snap.Protocol.Slug), "")
	}
	p, err := protocol.Load(snap.Protocol.Dir)
	if err != nil {
		_ = diag.Write(std.err, p.Diagnostics, p.Source)
		return o.refuse(std, fmt.Sprintf("the worker of run %s at %s is not valid any more; it cannot continue", id, snap.Protocol.Dir), err.Error())
	}
	opts, err := backendOptions(*snap.Backend, p, snap.Input, snap.ModelCalls())
	if err != nil {
		return o.refuse(std, err.Error(), "")
	}
	session := o.start(ctx, std)
	opts = append(opts, runtime.WithStore(store), runtime.WithProtocol(p))
	res, err := runtime.Continue(session.ctx, id, results, append(opts, session.options()...)...)
	return session.finish(res, err, stateDirFlag(store))
}

// readResults reads a JSON array of tool results; unknown fields are
// refused, as they are most often misspelt ones.
func readResults(file string, stdin io.Reader) ([]events.ToolResult, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var results []events.ToolResult
	err = dec.Decode(&results)
	if err == nil {
		err = events.CheckEnd(dec, data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s must hold a JSON array of {\"toolCallId\", \"result\" or \"error\"}: %v", file, jsonmsg.Error(err))
	}
	return results, nil
}
