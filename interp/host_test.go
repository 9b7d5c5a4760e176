package interp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/interp"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// This file proves two properties a host in another process (such as a
// Temporal worker running effects as activities) relies on:
//
//  1. The interpreter is host-independent: interp.Run driven by a host
//     written here, from the package's public API alone, gives the same
//     output, usage and event stream as the in-process host (runtime.Run).
//  2. Effects are data: the host below marshals every request to JSON and
//     decodes it into a fresh value before acting on it, and does the same
//     with every result before the interpreter sees it, so nothing but what
//     the JSON carries (no shared pointer, map or slice, no unexported
//     field) crosses between the interpreter and the effect side; and each
//     request and result re-marshals to the same bytes.

// tripFiles is a folder of two agents: planner plans a trip with a server
// tool (get-weather), a client tool (ask-user) and a nested worker (titler)
// offered to its model, then runs titler again as a block, draws a cover,
// asks the user from a tool-call block and saves the plan with a server
// tool from a tool-call block.
var tripFiles = map[string]string{
	"planner/settings.json": `{"slug": "planner", "name": "Planner", "description": "Plans a trip", "format": "worker"}`,
	"planner/protocol.yaml": `input:
  CITY: { type: string }
tools:
  get-weather:
    description: The weather in a city
    parameters:
      city: { type: string }
  ask-user:
    description: Ask the user a question
    parameters:
      question: { type: string }
  save-plan:
    description: Save the plan
    display: title
    title: Saving the plan
    parameters:
      plan: { type: string }
      title: { type: string }
      cover: { type: string }
      days: { type: integer }
      budget: { type: number }
      confirmed: { type: unknown }
workers:
  titler:
    description: Titles a trip plan
variables:
  PLAN: { type: string }
  TITLE: { type: string }
  COVER: { type: string }
  CONFIRMED: { type: unknown }
  SAVED: { type: unknown }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    input: [CITY]
    tools: [get-weather, ask-user]
    workers: [titler]
    maxSteps: 3
  Plan:
    block: next-message
    output: PLAN
  Title:
    block: run-worker
    worker: titler
    input:
      SUMMARY: PLAN
    output: TITLE
  Cover:
    block: generate-image
    prompt: TITLE
    imageModel: openai/gpt-image-1
    output: COVER
    display: stream
  Confirm:
    block: tool-call
    tool: ask-user
    input:
      question: Save this plan?
    output: CONFIRMED
    display: stream
  Save:
    block: tool-call
    tool: save-plan
    input:
      plan: PLAN
      title: TITLE
      cover: COVER
      days: 3
      budget: 250.5
      confirmed: CONFIRMED
    output: SAVED
    display: stream
output: SAVED
`,
	"planner/prompts/system.md": "You plan trips to {{CITY}}. Check the weather and ask before you decide.\n",
	"titler/settings.json":      `{"slug": "titler", "name": "Titler", "format": "worker"}`,
	"titler/protocol.yaml": `input:
  SUMMARY: { type: string }
variables:
  TITLE: { type: string }
steps:
  Start:
    block: start-thread
    thread: title
    model: openai/gpt-4o-mini
    system: system
    temperature: 0.3
  Ask:
    block: add-message
    thread: title
    role: user
    prompt: request
    input: [SUMMARY]
  Answer:
    block: next-message
    thread: title
    output: TITLE
output: TITLE
`,
	"titler/prompts/system.md":  "You write short titles.\n",
	"titler/prompts/request.md": "Title this:\n\n{{SUMMARY}}\n",
}

// tripInput is the planner's input.
var tripInput = map[string]any{"CITY": "Brest"}

// tripScript answers the model and media calls of a planner run, in
// order. The first step calls a server tool, the client tool and the
// nested worker in one step; only ask-user's call has an id, so the effect
// side hands out the others' (see anonymous).
func tripScript() *llm.Script {
	return &llm.Script{Responses: []llm.ScriptResponse{
		// Plan, step 1.
		{ToolCalls: []llm.ToolCall{
			{Name: "get-weather", Arguments: `{"city": "Brest"}`},
			{ID: "c-ask", Name: "ask-user", Arguments: `{"question":"How many days?"}`},
			{Name: "titler", Arguments: `{"SUMMARY":"A rainy weekend in Brest"}`},
		}},
		// titler, called as a tool by the model.
		{Text: "Rainy Brest"},
		// Plan, step 2: the final answer.
		{Text: "Three days in Brest: boots, crêpes and the aquarium."},
		// Title: titler run as a block.
		{Text: "Brest & Three <Rainy> Days"},
		// Cover.
		{Image: &llm.Media{MediaType: "image/png", Data: []byte("\x89PNG not really")}},
	}}
}

// cannedClientResults answer the client tool ask-user (by tool name), on
// the host that waits for them. ref is beyond float64's exact integers: it
// survives only as a json.Number (it reaches save-plan's arguments).
var cannedClientResults = map[string]json.RawMessage{
	"ask-user": json.RawMessage(`{"answer": "yes", "days": 3, "ref": 9007199254740993}`),
}

// serverTools are the handlers of the server tools, the same Go functions
// on both hosts. The weather's sky (like the title the script gives) holds
// characters json.Marshal escapes ("&" becomes \u0026 in a RawMessage that
// crosses): the interpreter writes every value it receives its own way, so
// the events do not show how a result was formatted in transit.
func serverTools() map[string]runtime.ToolHandler {
	return map[string]runtime.ToolHandler{
		"get-weather": func(_ context.Context, args map[string]any) (any, error) {
			return map[string]any{"city": args["city"], "tempC": 12.5, "rain": true, "sky": "rain & wind <heavy>"}, nil
		},
		"save-plan": func(_ context.Context, args map[string]any) (any, error) {
			saved := map[string]any{"id": "plan-1"}
			for k, v := range args {
				saved[k] = v
			}
			return saved, nil
		},
	}
}

// anonymous is the scripted model with the ids the script leaves out
// really left out: the scripted client fills in call_<n> for a call
// without an id (llm.Script.ToolCallID), so this wrapper blanks those
// again, and the effect side must hand out the ids itself from the ids
// the request carries (effect.Stream.IDs) and report its counter back.
type anonymous struct{ *llm.Scripted }

func (a anonymous) Generate(ctx context.Context, req llm.Request, onDelta func(llm.Delta) error) (*llm.Response, error) {
	blank := func(id string) string {
		if strings.HasPrefix(id, "call_") {
			return ""
		}
		return id
	}
	resp, err := a.Scripted.Generate(ctx, req, func(d llm.Delta) error {
		d.ToolID = blank(d.ToolID)
		return onDelta(d)
	})
	if resp != nil {
		for i := range resp.ToolCalls {
			resp.ToolCalls[i].ID = blank(resp.ToolCalls[i].ID)
		}
	}
	return resp, err
}

// wireHost implements effect.Effects as a host whose effects run in
// another process would: every request and every result crosses JSON.
// Generations run with effect.Generate, server tools with effect.RunTool,
// media with effect.RunMedia, nested workers with interp.Run on a child
// host; client tools are awaited in place from canned results (as a
// Temporal workflow waits for a signal) instead of pausing.
type wireHost struct {
	t        *testing.T
	protocol *protocol.Protocol
	client   anonymous
	// em carries the events of effect executors and nested runs; they emit
	// at the scope their request carries, so the root emitter serves all.
	em       *events.Emitter
	handlers map[string]runtime.ToolHandler
	canned   map[string]json.RawMessage
	seen     *seen
}

// seen is what crossed the wire during a run, shared by nested hosts.
type seen struct {
	kinds map[effect.Kind]int
	keys  []effect.Key
	// scopes are the scopes requests carried, as they arrived.
	scopes []events.Scope
}

// cross sends v through JSON as a process boundary would and returns the
// fresh value decoded on the other side (numbers as json.Number, as every
// decoder of octrun uses). It fails the test when the value does not
// survive: when marshalling the decoded value does not give the same bytes.
func cross[T any](t *testing.T, what string, v T) T {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Errorf("%s does not marshal: %v", what, err)
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var back T
	if err := dec.Decode(&back); err != nil {
		t.Errorf("%s does not unmarshal: %v\n%s", what, err, data)
		return v
	}
	again, err := json.Marshal(back)
	if err != nil || !bytes.Equal(data, again) {
		t.Errorf("%s does not survive JSON (err %v):\nsent:     %s\nreceived: %s", what, err, data, again)
	}
	return back
}

// request crosses a request to the effect side and records its kind and
// key.
func request[T any](h *wireHost, kind effect.Kind, key func(T) effect.Key, req T) T {
	req = cross(h.t, string(kind)+" request", req)
	h.seen.kinds[kind]++
	h.seen.keys = append(h.seen.keys, key(req))
	return req
}

// result crosses a result back to the interpreter.
func result[T any](h *wireHost, kind effect.Kind, res T, err error) (T, error) {
	if err != nil {
		return res, err // errors are not data; a real host maps them to its own failures
	}
	return cross(h.t, string(kind)+" result", res), nil
}

func (h *wireHost) Generate(ctx context.Context, req effect.GenerateRequest) (effect.GenerateResult, error) {
	req = request(h, effect.KindGenerate, func(r effect.GenerateRequest) effect.Key { return r.Key }, req)
	h.seen.scopes = append(h.seen.scopes, req.Stream.Scope)
	res, err := effect.Generate(ctx, h.client, req, h.em)
	return result(h, effect.KindGenerate, res, err)
}

func (h *wireHost) CallTool(ctx context.Context, req effect.ToolRequest) (effect.ToolResult, error) {
	req = request(h, effect.KindTool, func(r effect.ToolRequest) effect.Key { return r.Key }, req)
	handler := h.handlers[req.Name]
	if handler == nil {
		return result(h, effect.KindTool, effect.ToolResult{Client: true}, nil)
	}
	res, err := effect.RunTool(ctx, "exec", req, handler)
	return result(h, effect.KindTool, res, err)
}

func (h *wireHost) ListMCPTools(ctx context.Context, req effect.MCPListRequest) (effect.MCPListResult, error) {
	req = request(h, effect.KindMCPList, func(r effect.MCPListRequest) effect.Key { return r.Key }, req)
	return effect.MCPListResult{}, fmt.Errorf("this host has no MCP server %q", req.Namespace)
}

func (h *wireHost) Media(ctx context.Context, req effect.MediaRequest) (effect.MediaResult, error) {
	req = request(h, effect.KindMedia, func(r effect.MediaRequest) effect.Key { return r.Key }, req)
	res, err := effect.RunMedia(ctx, h.client, req)
	return result(h, effect.KindMedia, res, err)
}

// RunWorker runs the nested worker on a child host, at the scope the
// request carries. (The protocol maps no tool names for its worker, so
// the child calls the same handlers.)
func (h *wireHost) RunWorker(ctx context.Context, req effect.WorkerRequest) (effect.WorkerResult, error) {
	req = request(h, effect.KindWorker, func(r effect.WorkerRequest) effect.Key { return r.Key }, req)
	h.seen.scopes = append(h.seen.scopes, req.Scope)
	decl := h.protocol.Worker(req.Slug)
	if decl == nil {
		return effect.WorkerResult{}, fmt.Errorf("no worker %q", req.Slug)
	}
	child := *h
	child.protocol = decl.Protocol
	out, err := interp.Run(ctx, &child, h.em.At(req.Scope), interp.Worker{
		Protocol: decl.Protocol, ID: req.WorkerID, Slug: decl.Slug.Value, Description: req.Label, Nested: true, Input: req.Input,
	})
	res := effect.WorkerResult{HasOutput: out.HasOutput, Usage: out.Usage}
	if err == nil && out.HasOutput {
		res.Output = events.RawValue(out.Output)
	}
	return result(h, effect.KindWorker, res, err)
}

// AwaitToolResults waits in place: it answers from the canned results.
func (h *wireHost) AwaitToolResults(ctx context.Context, req effect.AwaitRequest) (effect.AwaitResult, error) {
	req = request(h, effect.KindAwait, func(r effect.AwaitRequest) effect.Key { return r.Key }, req)
	var res effect.AwaitResult
	for _, c := range req.Calls {
		canned, ok := h.canned[c.ToolName]
		if !ok {
			return res, fmt.Errorf("no result for client tool %q", c.ToolName)
		}
		res.Results = append(res.Results, events.ToolResult{ToolCallID: c.ToolCallID, ToolName: c.ToolName, Result: canned})
	}
	return result(h, effect.KindAwait, res, nil)
}

// wireRun runs the planner on the wire host as a top-level run: start,
// the worker's events, then the end (interp.End), as runtime streams a
// run. Events are routed as a consumer sees them, each with the scope it
// was emitted at sent through JSON first: where an event goes is decided
// from data alone.
func wireRun(t *testing.T, p *protocol.Protocol, id string, client anonymous) (interp.Outcome, []events.Event, *seen) {
	var got []events.Event
	em := events.NewEmitter(func(s events.Scope, ev events.Event) {
		s = cross(t, "event scope", s)
		if ev, ok := events.Route(s, ev, false); ok {
			got = append(got, ev)
		}
	})
	host := &wireHost{
		t: t, protocol: p, client: client, em: em, handlers: serverTools(), canned: cannedClientResults,
		seen: &seen{kinds: map[effect.Kind]int{}},
	}
	ctx := context.Background()
	input := cross(t, "run input", tripInput)
	em.Emit(events.Start{ExecutionID: id})
	out, err := interp.Run(ctx, host, em, interp.Worker{
		Protocol: p, ID: id, Slug: p.Settings.Slug.Value, Description: p.Settings.Description.Value, Input: input,
	})
	require.NoError(t, err)
	require.Nil(t, interp.End(ctx, em, id, out.Usage, err))
	return out, got, host.seen
}

// runtimeRun runs the planner on the in-process host. ask-user, a client
// tool, gets a handler here that returns the canned result: the in-process
// host would pause for it instead.
func runtimeRun(t *testing.T, p *protocol.Protocol, id string, client anonymous) (*runtime.Result, []events.Event) {
	var got []events.Event
	opts := []runtime.Option{
		runtime.WithLLM(client), runtime.WithExecutionID(id), runtime.WithStore(runtime.NewMemoryStore()),
		runtime.WithEventObserver(func(r events.Record) { got = append(got, r.Event) }),
		runtime.WithTool("ask-user", func(context.Context, map[string]any) (any, error) {
			return events.DecodeValue(cannedClientResults["ask-user"])
		}),
	}
	for name, h := range serverTools() {
		opts = append(opts, runtime.WithTool(name, h))
	}
	res, err := runtime.Run(context.Background(), p, tripInput, opts...)
	require.NoError(t, err)
	return res, got
}

func loadTrip(t *testing.T) *protocol.Protocol {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range tripFiles {
		fsys[name] = &fstest.MapFile{Data: []byte(text), Mode: 0o644}
	}
	p, err := protocol.LoadFS(fsys, "planner")
	require.NoError(t, err)
	require.False(t, p.Diagnostics.HasErrors(), "%v", p.Diagnostics)
	require.NotNil(t, p.Worker("titler").Protocol)
	return p
}

// The interpreter driven by a host whose effects all cross JSON produces
// what the in-process host produces: the same output, usage and events.
func TestInterpreterOnAHostAcrossJSON(t *testing.T) {
	p := loadTrip(t)
	const id = "exec-wire"

	wireClient := anonymous{llm.NewScripted(tripScript())}
	out, got, seen := wireRun(t, p, id, wireClient)
	rtClient := anonymous{llm.NewScripted(tripScript())}
	res, want := runtimeRun(t, p, id, rtClient)

	// The same output and usage, down to the JSON.
	require.True(t, out.HasOutput)
	assert.Equal(t, res.Output, out.Output)
	assert.Equal(t, string(events.RawValue(res.Output)), string(events.RawValue(out.Output)))
	assert.Equal(t, res.Usage, out.Usage)
	assert.JSONEq(t, `{"id": "plan-1", "plan": "Three days in Brest: boots, crêpes and the aquarium.",
		"title": "Brest & Three <Rainy> Days", "cover": "data:image/png;base64,iVBORyBub3QgcmVhbGx5",
		"days": 3, "budget": 250.5, "confirmed": {"answer": "yes", "days": 3, "ref": 9007199254740993}}`, string(events.RawValue(out.Output)))

	// Every effect kind the protocol needs crossed the wire, each with its
	// own key: a durable host can name (and journal) effects by key.
	assert.Equal(t, map[effect.Kind]int{
		effect.KindGenerate: 4, // Plan ×2, titler as a tool, titler as a block
		effect.KindTool:     4, // get-weather, ask-user (client), ask-user (Confirm, client), save-plan
		effect.KindAwait:    2, // ask-user in the model step, ask-user in Confirm
		effect.KindWorker:   2, // titler as a tool, titler as a block
		effect.KindMedia:    1, // Cover
	}, seen.kinds)
	keyIDs := map[string]bool{}
	for _, k := range seen.keys {
		assert.False(t, keyIDs[k.ID], "effect key %s is used twice", k.ID)
		keyIDs[k.ID] = true
	}
	// The scopes travelled with the requests: the nested runs' generations
	// carry their worker in their scope.
	var nested int
	for _, s := range seen.scopes {
		if len(s.Workers) > 0 {
			nested++
		}
	}
	assert.Equal(t, 4, nested, "the two titler runs and their two generations: %v", seen.scopes)

	// Both models saw the same conversations, but for the order of one
	// step's tool calls (see clientAfterServerTools).
	wireReqs, rtReqs := wireClient.Requests(), rtClient.Requests()
	require.Len(t, wireReqs, 4)
	assert.Equal(t, jsonOf(t, rtReqs[:2]), jsonOf(t, wireReqs[:2]))
	assert.Equal(t, jsonOf(t, rtReqs[3:]), jsonOf(t, wireReqs[3:]))
	assert.Equal(t, []string{"get-weather", "ask-user", "titler"}, callOrder(rtReqs[2]))
	assert.Equal(t, []string{"get-weather", "titler", "ask-user"}, callOrder(wireReqs[2]))
	assert.Equal(t, jsonLines(t, wireClient.MediaCalls()), jsonLines(t, rtClient.MediaCalls()))

	// The same events, but for where the client tool's output shows.
	want = clientAfterServerTools(t, want, "c-ask", id+"-worker")
	assert.Equal(t, wireLines(t, want), wireLines(t, got))

	// The events are not trivially equal: the ids the effect side handed
	// out for calls without one, the nested worker's tagged events and the
	// awaited result are all there.
	lines := wireLines(t, got)
	for _, prefix := range []string{
		`{"type":"tool-input-start","toolCallId":"exec-wire-call`,
		`{"type":"tool-output-available","toolCallId":"c-ask","output":{"answer":"yes","days":3,"ref":9007199254740993}}`,
		`{"type":"worker-input-ready","workerId":"exec-wire-worker`,
		`{"type":"text-delta","id":"exec-wire-worker`,
		`{"type":"file-available"`,
		`{"type":"finish","finishReason":"stop","executionId":"exec-wire"}`,
	} {
		assert.True(t, slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) }), "no event starts with %s", prefix)
	}
}

// clientAfterServerTools moves, in the in-process host's events, the
// output of client tool call callID to after the last event of the model
// step's other calls, which end with the nested worker's worker-result
// (workerPrefix names the worker id). That is the one known difference:
// the in-process host here runs ask-user as a server tool (it has a
// handler), in the order the model called it, while the calls of a client
// tool are awaited together after the step's other calls ran, and their
// outcomes follow the others' (blocks.toolset.runAll). It is the rule of
// client tools on any host, the pausing in-process host included, not a
// difference of hosts; the model's next request lists the calls in that
// order too.
func clientAfterServerTools(t *testing.T, evs []events.Event, callID, workerPrefix string) []events.Event {
	t.Helper()
	from := slices.IndexFunc(evs, func(ev events.Event) bool {
		out, ok := ev.(events.ToolOutputAvailable)
		return ok && out.ToolCallID == callID
	})
	require.GreaterOrEqual(t, from, 0, "no output of %s", callID)
	moved := evs[from]
	evs = slices.Delete(slices.Clone(evs), from, from+1)
	after := slices.IndexFunc(evs[from:], func(ev events.Event) bool {
		r, ok := ev.(events.WorkerResult)
		return ok && strings.HasPrefix(r.WorkerID, workerPrefix)
	})
	require.GreaterOrEqual(t, after, 0, "no worker-result after the output of %s", callID)
	return slices.Insert(evs, from+after+1, moved)
}

// callOrder names the tool calls of the last assistant message of a model
// request.
func callOrder(req llm.Request) []string {
	var names []string
	for _, m := range req.Messages {
		if m.Role == llm.RoleAssistant && len(m.ToolCalls) > 0 {
			names = names[:0]
			for _, c := range m.ToolCalls {
				names = append(names, c.Name)
			}
		}
	}
	return names
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// jsonLines is each element as JSON, for readable diffs.
func jsonLines[T any](t *testing.T, vs []T) []string {
	t.Helper()
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = jsonOf(t, v)
	}
	return lines
}

// wireLines is each event in its wire form, byte for byte as a consumer
// reads it (json.Marshal would HTML-escape it again, hiding differences).
func wireLines(t *testing.T, evs []events.Event) []string {
	t.Helper()
	lines := make([]string, len(evs))
	for i, ev := range evs {
		data, err := ev.MarshalJSON()
		require.NoError(t, err)
		lines[i] = string(data)
	}
	return lines
}
