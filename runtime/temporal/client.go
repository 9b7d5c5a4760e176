package temporal

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/relay"
	"github.com/octrun/octrun/runtime"
)

// ClientOptions configures a submitter.
type ClientOptions struct {
	// TaskQueue is where runs go (DefaultTaskQueue); Namespace names it in
	// messages (the Temporal client is already bound to it).
	TaskQueue, Namespace string
	// Relay reads the runs' events live; nil reads only each run's result
	// and last events.
	Relay *relay.Relay
	// SkipFingerprintCheck lets a run start on workers whose agent files
	// differ from the submitter's (break glass).
	SkipFingerprintCheck bool
	// NoWorkerWait is how long a run waits for a worker to poll its task
	// queue before it fails (default 3 s).
	NoWorkerWait time.Duration
}

// Client submits runs to Temporal and follows them: the Temporal host's
// counterpart of runtime.Run and runtime.Continue, with the same results
// and errors (*runtime.Error, *runtime.PauseError).
type Client struct {
	c    client.Client
	opts ClientOptions
}

// NewClient returns a submitter on c.
func NewClient(c client.Client, opts ClientOptions) *Client {
	if opts.TaskQueue == "" {
		opts.TaskQueue = DefaultTaskQueue
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.NoWorkerWait == 0 {
		opts.NoWorkerWait = 3 * time.Second
	}
	return &Client{c: c, opts: opts}
}

// RunOptions are the options of one run.
type RunOptions struct {
	// ExecutionID is the run's id (the workflow's); random when "".
	ExecutionID string
	// AllEvents ignores display modes.
	AllEvents bool
	// Sink receives the run's events in order; nil drops them.
	Sink events.Sink
	// Detached makes a cancelled ctx stop following the run without
	// cancelling it: the run goes on, and its events stay readable.
	Detached bool
	// CallerTools are the tools the caller answers, for MCP servers
	// declared without a connection (runtime.WithCallerTools).
	CallerTools []llm.Tool
}

// Run starts a run of p with input on the task queue's workers and
// follows it: its events go to the sink as they are published, and it
// returns the run's result, a *runtime.PauseError when the run waits for
// client tools (continue it with Continue), or a *runtime.Error. A
// cancelled ctx cancels the run.
func (c *Client) Run(ctx context.Context, p *protocol.Protocol, input map[string]any, o RunOptions) (*runtime.Result, error) {
	if err := runtime.CheckProtocol(p); err != nil {
		return nil, err
	}
	if o.ExecutionID == "" {
		o.ExecutionID = runtime.NewExecutionID()
	}
	if err := c.CheckWorkers(ctx); err != nil {
		return nil, err
	}
	agent := AgentRef{Slug: p.Settings.Slug.Value}
	if !c.opts.SkipFingerprintCheck {
		agent.Fingerprint = Fingerprint(p)
	}
	_, err := c.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    o.ExecutionID,
		TaskQueue:             c.opts.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, WorkflowName, RunInput{ExecutionID: o.ExecutionID, Agent: agent, Input: input, AllEvents: o.AllEvents, NextSeq: 1, CallerTools: o.CallerTools})
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return nil, &runtime.Error{Type: events.ErrorTypeValidation, Refused: true, ExecutionID: o.ExecutionID, Err: err,
				Message: fmt.Sprintf("execution %s exists already: a run id is used once", o.ExecutionID)}
		}
		return nil, fmt.Errorf("the run could not be started on Temporal: %w", err)
	}
	return c.follow(ctx, o.ExecutionID, 1, o)
}

// Continue delivers the results of the client tool calls a run waits for
// and follows the run on. Results that do not answer exactly the pending
// calls are refused (*runtime.Error with validation_error) and the run
// keeps waiting.
func (c *Client) Continue(ctx context.Context, executionID string, results []events.ToolResult, o RunOptions) (*runtime.Result, error) {
	state, err := c.state(ctx, executionID)
	for err == nil && len(state.Waiting) == 0 && state.Running != "" {
		// A nested worker's child workflow runs: the pause may be there.
		state, err = c.state(ctx, state.Running)
	}
	if err != nil {
		return nil, err
	}
	if len(state.Waiting) == 0 {
		return nil, &runtime.Error{Type: events.ErrorTypeValidation, Refused: true, ExecutionID: executionID,
			Message: fmt.Sprintf("execution %s is not waiting for tool results", executionID)}
	}
	handle, err := c.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: state.WaitingIn, UpdateName: UpdateToolResults, Args: []any{results},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	var refused *temporal.ApplicationError
	switch {
	case err == nil:
	case errors.As(err, &refused):
		// The update's validator turned the results away: nothing ran.
		return nil, &runtime.Error{Type: events.ErrorTypeValidation, Refused: true, ExecutionID: executionID, Err: err,
			Message: fmt.Sprintf("execution %s: %v", executionID, updateMessage(err))}
	case ctx.Err() != nil:
		return nil, &runtime.Error{Message: "the continue was cancelled; the run may have received the results", ExecutionID: executionID, Cancelled: true, Err: ctx.Err()}
	default:
		return nil, fmt.Errorf("execution %s: the results could not be delivered through Temporal: %w", executionID, err)
	}
	return c.follow(ctx, executionID, state.NextSeq, o)
}

// updateMessage is the validator's message of a refused update.
func updateMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// state asks a run what it waits for. A run waiting on a worker that has
// stopped since has its query stuck on that worker's sticky queue: after a
// short wait the stickiness is reset and any worker answers.
func (c *Client) state(ctx context.Context, executionID string) (State, error) {
	var s State
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	v, err := c.c.QueryWorkflow(qctx, executionID, "", QueryState)
	cancel()
	if err != nil && ctx.Err() == nil && queryLost(err) {
		_, _ = c.c.WorkflowService().ResetStickyTaskQueue(ctx, &workflowservice.ResetStickyTaskQueueRequest{
			Namespace: c.opts.Namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: executionID},
		})
		v, err = c.c.QueryWorkflow(ctx, executionID, "", QueryState)
	}
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return s, fmt.Errorf("%w: %s (in namespace %s)", runtime.ErrNotFound, executionID, c.opts.Namespace)
		}
		return s, fmt.Errorf("execution %s cannot be asked for its state: %w", executionID, err)
	}
	return s, v.Get(&s)
}

// isTimeout reports whether a call to Temporal ran out of time.
func isTimeout(err error) bool {
	var deadline *serviceerror.DeadlineExceeded
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &deadline)
}

// queryLost reports whether a query went unanswered because no worker
// took it: it timed out on the sticky queue of a worker that stopped, or
// the server cancelled it there as that worker's poll ended.
func queryLost(err error) bool {
	var cancelled *serviceerror.Canceled
	return isTimeout(err) || errors.Is(err, context.Canceled) || errors.As(err, &cancelled)
}

// CheckWorkers fails when no worker polls the task queue, after waiting a
// moment for one (a worker that just started). Run checks it first.
func (c *Client) CheckWorkers(ctx context.Context) error {
	deadline := time.Now().Add(c.opts.NoWorkerWait)
	for {
		resp, err := c.c.DescribeTaskQueue(ctx, c.opts.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			return fmt.Errorf("Temporal cannot describe task queue %q: %w", c.opts.TaskQueue, err)
		}
		if len(resp.GetPollers()) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no worker polls task queue %q in namespace %q: start one with `octrun worker --agents DIR --temporal ADDRESS --task-queue %s`", c.opts.TaskQueue, c.opts.Namespace, c.opts.TaskQueue)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// follow reads a run's events from sequence number from on until the leg
// ends: the run finished (its result), paused (*runtime.PauseError) or
// failed. Cancelling ctx cancels the run and reads its last events, or,
// detached, stops reading.
func (c *Client) follow(ctx context.Context, executionID string, from int64, o RunOptions) (*runtime.Result, error) {
	sink := o.Sink
	if sink == nil {
		sink = func(events.Event) error { return nil }
	}
	rctx := ctx
	if !o.Detached {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-ctx.Done():
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				_ = c.c.CancelWorkflow(cctx, executionID, "")
			case <-done:
			}
		}()
		rctx = context.WithoutCancel(ctx)
	}
	next := int64(1)
	if c.opts.Relay != nil {
		pending, paused, read, err := c.readEvents(rctx, executionID, from, sink)
		if err == nil {
			if paused {
				return &runtime.Result{ExecutionID: executionID}, &runtime.PauseError{ExecutionID: executionID, Calls: pending}
			}
			return c.result(rctx, executionID, sink, read)
		}
		if rctx.Err() != nil {
			return nil, rctx.Err() // detached: the caller stopped following
		}
		// Redis failed: the run goes on; its result still comes from
		// Temporal, with the last events the stream could not give.
		next = read
	}
	pending, paused, err := c.waitWithoutEvents(rctx, executionID, sink)
	if err != nil {
		return nil, err
	}
	if paused {
		return &runtime.Result{ExecutionID: executionID}, &runtime.PauseError{ExecutionID: executionID, Calls: pending}
	}
	return c.result(rctx, executionID, sink, next)
}

// readEvents reads a leg's events from the relay until it ends: the run's
// usage (its last event), a pause (finish with client-tool-calls), or the
// workflow's end (a run that failed before it could say so). It reports
// the pending calls of a pause and the sequence number after the last
// event read; an error is Redis's.
func (c *Client) readEvents(ctx context.Context, executionID string, from int64, sink events.Sink) ([]events.PendingToolCall, bool, int64, error) {
	rctx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	go func() {
		_ = c.c.GetWorkflow(rctx, executionID, "").Get(rctx, nil)
		stopReading()
	}()
	var pending []events.PendingToolCall
	var paused, ended bool
	next := from
	deliver := func(rec events.Record) {
		next = rec.Seq + 1
		_ = sink(rec.Event)
		switch e := rec.Event.(type) {
		case events.ClientToolRequest:
			pending = e.ToolCalls
		case events.Finish:
			paused = e.FinishReason == events.FinishClientToolCalls
			ended = paused
		case events.Usage:
			ended = true
		}
	}
	for rec, err := range c.opts.Relay.Read(rctx, executionID, from, func(events.Record) bool { return ended }) {
		if err != nil {
			return nil, false, next, err
		}
		deliver(rec)
	}
	if !ended {
		// The workflow ended: whatever it published is there.
		rest, err := c.opts.Relay.Since(ctx, executionID, next)
		if err != nil {
			return nil, false, next, err
		}
		for _, rec := range rest {
			deliver(rec)
		}
	}
	return pending, paused, next, nil
}

// waitWithoutEvents waits, without a relay, until the run ends or waits
// for client tools; it then reports the pending calls.
func (c *Client) waitWithoutEvents(ctx context.Context, executionID string, sink events.Sink) ([]events.PendingToolCall, bool, error) {
	run := c.c.GetWorkflow(ctx, executionID, "")
	ended := make(chan struct{})
	go func() {
		_ = run.Get(ctx, nil)
		close(ended)
	}()
	for {
		select {
		case <-ended:
			return nil, false, nil
		case <-time.After(300 * time.Millisecond):
		}
		s, err := c.state(ctx, executionID)
		if err == nil && len(s.Waiting) > 0 {
			_ = sink(events.ClientToolRequest{ExecutionID: executionID, ToolCalls: s.Waiting})
			_ = sink(events.Finish{FinishReason: events.FinishClientToolCalls, ExecutionID: executionID})
			return s.Waiting, true, nil
		}
	}
}

// result waits for a run's workflow result; its last events numbered from
// tailFrom on (those no stream gave) go to the sink.
func (c *Client) result(ctx context.Context, executionID string, sink events.Sink, tailFrom int64) (*runtime.Result, error) {
	var out RunOutput
	err := c.c.GetWorkflow(ctx, executionID, "").Get(ctx, &out)
	if err != nil {
		var app *temporal.ApplicationError
		msg := err.Error()
		if errors.As(err, &app) {
			msg = app.Message()
		}
		return nil, &runtime.Error{Type: events.ErrorTypeExecution, ExecutionID: executionID, Message: msg, Err: err}
	}
	recs, err := fromWire(out.Tail)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Seq >= tailFrom {
			_ = sink(r.Event)
		}
	}
	res := &runtime.Result{HasOutput: out.HasOutput, Usage: out.Usage, ExecutionID: executionID}
	if len(out.Output) > 0 {
		if res.Output, err = events.DecodeValue(out.Output); err != nil {
			return res, err
		}
	}
	switch {
	case out.Cancelled:
		return res, &runtime.Error{Message: "the run was cancelled", ExecutionID: executionID, Cancelled: true, Err: context.Canceled}
	case out.Error != "":
		return res, &runtime.Error{Type: out.ErrorType, Message: out.Error, ExecutionID: executionID}
	}
	return res, nil
}
