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

// NextMessage asks the thread's model for the next message, streaming it,
// and runs the tool loop (D10): while the last step asked for tools and
// fewer than maxSteps steps have run, the tools run and the model is asked
// again. The turn is appended to the thread as one assistant message; the
// output variable receives the final step's text (D7), or the parsed
// object when responseType is set.
type NextMessage struct {
	def *protocol.NextMessage
}

// Run implements Block.
func (b *NextMessage) Run(ctx context.Context, env *Env) error {
	d := b.def
	t := env.State.Threads[d.ThreadName]
	tools, err := newToolset(ctx, env, t.Config)
	if err != nil {
		return err
	}
	req := llm.Request{
		Model:           t.Config.Model,
		Messages:        toLLM(&t.Thread, t.Config.MaxToolOutputTokens),
		Tools:           tools.offered,
		Temperature:     t.Config.Temperature,
		Thinking:        t.Config.Thinking,
		MaxOutputTokens: t.Config.MaxOutputTokens,
	}
	if rt := d.ResponseType.Value; rt != "" {
		schema := env.Protocol.ResponseSchema(rt)
		req.ResponseFormat = &llm.ResponseFormat{Name: rt, Schema: schema, Strict: strictable(schema)}
	}
	msg := threads.Message{ID: env.State.NewID("msg"), Role: threads.RoleAssistant, Visible: true}
	var final *llm.Response
	for step := 1; ; step++ {
		msg.Parts = append(msg.Parts, threads.Part{Type: threads.PartStepStart})
		resp, s, err := b.generate(ctx, env, tools, req, t.Config.BackupModel)
		if err != nil {
			return err
		}
		final = resp
		if resp.Reasoning != "" {
			msg.Parts = append(msg.Parts, threads.Part{Type: threads.PartReasoning, Text: resp.Reasoning})
		}
		if resp.Text != "" && req.ResponseFormat == nil {
			msg.Parts = append(msg.Parts, threads.Part{Type: threads.PartText, Text: resp.Text})
		}
		if len(resp.ToolCalls) == 0 {
			break
		}
		assistant := llm.Message{Role: llm.RoleAssistant, Content: resp.Text}
		var results []llm.Message
		var pending []events.PendingToolCall
		for _, i := range tools.serverFirst(resp.ToolCalls) {
			call := resp.ToolCalls[i]
			call.ID = s.callID(i, call)
			part, result, err := tools.run(ctx, call, s.workerIDs[i])
			if errors.Is(err, ErrClientTool) {
				pending = append(pending, events.PendingToolCall{
					ToolCallID: call.ID, ToolName: call.Name, Args: argsJSON(call.Arguments),
					Source: events.ToolSourceLLM, Thread: d.ThreadName, WorkerID: env.WorkerID,
				})
				continue
			}
			if err != nil {
				return err
			}
			msg.Parts = append(msg.Parts, threads.Part{Type: threads.PartToolCall, ToolCall: part})
			assistant.ToolCalls = append(assistant.ToolCalls, call)
			results = append(results, llm.Message{Role: llm.RoleTool, ToolCallID: call.ID, Content: result})
		}
		if len(pending) > 0 {
			return &Pause{Calls: pending}
		}
		req.Messages = append(append(req.Messages, assistant), results...)
		if step >= t.Config.MaxSteps {
			break
		}
	}
	output, err := b.output(env, &msg, final)
	if err != nil && req.ResponseFormat != nil {
		final, err = b.repair(ctx, env, tools, req, final, err, t.Config.BackupModel)
		if err == nil {
			output, err = b.output(env, &msg, final)
			var e *Error
			if errors.As(err, &e) {
				e.Message += " (after one repair attempt)"
			}
		}
	}
	t.Append(msg)
	if err != nil {
		return err
	}
	if d.Output.IsSet() {
		env.State.Values[d.Output.Value] = output
	}
	return nil
}

// repair asks the model once more for a structured answer that failed to
// parse or validate, giving it the problem (D14). The exchange is not kept
// in the thread; only the final answer is.
func (b *NextMessage) repair(ctx context.Context, env *Env, tools *toolset, req llm.Request, bad *llm.Response, problem error, backup string) (*llm.Response, error) {
	rt := b.def.ResponseType.Value
	req.Messages = append(req.Messages[:len(req.Messages):len(req.Messages)],
		llm.Message{Role: llm.RoleAssistant, Content: bad.Text},
		llm.Message{Role: llm.RoleUser, Content: fmt.Sprintf(
			"Your answer is not a valid %s: %s. Answer again with only the corrected JSON object, matching the schema.", rt, problemText(problem))},
	)
	resp, _, err := b.generate(ctx, env, tools, req, backup)
	return resp, err
}

// generate makes one model call of the turn, streaming it as events. A
// transient failure before anything was streamed is tried once more on the
// thread's backupModel (PROTOCOL.md 9.4); when the backup fails too, the
// original error stands.
func (b *NextMessage) generate(ctx context.Context, env *Env, tools *toolset, req llm.Request, backup string) (*llm.Response, *stepStream, error) {
	s := &stepStream{env: env, tools: tools, responseType: b.def.ResponseType.Value, loopGuard: env.State.Threads[b.def.ThreadName].Config.LoopGuard}
	resp, err := env.Effects.Generate(ctx, req, s.onDelta)
	if errors.Is(err, errLoopGuard) {
		// D15: the runaway tail is trimmed and the step ends as if the
		// output cap was hit.
		resp, err = &llm.Response{Text: s.text.String()[:s.loopCut], FinishReason: "length"}, nil
	}
	if err != nil && backup != "" && !s.streamed && transient(err) && ctx.Err() == nil {
		req.Model = backup
		if backupResp, backupErr := env.Effects.Generate(ctx, req, s.onDelta); backupErr == nil {
			resp, err = backupResp, nil
		}
	}
	s.close(resp)
	if err != nil {
		return nil, s, err
	}
	env.State.Usage = env.State.Usage.Add(resp.Usage)
	return resp, s, nil
}

// transient reports whether a model error may pass on another model: a
// rate limit, an outage, a timeout — not a bad key or a bad request.
func transient(err error) bool {
	var e *llm.Error
	return errors.As(err, &e) && e.Retryable
}

// problemText is the part of an output error the model needs.
func problemText(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		return e.Err.Error()
	}
	return err.Error()
}

// strictable reports whether a schema can be sent with strict: true, which
// (at OpenAI) needs every property of every object to be required.
func strictable(schema any) bool {
	switch s := schema.(type) {
	case map[string]any:
		if props, ok := s["properties"].(map[string]any); ok && countOf(s["required"]) != len(props) {
			return false
		}
		for _, v := range s {
			if !strictable(v) {
				return false
			}
		}
	case []any:
		for _, v := range s {
			if !strictable(v) {
				return false
			}
		}
	}
	return true
}

// countOf is the length of a JSON Schema list, however it is typed.
func countOf(v any) int {
	switch l := v.(type) {
	case []any:
		return len(l)
	case []string:
		return len(l)
	}
	return 0
}

// output returns the turn's result: the final step's text, or with a
// responseType the parsed and validated object, which is also stored on
// the message as an object part.
func (b *NextMessage) output(env *Env, msg *threads.Message, final *llm.Response) (any, error) {
	rt := b.def.ResponseType.Value
	if rt == "" {
		return msg.FinalStepText(), nil
	}
	value, err := events.DecodeValue([]byte(final.Text))
	if err != nil {
		e := executionError("block %q: the model's answer is not the JSON of %s: %v", env.Step.Name.Value, rt, err)
		e.Err = fmt.Errorf("it is not JSON (%v)", err)
		return nil, e
	}
	validator, err := env.Protocol.Validator(rt)
	if err != nil {
		return nil, executionError("block %q: %v", env.Step.Name.Value, err)
	}
	if problems := validator.Validate(value); len(problems) > 0 {
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.String())
		}
		e := executionError("block %q: the model's answer does not match %s: %s", env.Step.Name.Value, rt, strings.Join(msgs, "; "))
		e.Err = errors.New(strings.Join(msgs, "; "))
		return nil, e
	}
	msg.Parts = append(msg.Parts, threads.Part{Type: threads.PartObject, Object: &threads.Object{TypeName: rt, Value: events.RawValue(value)}})
	return value, nil
}

// stepStream turns the fragments of one model step into events: text and
// reasoning parts, and a tool card per tool call.
type stepStream struct {
	env          *Env
	tools        *toolset
	responseType string

	textID, reasoningID string
	// streamed is true once any fragment reached the events.
	streamed bool
	// loopGuard watches the text for a runaway repetition (D15); text is
	// the text so far and loopCut where a runaway was cut.
	loopGuard bool
	text      strings.Builder
	loopCut   int
	// ids and workerIDs of the tool calls by index, as first seen.
	ids       map[int]string
	names     map[int]string
	workerIDs map[int]string
}

func (s *stepStream) onDelta(d llm.Delta) error {
	s.streamed = true
	ev := s.env.Events
	switch d.Kind {
	case llm.TextDelta:
		if s.textID == "" {
			s.endReasoning()
			s.textID = s.env.State.NewID("text")
			ev.Emit(events.TextStart{ID: s.textID, ResponseType: s.responseType})
		}
		ev.Emit(events.TextDelta{ID: s.textID, Delta: d.Text})
		if s.loopGuard {
			s.text.WriteString(d.Text)
			if cut, found := runaway(s.text.String()); found {
				s.loopCut = cut
				return errLoopGuard
			}
		}
	case llm.ReasoningDelta:
		if s.reasoningID == "" {
			s.reasoningID = s.env.State.NewID("reasoning")
			ev.Emit(events.ReasoningStart{ID: s.reasoningID})
		}
		ev.Emit(events.ReasoningDelta{ID: s.reasoningID, Delta: d.Text})
	case llm.ToolCallStart:
		s.endText()
		s.endReasoning()
		if s.ids == nil {
			s.ids, s.names, s.workerIDs = map[int]string{}, map[int]string{}, map[int]string{}
		}
		id := d.ToolID
		if id == "" {
			id = s.env.State.NewID("call")
		}
		s.ids[d.ToolIndex], s.names[d.ToolIndex] = id, d.ToolName
		s.workerIDs[d.ToolIndex] = s.tools.startCall(id, d.ToolName)
	case llm.ToolCallArgs:
		if id, ok := s.ids[d.ToolIndex]; ok {
			s.tools.argsDelta(id, s.names[d.ToolIndex], s.workerIDs[d.ToolIndex], d.Text)
		}
	}
	return s.env.Events.Err()
}

func (s *stepStream) endText() {
	if s.textID != "" {
		s.env.Events.Emit(events.TextEnd{ID: s.textID})
		s.textID = ""
	}
}

func (s *stepStream) endReasoning() {
	if s.reasoningID != "" {
		s.env.Events.Emit(events.ReasoningEnd{ID: s.reasoningID})
		s.reasoningID = ""
	}
}

// close ends the open parts; with a response, it also ends the arguments
// of every tool call.
func (s *stepStream) close(resp *llm.Response) {
	s.endText()
	s.endReasoning()
	if resp == nil {
		return
	}
	for i, call := range resp.ToolCalls {
		id := s.callID(i, call)
		s.tools.endArgs(id, call.Name, s.workerIDs[i], call.Arguments)
	}
}

// callID is the id of tool call i: the one seen while streaming, the
// model's, or a new one.
func (s *stepStream) callID(i int, call llm.ToolCall) string {
	if id, ok := s.ids[i]; ok {
		return id
	}
	if s.ids == nil {
		s.ids, s.names, s.workerIDs = map[int]string{}, map[int]string{}, map[int]string{}
	}
	id := call.ID
	if id == "" {
		id = s.env.State.NewID("call")
	}
	s.ids[i], s.names[i] = id, call.Name
	s.workerIDs[i] = s.tools.startCall(id, call.Name)
	return id
}

// toLLM converts a thread into the messages of a model request: the system
// prompt, then each message; an assistant turn of several steps becomes, per
// step, an assistant message with its tool calls followed by their results,
// each capped at maxToolTokens (0: no cap).
func toLLM(t *threads.Thread, maxToolTokens int) []llm.Message {
	out := []llm.Message{{Role: llm.RoleSystem, Content: t.System}}
	for _, m := range t.Messages {
		if m.Role != threads.RoleAssistant {
			out = append(out, llm.Message{Role: llm.Role(m.Role), Content: userContent(m)})
			continue
		}
		var cur *llm.Message
		var results []llm.Message
		flush := func() {
			if cur != nil && (cur.Content != "" || len(cur.ToolCalls) > 0) {
				out = append(append(out, *cur), results...)
			}
			cur, results = &llm.Message{Role: llm.RoleAssistant}, nil
		}
		flush()
		for _, p := range m.Parts {
			switch p.Type {
			case threads.PartStepStart:
				flush()
			case threads.PartText:
				cur.Content = joinNonEmpty(cur.Content, p.Text)
			case threads.PartObject:
				cur.Content = joinNonEmpty(cur.Content, string(p.Object.Value))
			case threads.PartToolCall:
				tc := p.ToolCall
				cur.ToolCalls = append(cur.ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: string(tc.Arguments)})
				results = append(results, llm.Message{Role: llm.RoleTool, ToolCallID: tc.ID, Content: boundResult(toolResultText(tc), maxToolTokens)})
			}
		}
		flush()
	}
	return out
}

// userContent is the text of a non-assistant message, with attached files
// named so the model knows of them.
func userContent(m threads.Message) string {
	text := m.Text()
	for _, p := range m.Parts {
		if p.Type == threads.PartFile {
			text = joinNonEmpty(text, fmt.Sprintf("[attached file %s (%s): %s]", p.File.Filename, p.File.MediaType, p.File.URL))
		}
	}
	return text
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n\n" + b
}

// toolResultText is what the model reads of a tool call's outcome: a string
// result as it is, any other result as JSON, a failure as {"error": ...}
// (D11).
func toolResultText(tc *threads.ToolCall) string {
	if tc.Status == threads.ToolError {
		return string(events.RawValue(map[string]string{"error": tc.Error}))
	}
	var s string
	if json.Unmarshal(tc.Result, &s) == nil {
		return s
	}
	return string(tc.Result)
}
