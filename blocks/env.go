package blocks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// State is everything a run has decided so far. It is plain data that
// marshals to JSON and back, so a run can be paused, stored and resumed.
type State struct {
	// ExecutionID identifies the run; every other id derives from it.
	ExecutionID string `json:"executionId"`
	// Values holds the inputs, variables and resources by name. A name
	// without an entry has no value (an optional input not supplied).
	Values map[string]any `json:"values"`
	// Threads are the threads started so far, by name.
	Threads map[string]*Thread `json:"threads"`
	// Step is the index of the next step to run.
	Step int `json:"step"`
	// Counter numbers the ids handed out so far.
	Counter int `json:"counter"`
	// Usage adds up the tokens of every model call of the run.
	Usage llm.Usage `json:"usage"`
}

// NewState returns the state of a run that has not started a step yet.
func NewState(executionID string, values map[string]any) *State {
	return &State{ExecutionID: executionID, Values: values, Threads: map[string]*Thread{}}
}

// NewID returns the next id of the run: the execution id and a counter, so
// that ids are unique and the same on every replay.
func (s *State) NewID(kind string) string {
	s.Counter++
	return fmt.Sprintf("%s-%s%d", s.ExecutionID, kind, s.Counter)
}

// Thread is a started thread: its conversation and its resolved settings.
type Thread struct {
	threads.Thread
	Config ThreadConfig `json:"config"`
}

// ThreadConfig is a thread's model configuration after variable settings
// were resolved (PROTOCOL.md 9.3).
type ThreadConfig struct {
	Model       string   `json:"model"`
	BackupModel string   `json:"backupModel,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	Thinking    string   `json:"thinking,omitempty"`
	// MaxSteps bounds the model steps of one next-message (D10).
	MaxSteps        int `json:"maxSteps"`
	MaxOutputTokens int `json:"maxOutputTokens,omitempty"`
	// MaxToolOutputTokens caps each tool result in the model's view; the
	// thread keeps the whole result.
	MaxToolOutputTokens int      `json:"maxToolOutputTokens,omitempty"`
	Tools               []string `json:"tools,omitempty"`
	Workers             []string `json:"workers,omitempty"`
	// MCPServers are the MCP namespaces whose tools the thread offers.
	MCPServers []string `json:"mcpServers,omitempty"`
	// References are the reference documents the thread's model may read.
	References []string `json:"references,omitempty"`
	// LoopGuard stops a generation that repeats itself (D15).
	LoopGuard bool `json:"loopGuard,omitempty"`
}

// Effects is everything a block may ask of the world. The in-process
// runtime implements it directly; a durable runtime implements it with
// activities and child workflows.
type Effects interface {
	// Generate asks a model for a response, streaming its fragments.
	Generate(ctx context.Context, req llm.Request, onDelta func(llm.Delta) error) (*llm.Response, error)
	// CallTool runs a tool and returns its JSON-compatible result. It
	// returns ErrClientTool for a client tool whose result the caller of
	// the run must supply.
	CallTool(ctx context.Context, call ToolInvocation) (any, error)
	// ClientTool reports whether calls of the tool are answered by the
	// caller of the run (no handler runs it here): the run pauses for them.
	ClientTool(name string) bool
	// RunWorker runs a declared worker to its end and returns its output.
	RunWorker(ctx context.Context, call WorkerInvocation) (WorkerOutcome, error)
	// MCPTools lists the tools of the protocol's MCP server namespace,
	// named namespace__tool; CallTool calls them.
	MCPTools(ctx context.Context, namespace string) ([]llm.Tool, error)
	// MediaClient asks media models for images, speech and transcripts
	// (the media blocks, PROTOCOL.md 3.9).
	llm.MediaClient
}

// ToolInvocation is one call of a tool.
type ToolInvocation struct {
	// Name is the tool's name in the protocol that calls it.
	Name   string
	CallID string
	Args   map[string]any
}

// WorkerInvocation is one run of a nested worker.
type WorkerInvocation struct {
	Decl *protocol.WorkerDecl
	// WorkerID identifies the nested run; its events carry it (D8).
	WorkerID string
	// Label is how worker-start describes the run: the worker's title in
	// title display mode, else its description.
	Label string
	Input map[string]any
	// Events receives the nested worker's events, already tagged and
	// filtered for its display mode.
	Events *events.Emitter
}

// WorkerOutcome is what a nested worker returned.
type WorkerOutcome struct {
	Output    any
	HasOutput bool
	Usage     llm.Usage
}

// Env is what a block runs with.
type Env struct {
	Protocol *protocol.Protocol
	State    *State
	Effects  Effects
	Events   *events.Emitter
	// Step is the step being run and BlockID its block id in events.
	Step    *protocol.Step
	BlockID string
	// WorkerID is the id of a nested worker run, "" at the top level: it
	// routes the results of paused tool calls (PROTOCOL.md 6.3).
	WorkerID string
}

// ErrClientTool is what Effects.CallTool returns for a client tool.
var ErrClientTool = errors.New("the tool is a client tool: its result comes from the caller")

// Pause stops a run that needs the results of client tools. Calls are the
// pending calls; the run continues when their results are supplied.
type Pause struct {
	Calls []events.PendingToolCall
}

func (p *Pause) Error() string {
	names := make([]string, len(p.Calls))
	for i, c := range p.Calls {
		names[i] = c.ToolName
	}
	return fmt.Sprintf("the run paused for the results of client tools: %s", strings.Join(names, ", "))
}

// Error is a failure of a block, classified for the error event
// (PROTOCOL.md 7.1).
type Error struct {
	Type    events.ErrorType
	Source  events.ErrorSource
	Message string
	// Tool and CallID name the tool of a tool_error.
	Tool, CallID string
	// Err is the cause, if any.
	Err error
}

// Error types blocks produce.
const (
	ErrExecution = events.ErrorTypeExecution
	ErrTool      = events.ErrorTypeTool
)

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// executionError is an execution_error of the platform.
func executionError(format string, args ...any) *Error {
	return &Error{Type: ErrExecution, Source: events.ErrorSourcePlatform, Message: fmt.Sprintf(format, args...)}
}
