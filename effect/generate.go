package effect

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
)

// Generate runs a generation on the effect side: it calls the model,
// turning its streamed fragments into events emitted at the request's
// scope (through em's target), stops a runaway repetition when the loop
// guard is on (the answer is trimmed to one occurrence and ends with
// finishReason length, rule D15), and tries the backup model once
// for a transient failure before anything streamed (rule §9.4;
// when the backup fails too, the original error stands). Every host runs
// this same function, so a generation shows the same wherever it runs.
func Generate(ctx context.Context, client llm.Client, req GenerateRequest, em *events.Emitter) (GenerateResult, error) {
	s := newStream(req.Stream, em)
	calls := 1
	resp, err := s.generate(ctx, client, req.Request)
	if err != nil && req.BackupModel != "" && !s.streamed && transient(err) && ctx.Err() == nil {
		backup := req.Request
		backup.Model = req.BackupModel
		calls++
		if backupResp, backupErr := s.generate(ctx, client, backup); backupErr == nil {
			resp, err = backupResp, nil
		}
	}
	s.close(resp)
	if err != nil {
		return GenerateResult{}, err
	}
	return GenerateResult{Response: *resp, WorkerIDs: s.workerIDs(len(resp.ToolCalls)), Counter: s.ids.Counter, ModelCalls: calls}, nil
}

// transient reports whether a model error may pass on another model: a
// rate limit, an outage, a timeout — not a bad key or a bad request.
func transient(err error) bool {
	var e *llm.Error
	return errors.As(err, &e) && e.Retryable
}

// stream turns the fragments of one model step into events: text and
// reasoning parts, and per tool call a card or, for a stream-mode worker,
// worker-input events.
type stream struct {
	spec Stream
	em   *events.Emitter
	ids  IDs

	textID, reasoningID string
	// streamed is true once any fragment arrived.
	streamed bool
	// text is the text so far, watched by the loop guard; loopCut is where
	// a runaway was cut.
	text    strings.Builder
	loopCut int
	// calls are the tool calls by index, as first seen.
	calls map[int]*callState
}

// callState is what the stream knows of one tool call.
type callState struct {
	id, name, workerID string
	card               Card
}

func newStream(spec Stream, em *events.Emitter) *stream {
	return &stream{spec: spec, em: em.At(spec.Scope), ids: spec.IDs, calls: map[int]*callState{}}
}

// generate makes one model call; a runaway stopped by the loop guard is a
// trimmed response, not an error.
func (s *stream) generate(ctx context.Context, client llm.Client, req llm.Request) (*llm.Response, error) {
	resp, err := client.Generate(ctx, req, s.onDelta)
	if errors.Is(err, errLoopGuard) && ctx.Err() == nil {
		return &llm.Response{Text: s.text.String()[:s.loopCut], FinishReason: "length"}, nil
	}
	return resp, err
}

func (s *stream) onDelta(d llm.Delta) error {
	s.streamed = true
	switch d.Kind {
	case llm.TextDelta:
		if s.textID == "" {
			s.endReasoning()
			s.textID = s.ids.New("text")
			s.em.Emit(events.TextStart{ID: s.textID, ResponseType: s.spec.ResponseType})
		}
		s.em.Emit(events.TextDelta{ID: s.textID, Delta: d.Text})
		if s.spec.LoopGuard {
			s.text.WriteString(d.Text)
			if cut, found := runaway(s.text.String()); found {
				s.loopCut = cut
				return errLoopGuard
			}
		}
	case llm.ReasoningDelta:
		if s.reasoningID == "" {
			s.reasoningID = s.ids.New("reasoning")
			s.em.Emit(events.ReasoningStart{ID: s.reasoningID})
		}
		s.em.Emit(events.ReasoningDelta{ID: s.reasoningID, Delta: d.Text})
	case llm.ToolCallStart:
		s.endText()
		s.endReasoning()
		s.startCall(d.ToolIndex, d.ToolID, d.ToolName)
	case llm.ToolCallArgs:
		if c, ok := s.calls[d.ToolIndex]; ok {
			if c.workerID != "" {
				s.em.Emit(events.WorkerInputDelta{WorkerID: c.workerID, Delta: d.Text})
			} else {
				s.em.EmitTool(c.card.Display, events.ToolInputDelta{ToolCallID: c.id, InputTextDelta: d.Text})
			}
		}
	}
	return nil
}

// startCall opens the events of tool call i, giving it an id when the
// model sent none, or one that another call of the step has (some
// OpenAI-compatible servers repeat ids): a call's results are matched to
// it by id.
func (s *stream) startCall(i int, id, name string) *callState {
	for id == "" || s.taken(id) {
		id = s.ids.New("call")
	}
	card, ok := s.spec.Cards[name]
	if !ok {
		card = Card{Display: events.DisplayDescription}
	}
	c := &callState{id: id, name: name, card: card}
	s.calls[i] = c
	if card.WorkerInput {
		c.workerID = s.ids.New("worker")
		s.em.Emit(events.WorkerInputStart{WorkerID: c.workerID, WorkerSlug: name, Description: card.Description})
	} else {
		s.em.EmitTool(card.Display, events.ToolInputStart{ToolCallID: id, ToolName: name, Title: card.Title, Display: card.Display})
	}
	return c
}

// taken reports whether a call of the step already has id.
func (s *stream) taken(id string) bool {
	for _, c := range s.calls {
		if c.id == id {
			return true
		}
	}
	return false
}

func (s *stream) endText() {
	if s.textID != "" {
		s.em.Emit(events.TextEnd{ID: s.textID})
		s.textID = ""
	}
}

func (s *stream) endReasoning() {
	if s.reasoningID != "" {
		s.em.Emit(events.ReasoningEnd{ID: s.reasoningID})
		s.reasoningID = ""
	}
}

// close ends the open parts; with a response, it also ends the arguments
// of every tool call and gives each call its final id.
func (s *stream) close(resp *llm.Response) {
	s.endText()
	s.endReasoning()
	if resp == nil {
		return
	}
	for i := range resp.ToolCalls {
		call := &resp.ToolCalls[i]
		c, ok := s.calls[i]
		if !ok {
			c = s.startCall(i, call.ID, call.Name)
		}
		call.ID = c.id
		args := ArgsJSON(call.Arguments)
		if c.workerID != "" {
			s.em.Emit(events.WorkerInputReady{WorkerID: c.workerID, Input: args})
			continue
		}
		s.em.EmitTool(c.card.Display, events.ToolInputEnd{ToolCallID: c.id})
		s.em.EmitTool(c.card.Display, events.ToolInputAvailable{ToolCallID: c.id, ToolName: call.Name, Input: args})
	}
}

// workerIDs lists the worker id of each of n tool calls.
func (s *stream) workerIDs(n int) []string {
	var ids []string
	for i := range n {
		if c := s.calls[i]; c != nil && c.workerID != "" {
			if ids == nil {
				ids = make([]string, n)
			}
			ids[i] = c.workerID
		}
	}
	return ids
}

// ArgsJSON is a model's tool arguments as valid JSON: {} when empty, a
// JSON string of the text when the model wrote something that is not JSON.
func ArgsJSON(args string) json.RawMessage {
	if strings.TrimSpace(args) == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(args)) {
		return json.RawMessage(args)
	}
	return events.RawValue(args)
}
