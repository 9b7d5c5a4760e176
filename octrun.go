// Package octrun runs Octavus worker protocols: load an agent folder, run
// it against real models and tools, and watch its events.
//
//	p, err := octrun.Load("agents/title-generator")
//	if err != nil { ... } // a diag.List with every problem
//	res, err := octrun.RunWorker(ctx, p, map[string]any{"SUMMARY": text},
//		octrun.WithTool("web-search", search))
//	fmt.Println(res.Output)
//
// This package is the short happy path; the engine lives in the protocol,
// interp, blocks, effect, runtime, events, llm and threads packages.
package octrun

import (
	"context"
	"iter"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// Result is the outcome of a finished run: output, usage, execution id.
type Result = runtime.Result

// Option configures a run.
type Option = runtime.Option

// ToolHandler runs a tool for the model or a tool-call block.
type ToolHandler = runtime.ToolHandler

// Error is a failed or cancelled run.
type Error = runtime.Error

// PauseError is a run that stopped for the results of client tools.
type PauseError = runtime.PauseError

// Store keeps the snapshots of paused runs.
type Store = runtime.Store

// DirStore keeps the snapshots of paused runs as JSON files in a folder.
type DirStore = runtime.DirStore

// Options of a run, and the helpers that go with them; see the runtime
// package for each.
var (
	WithLLM           = runtime.WithLLM
	WithTool          = runtime.WithTool
	WithEventSink     = runtime.WithEventSink
	WithSinkGrace     = runtime.WithSinkGrace
	WithEventLog      = runtime.WithEventLog
	WithEventObserver = runtime.WithEventObserver
	WithLogger        = runtime.WithLogger
	WithAllEvents     = runtime.WithAllEvents
	WithExecutionID   = runtime.WithExecutionID
	WithStore         = runtime.WithStore
	WithProtocol      = runtime.WithProtocol
	WithAgents        = runtime.WithAgents
	CommandTool       = runtime.CommandTool
	NewMemoryStore    = runtime.NewMemoryStore
)

// Load reads and validates the agent folder at path (or its
// protocol.yaml). On invalid input the error is a diag.List of every
// problem, with file, line and column.
func Load(path string) (*protocol.Protocol, error) {
	return protocol.Load(path)
}

// RunWorker runs the worker with input to its end and returns its output.
func RunWorker(ctx context.Context, p *protocol.Protocol, input map[string]any, opts ...Option) (*Result, error) {
	return runtime.Run(ctx, p, input, opts...)
}

// Continue resumes a run that paused for client tools with their results
// (one for every pending call of the *PauseError).
func Continue(ctx context.Context, executionID string, results []events.ToolResult, opts ...Option) (*Result, error) {
	return runtime.Continue(ctx, executionID, results, opts...)
}

// Execute runs the worker and yields its events as they happen; a run that
// fails, is cancelled or pauses ends with a nil event and the run's error.
func Execute(ctx context.Context, p *protocol.Protocol, input map[string]any, opts ...Option) iter.Seq2[events.Event, error] {
	return runtime.Execute(ctx, p, input, opts...)
}
