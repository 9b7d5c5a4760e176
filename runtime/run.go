// Package runtime runs worker protocols in process: the interpreter loop
// over a protocol's steps, the Effects that reach models, tools and nested
// workers, and the public Run and Execute API.
//
// A standalone run streams start, worker-start, then block-start ... block-end
// per step, worker-result, finish and usage (PROTOCOL.md 7.6). A failed run
// emits an error event and worker-result with the error, and finishes with
// finishReason error (D6). A cancelled run emits worker-result with
// cancelled set and finishes with finishReason stop (PROTOCOL.md 8.5).
package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"path/filepath"

	"github.com/octrun/octrun/blocks"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

// Result is the outcome of a run.
type Result struct {
	// Output is the value of the protocol's output variable; HasOutput is
	// false when the protocol declares no output.
	Output    any
	HasOutput bool
	// Usage adds up the tokens of every model call, nested workers included.
	Usage       llm.Usage
	ExecutionID string
}

// PauseError is returned when a run stops for the results of client tools
// (tools without a handler here). The run's snapshot is in the store;
// Continue resumes it with the results.
type PauseError struct {
	ExecutionID string
	Calls       []events.PendingToolCall
}

func (e *PauseError) Error() string {
	return fmt.Sprintf("execution %s paused for %d client tool call(s); continue it with their results", e.ExecutionID, len(e.Calls))
}

// Run runs the worker p with input to its end. Events go to the sink given
// with WithEventSink, if any. A failure is returned as an *Error whose Type
// is the errorType of the run's error event; a cancelled run returns an
// *Error that wraps the context's error; a run that needs the results of
// client tools returns a *PauseError and can be continued.
func Run(ctx context.Context, p *protocol.Protocol, input map[string]any, opts ...Option) (*Result, error) {
	if p == nil || p.Diagnostics.HasErrors() {
		return nil, &Error{Type: events.ErrorTypeValidation, Message: "the protocol is invalid: load it with protocol.Load and fix its errors first"}
	}
	cfg := newConfig(opts)
	snap := &Snapshot{ExecutionID: cfg.executionID, Input: input}
	if snap.ExecutionID == "" {
		snap.ExecutionID = newExecutionID()
	}
	return cfg.execute(ctx, p, snap, false)
}

// Continue resumes the paused run executionID with the results of its
// pending tool calls: every pending call needs one result. The snapshot
// comes from the store (WithStore; the default is in memory), the protocol
// from WithProtocol or else from the folder the run started from; a
// protocol that changed since is refused. The continued run streams a new
// leg of events: start, the results, and what follows.
func Continue(ctx context.Context, executionID string, results []events.ToolResult, opts ...Option) (*Result, error) {
	cfg := newConfig(opts)
	snap, err := cfg.store.Load(ctx, executionID)
	if err != nil {
		return nil, err
	}
	p := cfg.protocol
	if p == nil {
		if p, err = protocol.Load(snap.ProtocolDir); err != nil {
			return nil, fmt.Errorf("the protocol of execution %s no longer loads: %w", executionID, err)
		}
	}
	if p.Fingerprint() != snap.Fingerprint {
		return nil, &Error{Type: events.ErrorTypeValidation, ExecutionID: executionID,
			Message: fmt.Sprintf("execution %s paused under another version of the protocol at %s; a paused run continues only with the files it started with", executionID, snap.ProtocolDir)}
	}
	if err := snap.Journal.supply(results); err != nil {
		return nil, &Error{Type: events.ErrorTypeValidation, ExecutionID: executionID, Message: fmt.Sprintf("execution %s: %v", executionID, err)}
	}
	return cfg.execute(ctx, p, snap, true)
}

// save stores a paused run's snapshot, naming its protocol by folder and
// fingerprint the first time (only paused runs pay for hashing the files).
func (cfg *config) save(ctx context.Context, p *protocol.Protocol, snap *Snapshot) error {
	if snap.Fingerprint == "" {
		dir, err := filepath.Abs(p.Dir)
		if err != nil {
			return err
		}
		snap.ProtocolDir, snap.Fingerprint = dir, p.Fingerprint()
	}
	return cfg.store.Save(ctx, snap)
}

// execute runs one leg of a run: from the start, or replaying the journal
// of a paused run silently up to where it stopped.
func (cfg *config) execute(ctx context.Context, p *protocol.Protocol, snap *Snapshot, replay bool) (*Result, error) {
	rec := &recorder{journal: &snap.Journal}
	sink := cfg.sink
	em := events.NewEmitter(func(ev events.Event) error {
		if rec.replaying || sink == nil {
			return nil
		}
		return sink(ev)
	}, events.AllEvents(cfg.allEvents))
	execID := snap.ExecutionID
	em.Emit(events.Start{ExecutionID: execID})
	rec.replaying = replay

	servers := &mcpServers{}
	defer servers.close()
	r := &runner{client: cfg.client, rec: rec, servers: servers, tool: func(name string) ToolHandler { return cfg.handlers[name] }}
	out, err := r.worker(ctx, p, workerIdentity{id: execID, slug: p.Settings.Slug.Value, description: p.Settings.Description.Value}, snap.Input, em)
	rec.live()
	result := &Result{Output: out.Output, HasOutput: out.HasOutput, Usage: out.Usage, ExecutionID: execID}
	var pause *blocks.Pause
	if errors.As(err, &pause) {
		snap.Pending = pause.Calls
		if saveErr := cfg.save(ctx, p, snap); saveErr != nil {
			err = fmt.Errorf("the run paused but its snapshot could not be saved: %w", saveErr)
		} else {
			em.Emit(events.ClientToolRequest{ExecutionID: execID, ToolCalls: pause.Calls})
			em.Emit(events.Finish{FinishReason: events.FinishClientToolCalls, ExecutionID: execID})
			return result, &PauseError{ExecutionID: execID, Calls: pause.Calls}
		}
	}
	if replay {
		_ = cfg.store.Delete(ctx, execID)
	}
	var runErr *Error
	switch {
	case err == nil:
		em.Emit(events.Finish{FinishReason: events.FinishStop, ExecutionID: execID})
	case isCancel(ctx, err):
		runErr = &Error{Message: "the run was cancelled", ExecutionID: execID, Cancelled: true, Err: err}
		em.Emit(events.Finish{FinishReason: events.FinishStop, ExecutionID: execID})
	default:
		ev := errorEvent(err)
		runErr = &Error{Type: ev.ErrorType, Message: ev.Message, ExecutionID: execID, Err: err}
		em.Emit(ev)
		em.Emit(events.Finish{FinishReason: events.FinishError, ExecutionID: execID})
	}
	em.Emit(events.Usage{
		Cost:   events.Cost{Currency: "USD"},
		Tokens: events.Tokens{InputTokens: out.Usage.InputTokens, OutputTokens: out.Usage.OutputTokens, TotalTokens: out.Usage.TotalTokens},
	})
	if runErr != nil {
		return result, runErr
	}
	return result, nil
}

// Execute runs the worker like Run and yields its events as they happen.
// When the run fails, the last pair carries a nil event and the run's
// *Error. Stopping the iteration early cancels the run.
func Execute(ctx context.Context, p *protocol.Protocol, input map[string]any, opts ...Option) iter.Seq2[events.Event, error] {
	return func(yield func(events.Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := false
		sink := func(ev events.Event) error {
			if !yield(ev, nil) {
				stopped = true
				cancel()
				return errStopped
			}
			return nil
		}
		_, err := Run(ctx, p, input, append(opts, WithEventSink(sink))...)
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

var errStopped = errors.New("the consumer stopped reading events")

// newExecutionID returns a random execution id.
func newExecutionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "exec_" + hex.EncodeToString(b)
}

// runner runs workers: the top-level one and the nested ones, which use
// the same model client and recorder, and resolve their tools through
// their parent.
type runner struct {
	client  llm.Client
	rec     *recorder
	servers *mcpServers
	// tool returns the handler of a tool name as the running protocol
	// calls it, or nil.
	tool func(name string) ToolHandler
}

// workerIdentity is how a worker run is named in its events.
type workerIdentity struct {
	// id is the workerId: the execution id of a standalone run.
	id, slug, description string
	// nested is true for a worker run by another.
	nested bool
}

// worker runs one worker to its end with its own state, emitting
// worker-start, its blocks and worker-result.
func (r *runner) worker(ctx context.Context, p *protocol.Protocol, who workerIdentity, input map[string]any, em *events.Emitter) (blocks.WorkerOutcome, error) {
	out := blocks.WorkerOutcome{HasOutput: p.Output.IsSet()}
	em.Emit(events.WorkerStart{WorkerID: who.id, WorkerSlug: who.slug, Description: who.description, Input: events.RawValue(input)})
	values, err := p.ResolveInput(input)
	state := blocks.NewState(who.id, values)
	if err == nil {
		initVariables(p, state)
		err = r.steps(ctx, p, state, em, nestedID(who))
	}
	out.Usage = state.Usage
	var pause *blocks.Pause
	if errors.As(err, &pause) {
		return out, err // the run goes on after the pause: no worker-result yet
	}
	if !who.nested {
		r.rec.live() // the end of a run always shows, even when a replay ends it
	}
	result := events.WorkerResult{WorkerID: who.id}
	switch {
	case err == nil:
		if out.HasOutput {
			out.Output = state.Values[p.Output.Value]
			result.Output = events.RawValue(out.Output)
		}
	case isCancel(ctx, err):
		result.Error, result.Cancelled = "cancelled", true
	default:
		result.Error = err.Error()
	}
	em.Emit(result)
	return out, err
}

// initVariables gives variables and resources their defaults.
func initVariables(p *protocol.Protocol, s *blocks.State) {
	for _, v := range p.Variables {
		if v.HasDefault {
			s.Values[v.Name.Value] = v.Default
		}
	}
	for _, v := range p.Resources {
		if v.HasDefault {
			s.Values[v.Name.Value] = v.Default
		}
	}
}

// nestedID is the workerId blocks put on pending tool calls: "" at the top
// level.
func nestedID(who workerIdentity) string {
	if who.nested {
		return who.id
	}
	return ""
}

// steps runs the steps from state.Step on, in order.
func (r *runner) steps(ctx context.Context, p *protocol.Protocol, state *blocks.State, em *events.Emitter, workerID string) error {
	fx := &effects{runner: r, protocol: p}
	for ; state.Step < len(p.Steps); state.Step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		step := p.Steps[state.Step]
		block, err := blocks.New(step)
		if err != nil {
			return err
		}
		env := &blocks.Env{Protocol: p, State: state, Effects: fx, Events: em, Step: step, BlockID: state.NewID("block"), WorkerID: workerID}
		em.Emit(blockStart(p, step, env.BlockID))
		err = block.Run(ctx, env)
		var pause *blocks.Pause
		if errors.As(err, &pause) {
			return err // the block goes on when the run continues
		}
		em.Emit(events.BlockEnd{BlockID: env.BlockID})
		if err != nil {
			return err
		}
		if err := em.Err(); err != nil {
			return fmt.Errorf("the event consumer failed: %w", err)
		}
	}
	return nil
}

// blockStart is the block-start event of a step.
func blockStart(p *protocol.Protocol, s *protocol.Step, id string) events.BlockStart {
	base := s.Block.Base()
	ev := events.BlockStart{
		BlockID:     id,
		BlockName:   s.Name.Value,
		BlockType:   s.Block.Kind(),
		Display:     s.DisplayMode(p),
		Description: base.Description.Value,
		Thread:      base.ThreadName,
	}
	if nm, ok := s.Block.(*protocol.NextMessage); ok && nm.Independent.Value {
		ev.OutputToChat = new(bool)
	}
	return ev
}
