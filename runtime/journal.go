package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/octrun/octrun/blocks"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
)

// Journal records the result of every effect of a run, in the order the
// run asked for them: model generations, tool calls and media calls,
// nested workers' included. Blocks are deterministic given these results,
// so replaying the journal brings a fresh interpreter exactly to where a
// paused run stopped (the way a durable workflow engine replays its
// history).
type Journal struct {
	Generations []llm.Response `json:"generations"`
	Tools       []ToolOutcome  `json:"tools"`
	// Media holds the results of media calls; a generated file is kept
	// whole (its bytes as base64).
	Media []MediaOutcome `json:"media,omitempty"`
	// MCPTools holds the tool lists of MCP servers, in the order asked.
	MCPTools []MCPListing `json:"mcpTools,omitempty"`
}

// MCPListing is the recorded tool list of one MCP server.
type MCPListing struct {
	Namespace string     `json:"namespace"`
	Tools     []llm.Tool `json:"tools"`
}

// MediaOutcome is the recorded result of one media call: the file of an
// image or speech call, or the transcript of a transcription.
type MediaOutcome struct {
	// Kind is image, speech or transcript.
	Kind       string          `json:"kind"`
	File       *llm.Media      `json:"file,omitempty"`
	Transcript *llm.Transcript `json:"transcript,omitempty"`
}

// Kinds of MediaOutcome.
const (
	mediaImage      = "image"
	mediaSpeech     = "speech"
	mediaTranscript = "transcript"
)

// ToolOutcome is the recorded result of one tool call. A client tool call
// waiting for its result has Pending set.
type ToolOutcome struct {
	CallID  string          `json:"callId"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   string          `json:"error,omitempty"`
	Pending bool            `json:"pending,omitempty"`
	// Fresh marks a result supplied by Continue: the first one replayed
	// ends the silent part of the replay.
	Fresh bool `json:"-"`
}

// recorder is the Effects of one run leg: it serves recorded results while
// replaying, silences the events of the replayed part, and records every
// live result.
type recorder struct {
	journal *Journal
	gen     int // next generation to replay
	tool    int // next tool outcome to replay
	med     int // next media outcome to replay
	mcp     int // next MCP tool list to replay
	// replaying is true until the replay reaches its first fresh or live
	// effect; the run's sink drops events meanwhile.
	replaying bool
}

// live ends the silent replay.
func (r *recorder) live() { r.replaying = false }

// generate replays the next recorded generation, or calls the client and
// records its response.
func (r *recorder) generate(ctx context.Context, client llm.Client, req llm.Request, onDelta func(llm.Delta) error) (*llm.Response, error) {
	if r.gen < len(r.journal.Generations) {
		resp := r.journal.Generations[r.gen]
		r.gen++
		if err := replayDeltas(&resp, onDelta); err != nil {
			return nil, err
		}
		return &resp, nil
	}
	r.live()
	seen := &partial{onDelta: onDelta}
	resp, err := client.Generate(ctx, req, seen.deliver)
	if err != nil {
		if seen.aborted == nil || !errors.Is(err, seen.aborted) || ctx.Err() != nil {
			return nil, err
		}
		// The block stopped the generation itself (the loop guard): what it
		// saw is recorded, so a replay stops it at the same point.
		resp = seen.response()
		err = seen.aborted
	}
	r.journal.Generations = append(r.journal.Generations, *resp)
	r.gen++
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// partial keeps what a generation delivered, in case the caller aborts it.
type partial struct {
	onDelta         func(llm.Delta) error
	text, reasoning strings.Builder
	calls           []llm.ToolCall
	aborted         error
}

// deliver passes a fragment on and keeps it.
func (p *partial) deliver(d llm.Delta) error {
	switch d.Kind {
	case llm.TextDelta:
		p.text.WriteString(d.Text)
	case llm.ReasoningDelta:
		p.reasoning.WriteString(d.Text)
	case llm.ToolCallStart:
		p.calls = append(p.calls, llm.ToolCall{ID: d.ToolID, Name: d.ToolName})
	case llm.ToolCallArgs:
		if d.ToolIndex < len(p.calls) {
			p.calls[d.ToolIndex].Arguments += d.Text
		}
	}
	if p.onDelta == nil {
		return nil
	}
	if err := p.onDelta(d); err != nil {
		p.aborted = err
		return err
	}
	return nil
}

// response is what was delivered, as a response stopped by its caller.
func (p *partial) response() *llm.Response {
	return &llm.Response{Text: p.text.String(), Reasoning: p.reasoning.String(), ToolCalls: p.calls, FinishReason: "other"}
}

// replayDeltas streams a recorded response again, in the fragments a block
// needs to take the same decisions: reasoning, text, then each tool call.
func replayDeltas(resp *llm.Response, onDelta func(llm.Delta) error) error {
	var deltas []llm.Delta
	if resp.Reasoning != "" {
		deltas = append(deltas, llm.Delta{Kind: llm.ReasoningDelta, Text: resp.Reasoning})
	}
	if resp.Text != "" {
		deltas = append(deltas, llm.Delta{Kind: llm.TextDelta, Text: resp.Text})
	}
	for i, c := range resp.ToolCalls {
		deltas = append(deltas,
			llm.Delta{Kind: llm.ToolCallStart, ToolIndex: i, ToolID: c.ID, ToolName: c.Name},
			llm.Delta{Kind: llm.ToolCallArgs, ToolIndex: i, ToolID: c.ID, ToolName: c.Name, Text: c.Arguments})
	}
	for _, d := range deltas {
		if err := onDelta(d); err != nil {
			return err
		}
	}
	return nil
}

// callTool replays the next recorded tool outcome, or runs the handler (nil
// for a client tool) and records the outcome.
func (r *recorder) callTool(ctx context.Context, call blocks.ToolInvocation, h ToolHandler) (any, error) {
	if r.tool < len(r.journal.Tools) {
		out := r.journal.Tools[r.tool]
		r.tool++
		if out.CallID != call.CallID {
			return nil, fmt.Errorf("the run does not replay as recorded: tool call %s was expected, not %s", out.CallID, call.CallID)
		}
		if out.Fresh {
			r.live()
		}
		switch {
		case out.Pending:
			return nil, blocks.ErrClientTool
		case out.Error != "":
			return nil, toolError(out.Error)
		}
		if len(out.Result) == 0 {
			return nil, nil
		}
		v, err := events.DecodeValue(out.Result)
		if err != nil {
			return nil, fmt.Errorf("a recorded tool result is not JSON: %w", err)
		}
		return v, nil
	}
	r.live()
	if h == nil {
		r.journal.Tools = append(r.journal.Tools, ToolOutcome{CallID: call.CallID, Pending: true})
		r.tool++
		return nil, blocks.ErrClientTool
	}
	result, err := runHandler(ctx, call, h)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	out := ToolOutcome{CallID: call.CallID}
	if err != nil {
		out.Error = err.Error()
	} else {
		out.Result = events.RawValue(result)
	}
	r.journal.Tools = append(r.journal.Tools, out)
	r.tool++
	return result, err
}

// media replays the next recorded media outcome, or makes the call and
// records its outcome. A failed call is not recorded: it ends the run.
func (r *recorder) media(kind string, call func() (MediaOutcome, error)) (MediaOutcome, error) {
	if r.med < len(r.journal.Media) {
		out := r.journal.Media[r.med]
		r.med++
		if out.Kind != kind {
			return MediaOutcome{}, fmt.Errorf("the run does not replay as recorded: a %s call was expected, not a %s call", out.Kind, kind)
		}
		return out, nil
	}
	r.live()
	out, err := call()
	if err != nil {
		return MediaOutcome{}, err
	}
	out.Kind = kind
	r.journal.Media = append(r.journal.Media, out)
	r.med++
	return out, nil
}

// toolError is a tool's failure as recorded.
type toolError string

func (e toolError) Error() string { return string(e) }

// runHandler calls a tool handler; a panic is a failed call, not a crashed
// engine.
func runHandler(ctx context.Context, call blocks.ToolInvocation, h ToolHandler) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, fmt.Errorf("tool %q panicked: %v", call.Name, p)
		}
	}()
	return h(ctx, call.Args)
}

// supply fills the pending tool outcomes with the caller's results. Every
// pending call needs exactly one result.
func (j *Journal) supply(results []events.ToolResult) error {
	byID := map[string]events.ToolResult{}
	for _, r := range results {
		if _, dup := byID[r.ToolCallID]; dup {
			return fmt.Errorf("two results for tool call %s", r.ToolCallID)
		}
		byID[r.ToolCallID] = r
	}
	for i := range j.Tools {
		out := &j.Tools[i]
		if !out.Pending {
			continue
		}
		r, ok := byID[out.CallID]
		if !ok {
			return fmt.Errorf("no result for the pending tool call %s", out.CallID)
		}
		delete(byID, out.CallID)
		*out = ToolOutcome{CallID: out.CallID, Result: r.Result, Error: r.Error, Fresh: true}
		if len(out.Result) == 0 && out.Error == "" {
			out.Result = json.RawMessage("null")
		}
	}
	for id := range byID {
		return fmt.Errorf("tool call %s is not waiting for a result", id)
	}
	return nil
}

// mcpTools replays the next recorded tool list of an MCP server, or asks
// the server and records its answer.
func (r *recorder) mcpTools(namespace string, list func() ([]llm.Tool, error)) ([]llm.Tool, error) {
	if r.mcp < len(r.journal.MCPTools) {
		out := r.journal.MCPTools[r.mcp]
		r.mcp++
		if out.Namespace != namespace {
			return nil, fmt.Errorf("the run does not replay as recorded: the tools of MCP server %s were expected, not of %s", out.Namespace, namespace)
		}
		return out.Tools, nil
	}
	r.live()
	tools, err := list()
	if err != nil {
		return nil, err
	}
	r.journal.MCPTools = append(r.journal.MCPTools, MCPListing{Namespace: namespace, Tools: tools})
	r.mcp++
	return tools, nil
}
