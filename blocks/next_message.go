package blocks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// NextMessage asks the thread's model for the next message, streaming it,
// and runs the tool loop (rule D10): while the last step asked for tools and
// fewer than maxSteps steps have run, the tools run and the model is asked
// again. The turn is appended to the thread as one assistant message; the
// output variable receives the final step's text (rule D7), or the parsed
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
		Model:             t.Config.Model,
		Messages:          t.modelMessages(),
		Tools:             tools.offered,
		Temperature:       t.Config.Temperature,
		Thinking:          t.Config.Thinking,
		MaxOutputTokens:   t.Config.MaxOutputTokens,
		MaxImageDimension: t.Config.MaxImageDimension,
	}
	if rt := d.ResponseType.Value; rt != "" {
		schema := env.Protocol.ResponseSchema(rt)
		req.ResponseFormat = &llm.ResponseFormat{Name: rt, Schema: schema, Strict: strictable(schema)}
	}
	msg := threads.Message{ID: env.State.NewID("msg"), Role: threads.RoleAssistant, Visible: true}
	var final *llm.Response
	for step := 1; ; step++ {
		msg.Parts = append(msg.Parts, threads.Part{Type: threads.PartStepStart})
		res, err := b.generate(ctx, env, tools, req, t.Config.BackupModel)
		if err != nil {
			return err
		}
		resp := &res.Response
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
		calls, err := tools.runAll(ctx, resp.ToolCalls, res.WorkerIDs, d.ThreadName)
		if err != nil {
			return err
		}
		assistant := llm.Message{Role: llm.RoleAssistant, Content: resp.Text}
		results := make([]llm.Message, 0, len(calls))
		for _, c := range calls {
			msg.Parts = append(msg.Parts, threads.Part{Type: threads.PartToolCall, ToolCall: c.part})
			assistant.ToolCalls = append(assistant.ToolCalls, c.call)
			results = append(results, llm.Message{Role: llm.RoleTool, ToolCallID: c.call.ID, Content: c.modelText})
		}
		last := step >= t.Config.MaxSteps
		if !last || req.ResponseFormat != nil {
			// The next step reads the exchange, and so would the repair
			// of a structured answer; after the last step of a text
			// answer nothing does, and the history is not copied.
			req.Messages = append(append(req.Messages, assistant), results...)
		}
		if last {
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
// parse or validate, giving it the problem (rule D14). The exchange is not kept
// in the thread; only the final answer is.
func (b *NextMessage) repair(ctx context.Context, env *Env, tools *toolset, req llm.Request, bad *llm.Response, problem error, backup string) (*llm.Response, error) {
	rt := b.def.ResponseType.Value
	req.Messages = append(req.Messages[:len(req.Messages):len(req.Messages)],
		llm.Message{Role: llm.RoleAssistant, Content: bad.Text},
		llm.Message{Role: llm.RoleUser, Content: fmt.Sprintf(
			"Your answer is not a valid %s: %s. Answer again with only the corrected JSON object, matching the schema.", rt, problemText(problem))},
	)
	res, err := b.generate(ctx, env, tools, req, backup)
	if err != nil {
		return nil, err
	}
	return &res.Response, nil
}

// generate makes one model call of the turn, streamed as events by the
// effect side, which also fails over to the thread's backupModel
// (rule §9.4) and applies the loop guard (rule D15).
func (b *NextMessage) generate(ctx context.Context, env *Env, tools *toolset, req llm.Request, backup string) (effect.GenerateResult, error) {
	// The messages go out clipped: the tool loop appends to its own slice
	// in the thread view's spare room, never to what a client was given.
	req.Messages = slices.Clip(req.Messages)
	res, err := env.Effects.Generate(ctx, effect.GenerateRequest{
		Key:         env.key(),
		Request:     req,
		BackupModel: backup,
		Stream: effect.Stream{
			Scope:        env.Events.Scope(),
			IDs:          env.ids(),
			ResponseType: b.def.ResponseType.Value,
			LoopGuard:    env.State.Threads[b.def.ThreadName].Config.LoopGuard,
			Cards:        tools.cards,
		},
	})
	if err != nil {
		return res, err
	}
	env.State.Counter = res.Counter
	env.State.Usage = env.State.Usage.Add(res.Response.Usage)
	return res, nil
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

// appendModel appends message m as the model reads it: a non-assistant
// message as one message; an assistant turn of several steps as, per step,
// an assistant message with its tool calls followed by their results, each
// capped at maxToolTokens (0: no cap).
func appendModel(out []llm.Message, m threads.Message, maxToolTokens int) []llm.Message {
	if m.Role != threads.RoleAssistant {
		return append(out, userMessage(m))
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
	return out
}

// userMessage is a non-assistant message as the model reads it: its text
// and its attached files.
func userMessage(m threads.Message) llm.Message {
	msg := llm.Message{Role: llm.Role(m.Role), Content: m.Text()}
	for _, p := range m.Parts {
		if p.Type == threads.PartFile {
			msg.Files = append(msg.Files, llm.File{URL: p.File.URL, MediaType: p.File.MediaType, Filename: p.File.Filename})
		}
	}
	return msg
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
// (rule D11).
func toolResultText(tc *threads.ToolCall) string {
	if tc.Status == threads.ToolError {
		return string(events.RawValue(map[string]string{"error": tc.Error}))
	}
	if r := bytes.TrimLeft(tc.Result, " \t\r\n"); len(r) > 0 && r[0] == '"' {
		var s string
		if json.Unmarshal(r, &s) == nil {
			return s
		}
	}
	return string(tc.Result)
}
