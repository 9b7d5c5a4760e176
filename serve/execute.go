package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/jsonmsg"
	"github.com/octrun/octrun/interp"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// executeRequest is the body of POST /api/agents/{agentId}/execute.
type executeRequest struct {
	Type               string              `json:"type"`
	Input              json.RawMessage     `json:"input"`
	DynamicToolSchemas []toolSchema        `json:"dynamicToolSchemas"`
	ExecutionID        string              `json:"executionId"`
	ToolResults        []events.ToolResult `json:"toolResults"`
}

// toolSchema is one entry of dynamicToolSchemas.
type toolSchema struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	InputSchema map[string]any `json:"inputSchema"`
}

// execute serves POST /api/agents/{agentId}/execute: a start or a
// continue, answered with the leg's events as a stream.
func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	p, ok := s.agent(w, r)
	if !ok {
		return
	}
	var req executeRequest
	if !s.decodeBody(w, r, &req) {
		return
	}
	switch req.Type {
	case "start":
		s.start(w, r, p, req)
	case "continue":
		s.continueRun(w, r, p, req)
	default:
		writeError(w, http.StatusBadRequest, "validation_error", fmt.Sprintf("type %q is not a request type: use start or continue", req.Type))
	}
}

// agent finds the agent of the request's path, or answers 404.
func (s *Server) agent(w http.ResponseWriter, r *http.Request) (*protocol.Protocol, bool) {
	slug := r.PathValue("agentId")
	p, ok := s.agents[slug]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found_error", fmt.Sprintf("no agent %q is served here", slug))
	}
	return p, ok
}

// decodeBody reads the request's JSON body into v: at most MaxBody bytes
// (413 beyond) within BodyTimeout, nested at most MaxJSONDepth deep, one
// object. The handler sets the deadline itself, so that the body is
// bounded wherever the handler is mounted.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(BodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, "validation_error", fmt.Sprintf("the request body is over %d bytes", s.opts.MaxBody))
		} else {
			writeError(w, http.StatusBadRequest, "validation_error", "the request body could not be read: "+err.Error())
		}
		return false
	}
	if err := checkDepth(body, MaxJSONDepth); err != nil {
		writeError(w, http.StatusBadRequest, "validation_error", err.Error())
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err = dec.Decode(v)
	if err == nil {
		err = events.CheckEnd(dec, body)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "validation_error", "the request body is not the JSON object expected: "+jsonmsg.Describe(err))
		return false
	}
	return true
}

// checkDepth refuses JSON nested deeper than max.
func checkDepth(data []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > max {
				return fmt.Errorf("the request body nests JSON deeper than %d levels", max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// start starts a new execution and streams its first leg.
func (s *Server) start(w http.ResponseWriter, r *http.Request, p *protocol.Protocol, req executeRequest) {
	input, err := protocol.DecodeInput(req.Input)
	if len(req.Input) == 0 {
		input, err = map[string]any{}, nil
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "validation_error", "input: "+err.Error())
		return
	}
	if _, err := p.ResolveInput(input); err != nil {
		var bad *protocol.InputError
		if errors.As(err, &bad) {
			writeProblems(w, bad.Problems)
			return
		}
		writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
		return
	}
	callerTools := make([]llm.Tool, 0, len(req.DynamicToolSchemas))
	for _, t := range req.DynamicToolSchemas {
		if t.Name == "" {
			writeError(w, http.StatusBadRequest, "validation_error", "dynamicToolSchemas: every tool needs a name")
			return
		}
		callerTools = append(callerTools, llm.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	if !s.admit(w) {
		return
	}
	e := newExecution(runtime.NewExecutionID(), p, callerTools)
	s.add(e)
	s.metrics.started.Add(1)
	s.runLeg(w, r, e, nil, func(ctx context.Context, leg Leg) (*runtime.Result, error) {
		return s.opts.Runner.Start(ctx, p, input, leg)
	})
}

// continueRun continues a paused execution with the caller's results and
// streams the new leg.
func (s *Server) continueRun(w http.ResponseWriter, r *http.Request, p *protocol.Protocol, req executeRequest) {
	e := s.lookup(req.ExecutionID)
	if e == nil || e.agent != p {
		writeError(w, http.StatusNotFound, "not_found_error", fmt.Sprintf("no execution %q of agent %q is known here", req.ExecutionID, p.Settings.Slug.Value))
		return
	}
	answers, status, err := e.claim(req.ToolResults)
	if err != nil {
		writeError(w, status, "validation_error", err.Error())
		return
	}
	if !s.admit(w) {
		e.unclaim(answers)
		return
	}
	s.runLeg(w, r, e, answers, func(ctx context.Context, leg Leg) (*runtime.Result, error) {
		return s.opts.Runner.Continue(ctx, p, answers, leg)
	})
}

// runLeg runs a leg of e in the background and streams its events to the
// client. A client that goes away cancels the leg, unless the runner's
// runs are durable. answers are the results a continue supplied (nil for
// a start).
func (s *Server) runLeg(w http.ResponseWriter, r *http.Request, e *execution, answers []events.ToolResult, run func(context.Context, Leg) (*runtime.Result, error)) {
	ctx, cancel := context.WithCancel(s.runs)
	from := e.next()
	e.mu.Lock()
	e.status, e.finishedLeg = running, false
	pending := e.pending
	e.mu.Unlock()
	go func() {
		defer s.release()
		defer cancel()
		leg := Leg{ExecutionID: e.id, CallerTools: e.callerTools, Emit: func(ev events.Event) {
			s.metrics.observeEvent(ev)
			e.emit(ev)
		}}
		_, err := run(ctx, leg)
		s.endLeg(e, err, e.next() == from && answers != nil, pending, answers)
	}()
	done := s.stream(w, r, e, from)
	if !done && !s.opts.Runner.Durable() {
		cancel()
	}
}

// endLeg records how a leg ended. A leg whose runner failed before the
// run could say so gets the error and finish events a failed run ends
// with; when that leg was a continue (notStarted), the execution still
// waits for the same calls and may be continued again (pending, with the
// answers unmarked). A durable run the server stopped following goes on:
// the stream says so, and nothing is counted.
func (s *Server) endLeg(e *execution, err error, notStarted bool, pending []events.PendingToolCall, answers []events.ToolResult) {
	var pause *runtime.PauseError
	if errors.As(err, &pause) {
		s.metrics.finished("paused")
		e.setStatus(paused, pause.Calls)
		return
	}
	if err != nil && s.runs.Err() != nil && s.opts.Runner.Durable() {
		e.emit(events.Error{ErrorType: events.ErrorTypeProviderOverloaded, Retryable: true, Source: events.ErrorSourcePlatform,
			Message: "the server stopped following this run while shutting down; the run goes on, and its result stays where the runner keeps it"})
		e.emit(events.Finish{FinishReason: events.FinishError})
		e.setStatus(ended, nil)
		return
	}
	if err != nil && !e.legFinished() {
		e.emit(failureEvent(err))
		e.emit(events.Finish{FinishReason: events.FinishError})
	}
	if notStarted && err != nil {
		s.metrics.finished("refused")
		e.unclaim(answers)
		e.setStatus(paused, pending)
		return
	}
	var rerr *runtime.Error
	switch {
	case err == nil:
		s.metrics.finished("completed")
	case errors.As(err, &rerr) && rerr.Cancelled:
		s.metrics.finished("cancelled")
	default:
		s.metrics.finished("failed")
	}
	e.setStatus(ended, nil)
	s.opts.Runner.Forget(e.id)
}

// failureEvent is the error event of a leg that failed outside its run:
// the runner's classification when it gave one.
func failureEvent(err error) events.Error {
	ev := interp.ErrorEvent(err)
	if rerr, ok := errors.AsType[*runtime.Error](err); ok && rerr.Type != "" {
		ev.ErrorType, ev.Message = rerr.Type, rerr.Message
	}
	return ev
}
