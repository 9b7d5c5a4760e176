package blocks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// toolset is what a thread offers its model: the protocol tools it lists,
// the declared workers it lists (as tools), the tools of its MCP servers
// and the built-in reference tools. It runs the calls of a model step,
// turning failures into results the model reads (rule D11), and shows each
// call's outcome on the call's card.
type toolset struct {
	env     *Env
	offered []llm.Tool
	// cards says how each offered tool's calls show (effect.Stream.Cards).
	cards   map[string]effect.Card
	tools   map[string]*protocol.ToolDef
	workers map[string]*protocol.WorkerDecl
	// mcp holds the names of the MCP tools offered.
	mcp map[string]bool
	// references are the reference documents the thread may read through
	// the built-in reference tools.
	references []string
	// maxResultTokens caps each result in the model's view (0: no cap).
	maxResultTokens int
}

// newToolset gathers a thread's tools; listing the tools of its MCP servers
// is the only part that can fail.
func newToolset(ctx context.Context, env *Env, cfg ThreadConfig) (*toolset, error) {
	ts := &toolset{env: env, cards: map[string]effect.Card{}, tools: map[string]*protocol.ToolDef{},
		workers: map[string]*protocol.WorkerDecl{}, mcp: map[string]bool{}, references: cfg.References, maxResultTokens: cfg.MaxToolOutputTokens}
	for _, name := range cfg.Tools {
		def := env.Protocol.Tool(name)
		ts.tools[name] = def
		ts.cards[name] = toolCard(def)
		ts.offered = append(ts.offered, llm.Tool{Name: name, Description: def.Description.Value, Parameters: env.Protocol.ToolSchema(def)})
	}
	for _, slug := range cfg.Workers {
		decl := env.Protocol.Worker(slug)
		ts.workers[slug] = decl
		ts.cards[slug] = workerCard(decl)
		ts.offered = append(ts.offered, llm.Tool{Name: slug, Description: workerDescription(decl), Parameters: decl.Protocol.InputSchema()})
	}
	for _, ns := range cfg.MCPServers {
		listing, err := env.Effects.ListMCPTools(ctx, effect.MCPListRequest{Key: env.key(), Namespace: ns})
		if err != nil {
			if ctx.Err() != nil || isRunFailure(err) {
				return nil, err
			}
			return nil, &Error{Type: ErrTool, Source: events.ErrorSourceTool, Tool: ns, Err: err,
				Message: fmt.Sprintf("block %q: the tools of MCP server %q could not be listed: %v", env.Step.Name.Value, ns, err)}
		}
		server := env.Protocol.MCPServer(ns)
		for _, t := range listing.Tools {
			ts.mcp[t.Name] = true
			ts.cards[t.Name] = cardOf(server.DisplayMode(), t.Description, server.Title.Value)
			ts.offered = append(ts.offered, t)
		}
	}
	if len(cfg.References) > 0 {
		for _, t := range referenceTools() {
			ts.cards[t.Name] = cardOf(events.DisplayDescription, t.Description, "")
			ts.offered = append(ts.offered, t)
		}
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

// toolCard is how the calls of a protocol tool show (rule §6.4);
// a tool the protocol does not declare shows in description mode without a
// label.
func toolCard(tool *protocol.ToolDef) effect.Card {
	if tool == nil {
		return effect.Card{Display: events.DisplayDescription}
	}
	return cardOf(tool.DisplayMode(), tool.Description.Value, tool.Title.Value)
}

// workerCard is how the calls of a worker offered as a tool show: in
// stream mode its input streams as worker-input events (rule
// §8.3), otherwise as a tool card.
func workerCard(d *protocol.WorkerDecl) effect.Card {
	if d.DisplayMode() == events.DisplayStream {
		return effect.Card{Display: events.DisplayStream, WorkerInput: true, Description: workerDescription(d)}
	}
	return cardOf(d.DisplayMode(), workerDescription(d), d.Title.Value)
}

// cardOf is the card of a display mode: its label is the title in title
// mode, the description in description and stream modes, none otherwise.
func cardOf(display, description, title string) effect.Card {
	c := effect.Card{Display: display}
	switch display {
	case events.DisplayTitle:
		c.Title = title
	case events.DisplayDescription, events.DisplayStream:
		c.Title = description
	}
	return c
}

// card returns the card of a call of name.
func (ts *toolset) card(name string) effect.Card {
	if c, ok := ts.cards[name]; ok {
		return c
	}
	return toolCard(nil)
}

// toolOutcome is one finished call of a model step: the call with its id,
// the part stored on the thread and the text the model reads.
type toolOutcome struct {
	call      llm.ToolCall
	part      *threads.ToolCall
	modelText string
}

// runAll runs the tool calls of a model step in order. The calls of client
// tools are answered by the caller of the run: their results are awaited
// together, after the other calls ran, and their outcomes follow the
// others'. workerIDs holds the ids handed to stream-mode worker calls.
func (ts *toolset) runAll(ctx context.Context, calls []llm.ToolCall, workerIDs []string, thread string) ([]toolOutcome, error) {
	done := make([]toolOutcome, 0, len(calls))
	var waiting []llm.ToolCall
	var pending []events.PendingToolCall
	for i, call := range calls {
		workerID := ""
		if i < len(workerIDs) {
			workerID = workerIDs[i]
		}
		res, err := ts.execute(ctx, call, workerID)
		if err != nil {
			return nil, err
		}
		if res.Client {
			waiting = append(waiting, call)
			pending = append(pending, events.PendingToolCall{
				ToolCallID: call.ID, ToolName: call.Name, Args: effect.ArgsJSON(call.Arguments),
				Source: events.ToolSourceLLM, Thread: thread, WorkerID: ts.env.WorkerID,
			})
			continue
		}
		done = append(done, ts.finish(call, workerID, res))
	}
	if len(pending) == 0 {
		return done, nil
	}
	answers, err := ts.env.Effects.AwaitToolResults(ctx, effect.AwaitRequest{Key: ts.env.key(), Calls: pending})
	if err != nil {
		return nil, err
	}
	for _, call := range waiting {
		res, err := clientResult(answers, call.ID)
		if err != nil {
			return nil, err
		}
		done = append(done, ts.finish(call, "", res))
	}
	return done, nil
}

// finish shows the outcome of a call on its card (a stream-mode worker
// call shows through its own events instead) and returns what the thread
// keeps of it and what the model reads.
func (ts *toolset) finish(call llm.ToolCall, workerID string, res effect.ToolResult) toolOutcome {
	part := &threads.ToolCall{ID: call.ID, Name: call.Name, Arguments: effect.ArgsJSON(call.Arguments)}
	display := ts.card(call.Name).Display
	if res.Error != "" {
		part.Status, part.Error = threads.ToolError, res.Error
		if workerID == "" {
			ts.env.Events.EmitTool(display, events.ToolOutputError{ToolCallID: call.ID, Error: part.Error})
		}
	} else {
		part.Status, part.Result = threads.ToolAvailable, res.Output
		if !res.Canonical {
			// The result is written the way octrun writes any value,
			// however it was formatted where it was recorded.
			value, err := res.Value()
			if err != nil {
				value = fmt.Sprintf("the tool's result is not JSON: %v", err)
			}
			part.Result = events.RawValue(value)
		}
		if workerID == "" {
			ts.env.Events.EmitTool(display, events.ToolOutputAvailable{ToolCallID: call.ID, Output: part.Result})
		}
	}
	return toolOutcome{call: call, part: part, modelText: boundResult(toolResultText(part), ts.maxResultTokens)}
}

// clientResult is the awaited result of a client tool call, its JSON
// written the way octrun writes any value.
func clientResult(answers effect.AwaitResult, callID string) (effect.ToolResult, error) {
	ans, ok := answers.ByID(callID)
	switch {
	case !ok:
		return effect.ToolResult{}, executionError("the results of the client tools hold none for tool call %s", callID)
	case ans.Error != "":
		return effect.ToolResult{Error: ans.Error}, nil
	case len(ans.Result) == 0:
		return effect.ToolResult{Output: json.RawMessage("null"), Canonical: true}, nil
	}
	v, err := events.DecodeValue(ans.Result)
	if err != nil {
		return effect.ToolResult{Error: fmt.Sprintf("the result is not JSON: %v", err)}, nil
	}
	return effect.ToolResult{Output: events.RawValue(v), Canonical: true}, nil
}

// isRunFailure reports whether an effect's error ends the run rather than
// being a failure the model reads: a pause for client tools, a pause the
// host could not suspend, or a replay that diverged.
func isRunFailure(err error) bool {
	var pause *effect.Pause
	var suspend *effect.SuspendError
	var diverged *effect.DivergedError
	return errors.As(err, &pause) || errors.As(err, &suspend) || errors.As(err, &diverged)
}

// execute runs one call: a nested worker, a built-in reference tool, or a
// tool through Effects. A failure the model can read (bad arguments, an
// unknown tool, a tool's or a nested worker's error) is the result's
// error; the error return ends the run (cancellation, a pause, a replay
// that diverged).
func (ts *toolset) execute(ctx context.Context, call llm.ToolCall, workerID string) (effect.ToolResult, error) {
	args, err := callArgs(call.Arguments)
	if err != nil {
		return effect.ToolResult{Error: err.Error()}, nil
	}
	var value any
	switch {
	case ts.workers[call.Name] != nil:
		d := ts.workers[call.Name]
		res, err := runNested(ctx, ts.env, d, args, d.DisplayMode(), workerID)
		if err != nil {
			if ctx.Err() != nil || isRunFailure(err) {
				return effect.ToolResult{}, err
			}
			return effect.ToolResult{Error: err.Error()}, nil
		}
		return effect.ToolResult{Output: res.Output}, nil
	case ts.builtin(call.Name):
		value, err = callReferenceTool(ts.env.Protocol, ts.references, call.Name, args)
	case ts.tools[call.Name] == nil && !ts.mcp[call.Name]:
		err = fmt.Errorf("Tool %q is not available. It is not one of this thread's tools", call.Name)
	default:
		if tool := ts.tools[call.Name]; tool != nil {
			if err := ts.checkArgs(tool, args); err != nil {
				return effect.ToolResult{Error: err.Error()}, nil
			}
		}
		return ts.env.Effects.CallTool(ctx, effect.ToolRequest{Key: ts.env.key(), Name: call.Name, CallID: call.ID, Args: args})
	}
	if err != nil {
		return effect.ToolResult{Error: err.Error()}, nil
	}
	return effect.ToolResult{Output: events.RawValue(value)}, nil
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
// note in between saying what was left out. 0 means no cap. A text of at
// most budget bytes has at most budget characters: only a longer one is
// counted, and only one over the cap is cut.
func boundResult(text string, maxTokens int) string {
	budget := maxTokens * 4
	if maxTokens <= 0 || len(text) <= budget {
		return text
	}
	count := utf8.RuneCountInString(text)
	if count <= budget {
		return text
	}
	head, tail := budget*3/5, budget*2/5
	omitted := count - head - tail
	return fmt.Sprintf("%s\n\n[... %d of %d characters of this tool result were left out here to fit maxToolOutputTokens; the whole result is kept ...]\n\n%s",
		text[:runeOffset(text, head)], omitted, count, text[runeOffset(text, count-tail):])
}

// runeOffset is the byte offset of the n-th character of s (from 0).
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
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
		return nil, fmt.Errorf("the arguments must be a JSON object, got %s", protocol.DescribeValue(v))
	}
	return args, nil
}
