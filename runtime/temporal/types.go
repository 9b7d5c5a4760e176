package temporal

import (
	"encoding/json"
	"fmt"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/interp"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

// Names of the workflow, its update and its query.
const (
	// WorkflowName runs a worker protocol, top-level or nested.
	WorkflowName = "octrun.worker"
	// UpdateToolResults delivers the results of the client tool calls a run
	// waits for.
	UpdateToolResults = "octrun.tool-results"
	// QueryState tells whether a run waits for client tools, and for which.
	QueryState = "octrun.state"
)

// Defaults of the command and the client.
const (
	DefaultNamespace = "default"
	DefaultTaskQueue = "octrun"
)

// Fingerprint is what the submitter and the workers must agree on: the
// protocol's fingerprint (every file of the agent folder and of its nested
// workers' folders) and the interpreter's version.
func Fingerprint(p *protocol.Protocol) string {
	return p.Fingerprint() + "+interp." + interp.Version
}

// AgentRef names the protocol a workflow or activity runs: an agent of the
// worker's agents folder by slug, and the path of declared workers down to
// a nested one (empty for the agent itself).
type AgentRef struct {
	Slug string   `json:"slug"`
	Path []string `json:"path,omitempty"`
	// Fingerprint is the submitter's Fingerprint of the protocol; "" skips
	// the check (the submitter's --skip-fingerprint-check).
	Fingerprint string `json:"fingerprint,omitempty"`
}

func (a AgentRef) String() string {
	s := a.Slug
	for _, p := range a.Path {
		s += "/" + p
	}
	return s
}

// child is the reference of a declared worker of a.
func (a AgentRef) child(slug, fingerprint string) AgentRef {
	path := append(append([]string{}, a.Path...), slug)
	return AgentRef{Slug: a.Slug, Path: path, Fingerprint: fingerprint}
}

// RunInput starts a workflow: a top-level run, or a nested worker's run as
// a child workflow.
type RunInput struct {
	// ExecutionID is the top-level run's id: its events' stream.
	ExecutionID string         `json:"executionId"`
	Agent       AgentRef       `json:"agent"`
	Input       map[string]any `json:"input"`
	// AllEvents shows every event, ignoring display modes.
	AllEvents bool `json:"allEvents,omitempty"`
	// NextSeq is the sequence number of the run's next event; Pending are
	// events of the caller not published yet, which go first.
	NextSeq int64        `json:"nextSeq"`
	Pending []WireRecord `json:"pending,omitempty"`
	// ModelCalls counts the model and media calls the whole run made
	// before this workflow (Call.ModelCalls).
	ModelCalls int `json:"modelCalls,omitempty"`
	// Nested is set for a nested worker's run.
	Nested *NestedRun `json:"nested,omitempty"`
	// CallerTools are the tools the caller answers, for MCP servers
	// declared without a connection (runtime.WithCallerTools).
	CallerTools []llm.Tool `json:"callerTools,omitempty"`
}

// NestedRun is what a nested worker's run needs of its caller.
type NestedRun struct {
	// WorkerID is the nested run's workerId, Description its label.
	WorkerID    string       `json:"workerId"`
	Slug        string       `json:"slug"`
	Description string       `json:"description"`
	Scope       events.Scope `json:"scope"`
	// ToolNames maps the nested protocol's tool names to the names the
	// worker process registered handlers under (the top-level protocol's).
	ToolNames map[string]string `json:"toolNames,omitempty"`
}

// RunOutput is what a workflow returns.
type RunOutput struct {
	Output    json.RawMessage `json:"output,omitempty"`
	HasOutput bool            `json:"hasOutput,omitempty"`
	Usage     llm.Usage       `json:"usage"`
	NextSeq   int64           `json:"nextSeq"`
	// ModelCalls counts the run's model and media calls so far.
	ModelCalls int `json:"modelCalls,omitempty"`
	// Error is the run's failure, "" when it finished; ErrorType its
	// errorType; Cancelled tells a cancelled run.
	Error     string           `json:"error,omitempty"`
	ErrorType events.ErrorType `json:"errorType,omitempty"`
	Cancelled bool             `json:"cancelled,omitempty"`
	// Failure is the error event of the run's failure, classified.
	Failure *events.Error `json:"failure,omitempty"`
	// Tail holds the run's last events (worker-result on), for a submitter
	// that reads no stream.
	Tail []WireRecord `json:"tail,omitempty"`
}

// WireRecord is an event record as it crosses the wire: the event's JSON.
type WireRecord struct {
	Seq   int64           `json:"seq"`
	Event json.RawMessage `json:"event"`
}

// toWire encodes records.
func toWire(recs []events.Record) []WireRecord {
	out := make([]WireRecord, len(recs))
	for i, r := range recs {
		data, _ := r.Event.MarshalJSON()
		out[i] = WireRecord{Seq: r.Seq, Event: data}
	}
	return out
}

// fromWire decodes records.
func fromWire(ws []WireRecord) ([]events.Record, error) {
	out := make([]events.Record, len(ws))
	for i, w := range ws {
		ev, err := events.Parse(w.Event)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", w.Seq, err)
		}
		out[i] = events.Record{Seq: w.Seq, Event: ev}
	}
	return out, nil
}

// State is what QueryState answers.
type State struct {
	// Waiting are the client tool calls the run waits for; empty when it
	// does not wait.
	Waiting []events.PendingToolCall `json:"waiting,omitempty"`
	// WaitingIn is the id of the workflow that waits (a nested worker's
	// child workflow, or the run's own).
	WaitingIn string `json:"waitingIn,omitempty"`
	// Running is the id of the nested worker's child workflow running now,
	// "" when none: a pause may be there.
	Running string `json:"running,omitempty"`
	// NextSeq is the sequence number of the run's next event.
	NextSeq int64 `json:"nextSeq"`
}

// Call is what every activity receives besides its effect's request: the
// protocol it serves, and the events to publish before it acts.
type Call struct {
	ExecutionID string       `json:"executionId"`
	Agent       AgentRef     `json:"agent"`
	AllEvents   bool         `json:"allEvents,omitempty"`
	NextSeq     int64        `json:"nextSeq"`
	Publish     []WireRecord `json:"publish,omitempty"`
	// ModelCalls counts the model and media calls the run made before: a
	// worker that serves the run for the first time starts a scripted
	// client there.
	ModelCalls int `json:"modelCalls,omitempty"`
}

// GenerateCall is the input of the model activity.
type GenerateCall struct {
	Call
	Req effect.GenerateRequest `json:"req"`
}

// GenerateOutput is the model activity's result.
type GenerateOutput struct {
	Res     effect.GenerateResult `json:"res"`
	NextSeq int64                 `json:"nextSeq"`
}

// ToolCall is the input of the tool activity. Handler is the name the
// worker registered the tool's handler under.
type ToolCall struct {
	Call
	Handler string             `json:"handler"`
	Req     effect.ToolRequest `json:"req"`
}

// MCPListCall is the input of the MCP listing activity.
type MCPListCall struct {
	Call
	Req         effect.MCPListRequest `json:"req"`
	CallerTools []llm.Tool            `json:"callerTools,omitempty"`
}

// MediaCall is the input of the media activity.
type MediaCall struct {
	Call
	Req effect.MediaRequest `json:"req"`
}

// PublishCall is the input of the activity that publishes the events a
// workflow emitted between effects.
type PublishCall struct {
	Call
	// Finished marks the run's last events: the stream then expires.
	Finished bool `json:"finished,omitempty"`
}
