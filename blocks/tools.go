package blocks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// toolset is what a thread offers its model: the protocol tools it lists
// and the declared workers it lists, as tools. It emits each call's events
// and runs the calls, turning failures into results the model reads (D11).
type toolset struct {
	env     *Env
	offered []llm.Tool
	tools   map[string]*protocol.ToolDef
	workers map[string]*protocol.WorkerDecl
	// mcp holds the MCP tools offered, by name, with their server.
	mcp map[string]mcpTool
	// references are the reference documents the thread may read through
	// the built-in reference tools.
	references []string
	// maxResultTokens caps each result in the model's view (0: no cap).
	maxResultTokens int
}

// mcpTool is a tool of an MCP server offered to a thread.
type mcpTool struct {
	server      *protocol.MCPServerDef
	description string
}

// newToolset gathers a thread's tools; listing the tools of its MCP servers
// is the only part that can fail.
func newToolset(ctx context.Context, env *Env, cfg ThreadConfig) (*toolset, error) {
	ts := &toolset{env: env, tools: map[string]*protocol.ToolDef{}, workers: map[string]*protocol.WorkerDecl{},
		mcp: map[string]mcpTool{}, references: cfg.References, maxResultTokens: cfg.MaxToolOutputTokens}
	for _, name := range cfg.Tools {
		def := env.Protocol.Tool(name)
		ts.tools[name] = def
		ts.offered = append(ts.offered, llm.Tool{Name: name, Description: def.Description.Value, Parameters: env.Protocol.ToolSchema(def)})
	}
	for _, slug := range cfg.Workers {
		decl := env.Protocol.Worker(slug)
		ts.workers[slug] = decl
		ts.offered = append(ts.offered, llm.Tool{Name: slug, Description: workerDescription(decl), Parameters: decl.Protocol.InputSchema()})
	}
	for _, ns := range cfg.MCPServers {
		tools, err := env.Effects.MCPTools(ctx, ns)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &Error{Type: ErrTool, Source: events.ErrorSourceTool, Tool: ns, Err: err,
				Message: fmt.Sprintf("block %q: the tools of MCP server %q could not be listed: %v", env.Step.Name.Value, ns, err)}
		}
		server := env.Protocol.MCPServer(ns)
		for _, t := range tools {
			ts.mcp[t.Name] = mcpTool{server: server, description: t.Description}
			ts.offered = append(ts.offered, t)
		}
	}
	if len(cfg.References) > 0 {
		ts.offered = append(ts.offered, referenceTools()...)
	}
	return ts, nil
}

// builtin reports whether name is a built-in tool of this thread.
func (ts *toolset) builtin(name string) bool {
	return len(ts.references) > 0 && (name == referenceListTool || name == referenceReadTool)
}

func workerDescription(d *protocol.WorkerDecl) string {
	if d.Description.IsSet() {
		return d.Description.Value
	}
	return d.Protocol.Settings.Description.Value
}

// workerDisplay is a declared worker's display mode (default stream).
func workerDisplay(d *protocol.WorkerDecl) string {
	return d.Display.Or(events.DisplayStream)
}

// streamsInput reports whether a call of name is a worker in stream mode,
// whose input streams as worker-input events instead of a tool card
// (PROTOCOL.md 8.3).
func (ts *toolset) streamsInput(name string) bool {
	d := ts.workers[name]
	return d != nil && workerDisplay(d) == events.DisplayStream
}

// card returns the tool card of a call of name.
func (ts *toolset) card(name string) toolCard {
	if d := ts.workers[name]; d != nil {
		return cardFor(ts.env.Events, workerDisplay(d), workerDescription(d), d.Title.Value)
	}
	if t, ok := ts.mcp[name]; ok {
		return cardFor(ts.env.Events, t.server.Display.Or(events.DisplayDescription), t.description, t.server.Title.Value)
	}
	return newToolCard(ts.env.Events, ts.tools[name])
}

// startCall opens the events of a call and returns the workerId of a
// stream-mode worker call ("" otherwise).
func (ts *toolset) startCall(id, name string) string {
	if !ts.streamsInput(name) {
		ts.card(name).start(id, name)
		return ""
	}
	d := ts.workers[name]
	workerID := ts.env.State.NewID("worker")
	ts.env.Events.Emit(events.WorkerInputStart{WorkerID: workerID, WorkerSlug: name, Description: workerDescription(d)})
	return workerID
}

func (ts *toolset) argsDelta(id, name, workerID, text string) {
	if workerID != "" {
		ts.env.Events.Emit(events.WorkerInputDelta{WorkerID: workerID, Delta: text})
		return
	}
	ts.card(name).delta(id, text)
}

func (ts *toolset) endArgs(id, name, workerID, args string) {
	raw := argsJSON(args)
	if workerID != "" {
		ts.env.Events.Emit(events.WorkerInputReady{WorkerID: workerID, Input: raw})
		return
	}
	ts.card(name).input(id, name, raw)
}

// argsJSON is the arguments as valid JSON: {} when empty, a JSON string of
// the text when the model wrote something that is not JSON.
func argsJSON(args string) json.RawMessage {
	if strings.TrimSpace(args) == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(args)) {
		return json.RawMessage(args)
	}
	return events.RawValue(args)
}

// serverFirst orders a step's tool calls: the ones this run executes
// first, then the client tools, whose results pause the run. Every leg of a
// paused run executes them in this same order.
func (ts *toolset) serverFirst(calls []llm.ToolCall) []int {
	order := make([]int, 0, len(calls))
	for pass := range 2 {
		for i, c := range calls {
			if ts.isClient(c.Name) == (pass == 1) {
				order = append(order, i)
			}
		}
	}
	return order
}

// isClient reports whether a call goes to the caller of the run: an
// offered protocol tool that has no handler here.
func (ts *toolset) isClient(name string) bool {
	return ts.tools[name] != nil && ts.env.Effects.ClientTool(name)
}

// run executes one call and returns the part stored on the thread and the
// text the model reads. A failed call is a result, not an error; only a
// cancelled context or a client tool (ErrClientTool, or a Pause from a
// nested worker) stops the loop.
func (ts *toolset) run(ctx context.Context, call llm.ToolCall, workerID string) (*threads.ToolCall, string, error) {
	part := &threads.ToolCall{ID: call.ID, Name: call.Name, Arguments: argsJSON(call.Arguments)}
	result, err := ts.execute(ctx, call, workerID)
	if ctx.Err() != nil {
		return nil, "", ctx.Err()
	}
	var pause *Pause
	if errors.Is(err, ErrClientTool) || errors.As(err, &pause) {
		return nil, "", err
	}
	if err != nil {
		part.Status, part.Error = threads.ToolError, err.Error()
		if workerID == "" {
			ts.card(call.Name).failed(call.ID, part.Error)
		}
	} else {
		part.Status, part.Result = threads.ToolAvailable, events.RawValue(result)
		if workerID == "" {
			ts.card(call.Name).output(call.ID, part.Result)
		}
	}
	return part, boundResult(toolResultText(part), ts.maxResultTokens), nil
}

func (ts *toolset) execute(ctx context.Context, call llm.ToolCall, workerID string) (any, error) {
	args, err := callArgs(call.Arguments)
	if err != nil {
		return nil, err
	}
	if d := ts.workers[call.Name]; d != nil {
		outcome, err := runNested(ctx, ts.env, d, args, workerDisplay(d), workerID)
		return outcome.Output, err
	}
	if ts.builtin(call.Name) {
		return callReferenceTool(ts.env.Protocol, ts.references, call.Name, args)
	}
	tool := ts.tools[call.Name]
	if _, isMCP := ts.mcp[call.Name]; tool == nil && !isMCP {
		return nil, fmt.Errorf("Tool %q is not available. It is not one of this thread's tools", call.Name)
	}
	if tool != nil {
		if err := ts.checkArgs(tool, args); err != nil {
			return nil, err
		}
	}
	return ts.env.Effects.CallTool(ctx, ToolInvocation{Name: call.Name, CallID: call.ID, Args: args})
}

// checkArgs validates a model's arguments against the tool's parameters
// before the handler runs; a mismatch goes back to the model as an error
// result it can correct.
func (ts *toolset) checkArgs(tool *protocol.ToolDef, args map[string]any) error {
	validator, err := ts.env.Protocol.ToolValidator(tool)
	if err != nil {
		return err
	}
	problems := validator.Validate(args)
	if len(problems) == 0 {
		return nil
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.String()
	}
	return fmt.Errorf("the arguments do not match the parameters of %s: %s", tool.Name.Value, strings.Join(msgs, "; "))
}

// boundResult caps a tool result's text at about maxTokens tokens (four
// characters a token) for the model: the head and the tail are kept, with a
// note in between saying what was left out. 0 means no cap.
func boundResult(text string, maxTokens int) string {
	budget := maxTokens * 4
	runes := []rune(text)
	if maxTokens <= 0 || len(runes) <= budget {
		return text
	}
	head, tail := budget*3/5, budget*2/5
	omitted := len(runes) - head - tail
	return fmt.Sprintf("%s\n\n[... %d of %d characters of this tool result were left out here to fit maxToolOutputTokens; the whole result is kept ...]\n\n%s",
		string(runes[:head]), omitted, len(runes), string(runes[len(runes)-tail:]))
}

// callArgs decodes a model's arguments, which must be a JSON object.
func callArgs(text string) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return map[string]any{}, nil
	}
	v, err := events.DecodeValue([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("the arguments are not valid JSON: %v", err)
	}
	args, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the arguments must be a JSON object, got %s", describe(v))
	}
	return args, nil
}
