package temporal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/interp"
	"github.com/octrun/octrun/protocol"
)

// workflows holds what the workflow code of a worker process reads: its
// agents and routes, fixed at start.
type workflows struct {
	agents *agents
	// routes sends nested workers of some slugs to other task queues.
	routes map[string]string
	// publish publishes a workflow's events, as a local activity: it runs
	// on the workflow's own worker, without a task of its own.
	publish func(context.Context, PublishCall) error
}

// Run is the workflow: it interprets one worker run, top-level or nested.
func (w *workflows) Run(ctx workflow.Context, in RunInput) (RunOutput, error) {
	p, err := w.agents.resolve(in.Agent)
	if err != nil {
		return RunOutput{}, err
	}
	pending, err := fromWire(in.Pending)
	if err != nil {
		return RunOutput{}, err
	}
	pub := &publisher{all: in.AllEvents, next: in.NextSeq, pending: pending}
	fx := &wfEffects{w: w, wctx: ctx, in: in, p: p, pub: pub, state: &State{}, modelCalls: in.ModelCalls}
	if err := fx.handleMessages(); err != nil {
		return RunOutput{}, err
	}
	em := events.NewEmitter(pub.target)
	run := interp.Worker{Protocol: p, ID: in.ExecutionID, Slug: p.Settings.Slug.Value, Description: p.Settings.Description.Value, Input: in.Input}
	if n := in.Nested; n != nil {
		em = em.At(n.Scope)
		run.ID, run.Slug, run.Description, run.Nested = n.WorkerID, n.Slug, n.Description, true
	} else {
		em.Emit(events.Start{ExecutionID: in.ExecutionID})
	}
	cctx := &wfContext{wctx: ctx}
	out, runErr := interp.Run(cctx, fx, em, run)
	res := RunOutput{HasOutput: out.HasOutput, Usage: out.Usage, ModelCalls: fx.modelCalls}
	if runErr == nil && out.HasOutput {
		res.Output = events.RawValue(out.Output)
	}
	switch {
	case runErr == nil:
	case interp.IsCancel(cctx, runErr):
		res.Cancelled, res.Error = true, "cancelled"
	default:
		ev := interp.ErrorEvent(runErr)
		res.Error, res.ErrorType, res.Failure = runErr.Error(), ev.ErrorType, &ev
	}
	if in.Nested != nil {
		// The caller publishes the nested run's last events with its own.
		res.NextSeq, res.Tail = pub.next, toWire(pub.take())
		return res, nil
	}
	tailFrom := len(pub.pending)
	for i, r := range pub.pending {
		if wr, ok := r.Event.(events.WorkerResult); ok && wr.WorkerID == in.ExecutionID {
			tailFrom = i
		}
	}
	interp.End(cctx, em, in.ExecutionID, out.Usage, runErr)
	tail := pub.pending[min(tailFrom, len(pub.pending)):]
	res.Tail = toWire(tail)
	// The last events go out even when the run was cancelled.
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	if err := fx.publish(dctx, true); err != nil {
		return res, err
	}
	res.NextSeq = pub.next
	return res, nil
}

// publisher numbers the events a workflow emits and keeps them until an
// activity publishes them. The numbering is deterministic: the same
// history gives the same numbers on every replay.
type publisher struct {
	all     bool
	next    int64
	pending []events.Record
}

func (p *publisher) target(s events.Scope, ev events.Event) {
	if ev, ok := events.Route(s, ev, p.all); ok {
		p.pending = append(p.pending, events.Record{Seq: p.next, Event: ev})
		p.next++
	}
}

// take returns the pending events and forgets them.
func (p *publisher) take() []events.Record {
	out := p.pending
	p.pending = nil
	return out
}

// wfContext lets the interpreter, which takes a context.Context, run in a
// workflow: Err reports the workflow's cancellation, and the effects find
// the workflow.Context in it. It has no Done channel; the interpreter only
// asks Err.
type wfContext struct {
	wctx workflow.Context
}

func (c *wfContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *wfContext) Done() <-chan struct{}       { return nil }
func (c *wfContext) Value(any) any               { return nil }
func (c *wfContext) Err() error {
	if c.wctx.Err() != nil {
		return context.Canceled
	}
	return nil
}

// wfEffects implements effect.Effects in a workflow.
type wfEffects struct {
	w     *workflows
	wctx  workflow.Context
	in    RunInput
	p     *protocol.Protocol
	pub   *publisher
	state *State
	// results are the client tool results an update delivered.
	results *effect.AwaitResult
	// modelCalls counts the run's model and media calls so far.
	modelCalls int
}

// handleMessages registers the update that delivers client tool results
// and the query of the run's state.
func (f *wfEffects) handleMessages() error {
	if err := workflow.SetQueryHandler(f.wctx, QueryState, func() (State, error) {
		s := *f.state
		s.NextSeq = f.pub.next
		return s, nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(f.wctx, UpdateToolResults,
		func(ctx workflow.Context, results []events.ToolResult) error {
			answers, err := effect.MatchResults(f.state.Waiting, results)
			if err != nil {
				return err
			}
			f.results = &answers
			return nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, results []events.ToolResult) error {
			if len(f.state.Waiting) == 0 {
				return errors.New("the run is not waiting for tool results")
			}
			_, err := effect.MatchResults(f.state.Waiting, results)
			return err
		}})
}

// call is the common part of an activity's input: the pending events go
// out with it.
func (f *wfEffects) call() Call {
	return Call{ExecutionID: f.in.ExecutionID, Agent: f.in.Agent, AllEvents: f.in.AllEvents, NextSeq: f.pub.next, Publish: toWire(f.pub.take()), ModelCalls: f.modelCalls}
}

// activity runs an activity with the options of its kind.
func (f *wfEffects) activity(ctx workflow.Context, name string, timeout time.Duration, in, out any) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		// Heartbeats carry cancellation to a running activity and let
		// another worker take over one whose worker died.
		HeartbeatTimeout: 5 * time.Second,
		// A cancelled run waits for its activity to stop: the events the
		// activity published decide where numbering goes on.
		WaitForCancellation: true,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 10},
	})
	return workflow.ExecuteActivity(ctx, name, in).Get(ctx, out)
}

// Generate implements effect.Effects with the model activity.
func (f *wfEffects) Generate(_ context.Context, req effect.GenerateRequest) (effect.GenerateResult, error) {
	var out GenerateOutput
	err := f.activity(f.wctx, activityGenerate, 15*time.Minute, GenerateCall{Call: f.call(), Req: req}, &out)
	if err != nil {
		return effect.GenerateResult{}, f.failure(err)
	}
	f.pub.next = out.NextSeq
	f.modelCalls += max(out.Res.ModelCalls, 1)
	return out.Res, nil
}

// CallTool implements effect.Effects with the tool activity, under the
// name the worker process knows the tool by.
func (f *wfEffects) CallTool(_ context.Context, req effect.ToolRequest) (effect.ToolResult, error) {
	var out effect.ToolResult
	if err := f.activity(f.wctx, activityTool, 15*time.Minute, ToolCall{Call: f.call(), Handler: f.handlerName(req.Name), Req: req}, &out); err != nil {
		return out, f.failure(err)
	}
	return out, nil
}

// ListMCPTools implements effect.Effects with the MCP listing activity.
func (f *wfEffects) ListMCPTools(_ context.Context, req effect.MCPListRequest) (effect.MCPListResult, error) {
	var out effect.MCPListResult
	if err := f.activity(f.wctx, activityMCPList, 2*time.Minute, MCPListCall{Call: f.call(), Req: req, CallerTools: f.in.CallerTools}, &out); err != nil {
		return out, f.failure(err)
	}
	return out, nil
}

// Media implements effect.Effects with the media activity.
func (f *wfEffects) Media(_ context.Context, req effect.MediaRequest) (effect.MediaResult, error) {
	var out effect.MediaResult
	if err := f.activity(f.wctx, activityMedia, 15*time.Minute, MediaCall{Call: f.call(), Req: req}, &out); err != nil {
		return out, f.failure(err)
	}
	f.modelCalls++
	return out, nil
}

// publish runs the local activity that publishes the pending events.
func (f *wfEffects) publish(ctx workflow.Context, finished bool) error {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 10},
	})
	return workflow.ExecuteLocalActivity(ctx, f.w.publish, PublishCall{Call: f.call(), Finished: finished}).Get(ctx, nil)
}

// RunWorker implements effect.Effects with a child workflow, on the task
// queue the worker process routes the nested worker's slug to (its own by
// default).
func (f *wfEffects) RunWorker(_ context.Context, req effect.WorkerRequest) (effect.WorkerResult, error) {
	decl := f.p.Worker(req.Slug)
	if decl == nil {
		return effect.WorkerResult{}, fmt.Errorf("the protocol declares no worker %q", req.Slug)
	}
	fp := f.w.agents.fingerprint(decl.Protocol)
	agent := f.in.Agent.child(req.Slug, fp)
	queue := workflow.GetInfo(f.wctx).TaskQueueName
	if to, ok := f.w.routes[decl.Protocol.Settings.Slug.Value]; ok {
		queue, agent = to, AgentRef{Slug: decl.Protocol.Settings.Slug.Value, Fingerprint: fp}
	}
	toolNames := map[string]string{}
	for _, m := range decl.Tools {
		toolNames[m.Label.Value] = f.handlerName(m.Source.Value)
	}
	for _, t := range decl.Protocol.Tools {
		if _, ok := toolNames[t.Name.Value]; !ok {
			toolNames[t.Name.Value] = f.handlerName(t.Name.Value)
		}
	}
	in := RunInput{
		ExecutionID: f.in.ExecutionID, Agent: agent, Input: req.Input, AllEvents: f.in.AllEvents,
		NextSeq: f.pub.next, Pending: toWire(f.pub.take()), ModelCalls: f.modelCalls, CallerTools: f.in.CallerTools,
		Nested: &NestedRun{WorkerID: req.WorkerID, Slug: decl.Slug.Value, Description: req.Label, Scope: req.Scope, ToolNames: toolNames},
	}
	ctx := workflow.WithChildOptions(f.wctx, workflow.ChildWorkflowOptions{
		WorkflowID: f.in.ExecutionID + "/" + req.WorkerID, TaskQueue: queue, WaitForCancellation: true,
	})
	var out RunOutput
	f.state.Running = f.in.ExecutionID + "/" + req.WorkerID
	err := workflow.ExecuteChildWorkflow(ctx, WorkflowName, in).Get(ctx, &out)
	f.state.Running = ""
	if err != nil {
		return effect.WorkerResult{}, f.failure(err)
	}
	tail, err := fromWire(out.Tail)
	if err != nil {
		return effect.WorkerResult{}, err
	}
	f.pub.pending, f.pub.next, f.modelCalls = append(f.pub.pending, tail...), out.NextSeq, out.ModelCalls
	res := effect.WorkerResult{Output: out.Output, HasOutput: out.HasOutput, Usage: out.Usage}
	switch {
	case out.Cancelled:
		return res, context.Canceled
	case out.Failure != nil:
		return res, &interp.Failure{Event: *out.Failure}
	case out.Error != "":
		return res, errors.New(out.Error)
	}
	return res, nil
}

// handlerName is the name the worker process knows a tool of this run by.
func (f *wfEffects) handlerName(name string) string {
	if n := f.in.Nested; n != nil {
		if to, ok := n.ToolNames[name]; ok {
			return to
		}
	}
	return name
}

// AwaitToolResults implements effect.Effects by waiting in place: the run
// announces the pause as a local run does (client-tool-request, finish
// with client-tool-calls), waits durably for the update that delivers the
// results, and goes on with a new leg (start).
func (f *wfEffects) AwaitToolResults(_ context.Context, req effect.AwaitRequest) (effect.AwaitResult, error) {
	calls := make([]events.PendingToolCall, len(req.Calls))
	for i, c := range req.Calls {
		c.ToolName = f.handlerName(c.ToolName)
		calls[i] = c
	}
	f.state.Waiting, f.state.WaitingIn = calls, workflow.GetInfo(f.wctx).WorkflowExecution.ID
	top := events.NewEmitter(f.pub.target)
	top.Emit(events.ClientToolRequest{ExecutionID: f.in.ExecutionID, ToolCalls: calls})
	top.Emit(events.Finish{FinishReason: events.FinishClientToolCalls, ExecutionID: f.in.ExecutionID})
	if err := f.publish(f.wctx, false); err != nil {
		return effect.AwaitResult{}, f.failure(err)
	}
	if err := workflow.Await(f.wctx, func() bool { return f.results != nil }); err != nil {
		return effect.AwaitResult{}, context.Canceled
	}
	res := *f.results
	f.results, f.state.Waiting, f.state.WaitingIn = nil, nil, ""
	top.Emit(events.Start{ExecutionID: f.in.ExecutionID})
	return res, nil
}

// failure turns an activity's or child's error back into what the
// interpreter classifies: a cancellation, the model's *llm.Error, or the
// error's message.
func (f *wfEffects) failure(err error) error {
	var cancelled *temporal.CanceledError
	if errors.As(err, &cancelled) {
		var details failureDetails
		if cancelled.HasDetails() && cancelled.Details(&details) == nil {
			f.pub.next = max(f.pub.next, details.NextSeq)
		}
		return context.Canceled
	}
	if temporal.IsCanceledError(err) || f.wctx.Err() != nil {
		return context.Canceled
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		var details failureDetails
		if app.Type() == errTypeEffect && app.Details(&details) == nil {
			f.pub.next = max(f.pub.next, details.NextSeq)
			if details.LLM != nil {
				return details.LLM
			}
		}
		if app.NonRetryable() && (app.Type() == "FingerprintMismatch" || app.Type() == "UnknownAgent") {
			return err
		}
		return errors.New(app.Message())
	}
	return err
}

// errTypeEffect is the ApplicationError type of an effect's failure; its
// details are failureDetails.
const errTypeEffect = "octrun.EffectFailed"
