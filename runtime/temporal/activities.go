package temporal

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/relay"
	"github.com/octrun/octrun/runtime"
)

// The activities' names.
const (
	activityGenerate = "octrun.generate"
	activityTool     = "octrun.tool"
	activityMCPList  = "octrun.mcp-list"
	activityMedia    = "octrun.media"
)

// activities are the effects as a worker process executes them: model
// calls through its client, tools through its handlers and the agents' MCP
// servers, events to the relay.
type activities struct {
	agents *agents
	client llm.Client
	// perRun, when set, makes the model client of each call, given the
	// model calls the run made before (a mock script answers each run
	// from where it is, whichever worker made its earlier calls).
	perRun   func(first int) llm.Client
	handlers map[string]runtime.ToolHandler
	relay    *relay.Relay
	// relayDown holds until when publishing is skipped after a failure.
	relayDown atomic.Value

	servers mcp.Servers
}

// begin checks the call's protocol and publishes the events the workflow
// emitted before it.
func (a *activities) begin(ctx context.Context, c Call) (*protocol.Protocol, error) {
	p, err := a.agents.resolve(c.Agent)
	if err != nil {
		return nil, err
	}
	recs, err := fromWire(c.Publish)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "BadEvent", nil)
	}
	a.publish(ctx, c.ExecutionID, recs)
	return p, nil
}

// publish sends records to the relay, if the worker has one. Redis being
// down does not stop the run (Temporal holds its result): the records are
// lost to live readers, which the log says.
func (a *activities) publish(ctx context.Context, executionID string, recs []events.Record) {
	if a.relay == nil || len(recs) == 0 {
		return
	}
	if until, ok := a.relayDown.Load().(time.Time); ok && time.Now().Before(until) {
		return // Redis failed a moment ago: do not slow the run down trying again at once
	}
	if err := a.relay.Publish(ctx, executionID, recs); err != nil {
		a.relayDown.Store(time.Now().Add(5 * time.Second))
		activity.GetLogger(ctx).Warn("events could not be published; live readers miss them", "execution", executionID, "events", len(recs), "error", err)
	}
}

// clientFor returns the model client of a call.
func (a *activities) clientFor(c Call) llm.Client {
	if a.perRun == nil {
		return a.client
	}
	return a.perRun(c.ModelCalls)
}

// Publish publishes the events a workflow emitted; the last ones of a run
// also start its stream's expiry.
func (a *activities) Publish(ctx context.Context, in PublishCall) error {
	if _, err := a.begin(ctx, in.Call); err != nil {
		return err
	}
	if in.Finished && a.relay != nil {
		if err := a.relay.Finish(ctx, in.ExecutionID); err != nil {
			activity.GetLogger(ctx).Warn("the event stream's expiry could not be set", "execution", in.ExecutionID, "error", err)
		}
	}
	return nil
}

// Generate makes a model call, streaming its events to the relay as they
// come (in batches, heartbeating). A retry after a crash closes the parts
// the interrupted attempt left open and streams anew under fresh ids.
func (a *activities) Generate(ctx context.Context, in GenerateCall) (GenerateOutput, error) {
	if _, err := a.begin(ctx, in.Call); err != nil {
		return GenerateOutput{}, err
	}
	s := &stream{a: a, ctx: ctx, executionID: in.ExecutionID, all: in.AllEvents, next: in.NextSeq}
	req := in.Req
	if attempt := activity.GetInfo(ctx).Attempt; attempt > 1 {
		if err := s.resume(in.NextSeq); err != nil {
			return GenerateOutput{}, err
		}
		req.Stream.IDs.Prefix = fmt.Sprintf("%s-retry%d", req.Stream.IDs.Prefix, attempt)
	}
	stop := heartbeat(ctx)
	defer stop()
	res, err := effect.Generate(ctx, a.clientFor(in.Call), req, events.NewEmitter(s.target))
	s.flush()
	if err != nil {
		return GenerateOutput{}, activityError(ctx, err, s.next)
	}
	return GenerateOutput{Res: res, NextSeq: s.next}, nil
}

// stream numbers and publishes the events of a model call.
type stream struct {
	a           *activities
	ctx         context.Context
	executionID string
	all         bool
	next        int64
	batch       []events.Record
	flushed     time.Time
}

func (s *stream) target(sc events.Scope, ev events.Event) {
	ev, ok := events.Route(sc, ev, s.all)
	if !ok {
		return
	}
	s.batch = append(s.batch, events.Record{Seq: s.next, Event: ev})
	s.next++
	if len(s.batch) >= 64 || time.Since(s.flushed) > 20*time.Millisecond {
		s.flush()
	}
}

// flush publishes the batch.
func (s *stream) flush() {
	s.flushed = time.Now()
	if len(s.batch) == 0 {
		return
	}
	// The events of a cancelled call (its closing text-end) still go out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	s.a.publish(ctx, s.executionID, s.batch)
	s.batch = s.batch[:0]
}

// resume picks up after an interrupted attempt: what it published stays,
// its open text and reasoning parts are closed, and numbering goes on.
func (s *stream) resume(from int64) error {
	if s.a.relay == nil {
		return nil
	}
	recs, err := s.a.relay.Since(s.ctx, s.executionID, from)
	if err != nil {
		return err
	}
	open := map[string]events.Event{}
	var order []string
	for _, r := range recs {
		s.next = r.Seq + 1
		switch e := r.Event.(type) {
		case events.TextStart:
			open[e.ID], order = events.TextEnd{ID: e.ID, WorkerID: e.WorkerID}, append(order, e.ID)
		case events.ReasoningStart:
			open[e.ID], order = events.ReasoningEnd{ID: e.ID, WorkerID: e.WorkerID}, append(order, e.ID)
		case events.TextEnd:
			delete(open, e.ID)
		case events.ReasoningEnd:
			delete(open, e.ID)
		}
	}
	for _, id := range order {
		if end, ok := open[id]; ok {
			s.batch = append(s.batch, events.Record{Seq: s.next, Event: end})
			s.next++
		}
	}
	s.flush()
	return nil
}

// Tool runs a tool: a handler of the worker process, or an MCP server of
// the protocol; a tool with neither is a client tool.
func (a *activities) Tool(ctx context.Context, in ToolCall) (effect.ToolResult, error) {
	p, err := a.begin(ctx, in.Call)
	if err != nil {
		return effect.ToolResult{}, err
	}
	h := a.handlers[in.Handler]
	if h == nil {
		h = a.servers.Handler(p, in.Req.Name)
	}
	if h == nil {
		return effect.ToolResult{Client: true}, nil
	}
	stop := heartbeat(ctx)
	defer stop()
	res, err := effect.RunTool(ctx, in.ExecutionID, in.Req, h)
	if err != nil {
		return res, activityError(ctx, err, in.NextSeq)
	}
	return res, nil
}

// heartbeat records heartbeats while a long call runs, so that a
// cancellation reaches it; it returns the function that stops them.
func heartbeat(ctx context.Context) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// MCPList lists the tools of an MCP server of the protocol.
func (a *activities) MCPList(ctx context.Context, in MCPListCall) (effect.MCPListResult, error) {
	p, err := a.begin(ctx, in.Call)
	if err != nil {
		return effect.MCPListResult{}, err
	}
	tools, err := a.servers.Tools(ctx, p, in.Req.Namespace, runtime.HandlerTools(in.CallerTools, a.handlers))
	if err != nil {
		return effect.MCPListResult{}, activityError(ctx, err, in.NextSeq)
	}
	return effect.MCPListResult{Tools: tools}, nil
}

// Media makes a media call.
func (a *activities) Media(ctx context.Context, in MediaCall) (effect.MediaResult, error) {
	if _, err := a.begin(ctx, in.Call); err != nil {
		return effect.MediaResult{}, err
	}
	res, err := effect.RunMedia(ctx, llm.MediaOf(a.clientFor(in.Call)), in.Req)
	if err != nil {
		return res, activityError(ctx, err, in.NextSeq)
	}
	return res, nil
}

// close stops the MCP servers.
func (a *activities) close() { a.servers.Close() }

// failureDetails travel with an activity's failure: the model's error, if
// that is what failed, and where the event numbering went (a model call
// may have published events before it failed).
type failureDetails struct {
	LLM     *llm.Error `json:"llm,omitempty"`
	NextSeq int64      `json:"nextSeq"`
}

// activityError is how an activity fails: for good (the model's client
// retried transient failures already), with failureDetails; a
// cancellation is a cancellation.
func activityError(ctx context.Context, err error, nextSeq int64) error {
	details := failureDetails{NextSeq: nextSeq}
	if ctx.Err() != nil {
		return temporal.NewCanceledError(details)
	}
	errors.As(err, &details.LLM)
	return temporal.NewApplicationErrorWithOptions(err.Error(), errTypeEffect, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{details}})
}
