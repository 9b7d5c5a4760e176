package blocks

import (
	"fmt"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// State is everything a worker run has decided so far. It is plain data
// that marshals to JSON and back; a paused run is not stored as its State
// but rebuilt by replaying the journal of its effects (rule C5).
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
	// Effects numbers the effects asked for so far: an effect's key is the
	// execution id and this number (effect.Key).
	Effects int `json:"effects"`
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
	ids := effect.IDs{Prefix: s.ExecutionID, Counter: s.Counter}
	id := ids.New(kind)
	s.Counter = ids.Counter
	return id
}

// key returns the key of the block's next effect.
func (env *Env) key() effect.Key {
	env.State.Effects++
	return effect.Key{ID: effect.NumberedID(env.State.ExecutionID, "#", env.State.Effects), Step: env.State.Step, Block: env.Step.Name.Value}
}

// ids returns the run's ids for an effect that hands out ids; the
// effect's result says where the counter went.
func (env *Env) ids() effect.IDs {
	return effect.IDs{Prefix: env.State.ExecutionID, Counter: env.State.Counter}
}

// Thread is a started thread: its conversation and its resolved settings.
type Thread struct {
	threads.Thread
	Config ThreadConfig `json:"config"`
	// view caches the messages as the model reads them (modelMessages).
	view modelView
}

// ThreadConfig is a thread's model configuration after variable settings
// were resolved (rule §9.3).
type ThreadConfig struct {
	Model       string   `json:"model"`
	BackupModel string   `json:"backupModel,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	Thinking    string   `json:"thinking,omitempty"`
	// MaxSteps bounds the model steps of one next-message (rule D10).
	MaxSteps        int `json:"maxSteps"`
	MaxOutputTokens int `json:"maxOutputTokens,omitempty"`
	// MaxToolOutputTokens caps each tool result in the model's view; the
	// thread keeps the whole result.
	MaxToolOutputTokens int `json:"maxToolOutputTokens,omitempty"`
	// MaxImageDimension bounds the sides of attached images sent to the
	// model (llm.Request.MaxImageDimension).
	MaxImageDimension int      `json:"maxImageDimension,omitempty"`
	Tools             []string `json:"tools,omitempty"`
	Workers           []string `json:"workers,omitempty"`
	// MCPServers are the MCP namespaces whose tools the thread offers.
	MCPServers []string `json:"mcpServers,omitempty"`
	// References are the reference documents the thread's model may read.
	References []string `json:"references,omitempty"`
	// LoopGuard stops a generation that repeats itself (rule D15).
	LoopGuard bool `json:"loopGuard,omitempty"`
}

// Env is what a block runs with.
type Env struct {
	Protocol *protocol.Protocol
	State    *State
	Effects  effect.Effects
	// Events emits the block's events; the block's own content is in the
	// block's scope.
	Events *events.Emitter
	// Step is the step being run and BlockID its block id in events.
	Step    *protocol.Step
	BlockID string
	// WorkerID is the id of a nested worker run, "" at the top level: it
	// routes the results of paused tool calls (rule §6.3).
	WorkerID string
}

// Error is a failure of a block, classified for the error event
// (rule §7.1).
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
