// Package effect holds everything a worker run asks of the world, as data:
// for each effect (a model generation, a tool call, listing an MCP
// server's tools, a media call, a nested worker, and waiting for the
// results of client tools) a serializable request and a serializable
// result, the Effects interface a host implements, and the executors that
// every host runs on its side of the boundary (Generate turns a model's
// streamed fragments into events; RunTool calls a tool handler).
//
// The interpreter and the blocks never receive a callback that runs their
// own logic: what the effect side needs to act alone (the ids to hand out,
// display modes, the loop-guard setting, the event scope) travels in the
// request, and everything the interpreter decides on comes back in the
// result. A host may therefore execute effects in process, or as durable
// activities on another machine, and journal or replay them by key.
package effect

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
)

// Effects is everything the interpreter may ask of the world. Each method
// takes a request and returns a result that marshal to JSON and back
// without loss. An error return is a failure of the run (a provider error,
// cancellation, a *Pause, a *DivergedError); a failure the run goes on
// from, such as a tool's error, is part of the result.
type Effects interface {
	// Generate asks a model for one response, streaming it as events.
	Generate(ctx context.Context, req GenerateRequest) (GenerateResult, error)
	// CallTool runs a tool; for a client tool (no handler on this host)
	// the result says so and the interpreter awaits its result.
	CallTool(ctx context.Context, req ToolRequest) (ToolResult, error)
	// ListMCPTools lists the tools of an MCP server namespace, named
	// namespace__tool; CallTool calls them.
	ListMCPTools(ctx context.Context, req MCPListRequest) (MCPListResult, error)
	// Media asks a media model for an image, speech or a transcript.
	Media(ctx context.Context, req MediaRequest) (MediaResult, error)
	// RunWorker runs a declared worker to its end.
	RunWorker(ctx context.Context, req WorkerRequest) (WorkerResult, error)
	// AwaitToolResults waits for the results of client tool calls. A host
	// that cannot wait in place suspends the run by returning a *Pause; it
	// continues later with the results (rule §6.3).
	AwaitToolResults(ctx context.Context, req AwaitRequest) (AwaitResult, error)
}

// Key identifies one effect of a run, the same on every replay: the id of
// the worker run that asks (the execution id, or a nested worker's id) and
// the effect's number in it, with the step and block it belongs to for
// messages.
type Key struct {
	ID    string `json:"id"`
	Step  int    `json:"step"`
	Block string `json:"block"`
}

// Kind names an effect.
type Kind string

// The kinds of effects.
const (
	KindGenerate Kind = "generate"
	KindTool     Kind = "tool"
	KindMCPList  Kind = "mcp-list"
	KindMedia    Kind = "media"
	KindWorker   Kind = "worker"
	KindAwait    Kind = "await-tool-results"
)

// IDs hands out the ids of a run: its execution id (or a nested worker's
// id) and a counter, so that ids are unique and the same on every replay.
type IDs struct {
	Prefix  string `json:"prefix"`
	Counter int    `json:"counter"`
}

// New returns the next id of a kind, such as "text" or "call".
func (ids *IDs) New(kind string) string {
	ids.Counter++
	return NumberedID(ids.Prefix, "-"+kind, ids.Counter)
}

// NumberedID returns prefix, sep and n in decimal as one string, built in
// a buffer on the stack: ids of blocks, parts, messages and effects are
// made for every event and effect, and this costs one allocation where
// fmt.Sprintf costs several.
func NumberedID(prefix, sep string, n int) string {
	var buf [64]byte
	b := append(append(buf[:0], prefix...), sep...)
	return string(strconv.AppendInt(b, int64(n), 10))
}

// GenerateRequest asks a model for one response of a next-message step.
type GenerateRequest struct {
	Key     Key         `json:"key"`
	Request llm.Request `json:"request"`
	// BackupModel answers once instead when the model fails transiently
	// before anything streamed (rule §9.4); "" for none.
	BackupModel string `json:"backupModel,omitempty"`
	Stream      Stream `json:"stream"`
}

// Stream is what the effect side needs to show a generation as events.
type Stream struct {
	// Scope is where the events go: the block's scope.
	Scope events.Scope `json:"scope"`
	// IDs hands out the ids of text and reasoning parts, of tool calls the
	// model sent without an id, and of stream-mode worker calls.
	IDs IDs `json:"ids"`
	// ResponseType names the type of a structured answer, for text-start.
	ResponseType string `json:"responseType,omitempty"`
	// LoopGuard stops a generation that repeats itself (rule D15).
	LoopGuard bool `json:"loopGuard,omitempty"`
	// Cards says how a call of each offered tool shows, by tool name; a
	// tool not listed shows as a description-mode card without a label.
	Cards map[string]Card `json:"cards,omitempty"`
}

// Card is how the calls of one tool show while the model writes them.
type Card struct {
	Display string `json:"display"`
	// Title is the card's label: the tool's title in title mode, its
	// description in description and stream modes.
	Title string `json:"title,omitempty"`
	// WorkerInput is set for a worker offered as a tool in stream mode:
	// its input streams as worker-input events instead of a card, with
	// Description (rule §8.3).
	WorkerInput bool   `json:"workerInput,omitempty"`
	Description string `json:"description,omitempty"`
}

// GenerateResult is a finished generation as the interpreter uses it.
type GenerateResult struct {
	// Response has every tool call with its final id.
	Response llm.Response `json:"response"`
	// WorkerIDs holds, per tool call, the id handed to a stream-mode worker
	// call ("" for other calls).
	WorkerIDs []string `json:"workerIds,omitempty"`
	// Counter is the id counter after the ids the stream handed out.
	Counter int `json:"counter"`
	// ModelCalls is how many calls the generation made: 2 when the backup
	// model answered after the model failed (a scripted client replaying a
	// run counts its answers by calls).
	ModelCalls int `json:"modelCalls"`
}

// ToolRequest asks for one call of a tool.
type ToolRequest struct {
	Key Key `json:"key"`
	// Name is the tool's name in the protocol that calls it.
	Name   string         `json:"name"`
	CallID string         `json:"callId"`
	Args   map[string]any `json:"args"`
}

// ToolResult is the outcome of a tool call: its result as JSON, or the
// tool's error message, or Client for a tool whose result comes from the
// caller of the run.
type ToolResult struct {
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
	Client bool            `json:"client,omitempty"`
	// Canonical reports that Output is already written the way octrun
	// writes any value (events.RawValue of the decoded value), so that it
	// need not be decoded and written again. It is never recorded: a
	// result served by a journal or from another process is written again.
	Canonical bool `json:"-"`
}

// Value decodes the result's JSON (nil for none).
func (r ToolResult) Value() (any, error) {
	if len(r.Output) == 0 {
		return nil, nil
	}
	return events.DecodeValue(r.Output)
}

// callKey is the context key of WithToolCallKey.
type callKey struct{}

// WithToolCallKey returns a context carrying the idempotency key of a tool
// call, "<executionId>/<toolCallId>": a call interrupted by a crash may run
// again, and a handler that must not act twice checks the key.
func WithToolCallKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, callKey{}, key)
}

// ToolCallKey returns the idempotency key of the tool call a handler
// serves ("" outside a tool call). Command tools get it in the environment
// variable OCTRUN_TOOL_CALL_ID.
func ToolCallKey(ctx context.Context) string {
	key, _ := ctx.Value(callKey{}).(string)
	return key
}

// RunTool calls a tool handler for req of the run executionID: its result,
// or its error as the result's error; a panicking handler is a failed
// call, not a crashed engine. The handler's context carries the call's
// idempotency key (ToolCallKey). Only a cancelled ctx is returned as an
// error, and at once: a handler that ignores its context's cancellation
// for longer than HandlerGrace is left running in its goroutine, which
// the logger of ctx (llm.LoggerFrom) reports, and again when the handler
// returns; its result is dropped.
func RunTool(ctx context.Context, executionID string, req ToolRequest, h func(context.Context, map[string]any) (any, error)) (ToolResult, error) {
	type outcome struct {
		value any
		err   error
	}
	done := make(chan outcome, 1)
	go func() {
		value, err := callSafely(WithToolCallKey(ctx, executionID+"/"+req.CallID), req, h)
		done <- outcome{value, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		grace := time.NewTimer(HandlerGrace)
		defer grace.Stop()
		select {
		case <-done:
		case <-grace.C:
			abandon(ctx, req, done)
		}
		return ToolResult{}, ctx.Err()
	}
	if ctx.Err() != nil {
		return ToolResult{}, ctx.Err()
	}
	if out.err != nil {
		return ToolResult{Error: out.err.Error()}, nil
	}
	encoded, err := events.EncodeValue(out.value)
	if err != nil {
		return ToolResult{Error: fmt.Sprintf("tool %q returned a result that is not JSON: %v", req.Name, err)}, nil
	}
	return ToolResult{Output: encoded, Canonical: plainJSON(out.value)}, nil
}

// plainJSON reports whether v is made only of the values a JSON decoder
// makes (nil, booleans, float64 and json.Number, strings of valid UTF-8,
// []any and map[string]any) or ints: encoding/json writes those the way
// octrun writes any value, so one encoding is enough. Anything else (a
// struct, whose fields keep their order, a Marshaler, a string that is not
// UTF-8) is written again once decoded.
func plainJSON(v any) bool {
	switch v := v.(type) {
	case nil, bool, float64, json.Number, int, int64:
		return true
	case string:
		return utf8.ValidString(v)
	case []any:
		for _, e := range v {
			if !plainJSON(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for k, e := range v {
			if !utf8.ValidString(k) || !plainJSON(e) {
				return false
			}
		}
		return true
	}
	return false
}

// HandlerGrace is how long RunTool waits, once the run is cancelled, for a
// tool handler to return before it leaves the handler running.
const HandlerGrace = 200 * time.Millisecond

// abandon logs a handler left running after its run was cancelled, and
// logs again once it returns (done receives when it does).
func abandon[T any](ctx context.Context, req ToolRequest, done <-chan T) {
	log := llm.LoggerFrom(ctx).With("tool", req.Name, "callId", req.CallID)
	log.WarnContext(ctx, "a tool handler ignored the cancellation of its run; it was left running", "grace", HandlerGrace)
	start := time.Now()
	go func() {
		<-done
		log.Warn("a tool handler left running returned", "after", time.Since(start))
	}()
}

func callSafely(ctx context.Context, req ToolRequest, h func(context.Context, map[string]any) (any, error)) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, fmt.Errorf("tool %q panicked: %v", req.Name, p)
		}
	}()
	return h(ctx, req.Args)
}

// MCPListRequest asks for the tools of an MCP server namespace.
type MCPListRequest struct {
	Key       Key    `json:"key"`
	Namespace string `json:"namespace"`
}

// MCPListResult is the tool list of an MCP server.
type MCPListResult struct {
	Tools []llm.Tool `json:"tools"`
}

// MediaRequest asks a media model for one thing: exactly one of Image,
// Speech and Transcription is set.
type MediaRequest struct {
	Key           Key                       `json:"key"`
	Image         *llm.ImageRequest         `json:"image,omitempty"`
	Speech        *llm.SpeechRequest        `json:"speech,omitempty"`
	Transcription *llm.TranscriptionRequest `json:"transcription,omitempty"`
}

// MediaResult is a generated file (image, speech) with its bytes, or a
// transcript.
type MediaResult struct {
	File       *llm.Media      `json:"file,omitempty"`
	Transcript *llm.Transcript `json:"transcript,omitempty"`
}

// RunMedia makes the media call of req with client.
func RunMedia(ctx context.Context, client llm.MediaClient, req MediaRequest) (MediaResult, error) {
	switch {
	case req.Image != nil:
		f, err := client.GenerateImage(ctx, *req.Image)
		return MediaResult{File: f}, err
	case req.Speech != nil:
		f, err := client.GenerateSpeech(ctx, *req.Speech)
		return MediaResult{File: f}, err
	case req.Transcription != nil:
		t, err := client.Transcribe(ctx, *req.Transcription)
		return MediaResult{Transcript: t}, err
	}
	return MediaResult{}, fmt.Errorf("effect %s: a media request names no media call", req.Key.ID)
}

// WorkerRequest asks for a run of a declared worker.
type WorkerRequest struct {
	Key Key `json:"key"`
	// Slug names the worker among the calling protocol's declared workers.
	Slug string `json:"slug"`
	// WorkerID identifies the nested run; its events carry it (rule D8).
	WorkerID string `json:"workerId"`
	// Label is how worker-start describes the run: the worker's title in
	// title display mode, else its description.
	Label string         `json:"label"`
	Input map[string]any `json:"input"`
	// Scope is where the nested run's events go: the caller's scope nested
	// with WorkerID and the worker's display mode.
	Scope events.Scope `json:"scope"`
}

// WorkerResult is what a nested worker returned.
type WorkerResult struct {
	Output    json.RawMessage `json:"output,omitempty"`
	HasOutput bool            `json:"hasOutput,omitempty"`
	Usage     llm.Usage       `json:"usage"`
}

// AwaitRequest asks for the results of client tool calls.
type AwaitRequest struct {
	Key   Key                      `json:"key"`
	Calls []events.PendingToolCall `json:"calls"`
}

// AwaitResult holds one result for each awaited call.
type AwaitResult struct {
	Results []events.ToolResult `json:"results"`
}

// MatchResults checks that results answer exactly the pending calls, one
// result each, and returns them in the calls' order.
func MatchResults(calls []events.PendingToolCall, results []events.ToolResult) (AwaitResult, error) {
	byID := map[string]events.ToolResult{}
	for _, r := range results {
		if _, dup := byID[r.ToolCallID]; dup {
			return AwaitResult{}, fmt.Errorf("two results for tool call %s", r.ToolCallID)
		}
		byID[r.ToolCallID] = r
	}
	answers := AwaitResult{Results: make([]events.ToolResult, 0, len(calls))}
	var missing, waiting []string
	for _, c := range calls {
		waiting = append(waiting, fmt.Sprintf("%s (%s)", c.ToolCallID, c.ToolName))
		r, ok := byID[c.ToolCallID]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (%s)", c.ToolCallID, c.ToolName))
			continue
		}
		delete(byID, c.ToolCallID)
		answers.Results = append(answers.Results, r)
	}
	var problems []string
	if len(byID) > 0 {
		extra := slices.Sorted(maps.Keys(byID))
		problems = append(problems, fmt.Sprintf("tool call %s is not waiting for a result", strings.Join(extra, ", ")))
	}
	if len(missing) > 0 {
		problems = append(problems, "no result for the pending tool call "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		return AwaitResult{}, fmt.Errorf("%s (the run waits for %s)", strings.Join(problems, "; "), strings.Join(waiting, ", "))
	}
	return answers, nil
}

// ByID returns the result of a call, if there is one.
func (r AwaitResult) ByID(callID string) (events.ToolResult, bool) {
	for _, res := range r.Results {
		if res.ToolCallID == callID {
			return res, true
		}
	}
	return events.ToolResult{}, false
}

// Pause stops a run that needs the results of client tools, on a host that
// suspends runs instead of waiting: the run continues when the results of
// Calls are supplied.
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

// SuspendError is a host that could not suspend a run paused for client
// tools (its snapshot could not be saved): it ends the run, as a failure,
// wherever it happens, even inside a nested worker that a model called.
type SuspendError struct {
	Err error
}

func (e *SuspendError) Error() string { return e.Err.Error() }

func (e *SuspendError) Unwrap() error { return e.Err }

// DivergedError is a replay that does not ask for the effects it recorded:
// the protocol, the tools or the code changed between the legs of a run,
// so its recorded results cannot be trusted for it.
type DivergedError struct {
	Key Key
	// Kind is the effect asked for now; Recorded the one recorded under
	// the same key ("" when none was).
	Kind, Recorded Kind
	// Reason says what differs.
	Reason string
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("replay diverged at step %d (block %q), effect %s (%s): %s; the run cannot continue from its journal",
		e.Key.Step+1, e.Key.Block, e.Key.ID, e.Kind, e.Reason)
}
