// Package interp is the interpreter of worker protocols, the one every host
// runs: the step loop over a protocol's blocks, a worker run's lifecycle
// events, and the end of a top-level run. It is parameterized by the
// effect.Effects that reach the world and the events.Emitter that carries
// events to the host, and does nothing else: no I/O, no clock, no
// randomness, no goroutines, so a durable host can replay it.
//
// A top-level run streams start, worker-start, then block-start ...
// block-end per step, worker-result, finish and usage (rule
// §7.6); the host emits start and calls End for the rest. A failed run
// emits an error event and worker-result with the error, and finishes with
// finishReason error (rule D6). A cancelled run emits worker-result with
// cancelled set and finishes with finishReason stop (rule §8.5).
package interp

import (
	"context"
	"errors"
	"strings"

	"github.com/octrun/octrun/blocks"
	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

// Version is the interpreter's version. It changes whenever the
// interpreter or a block would decide differently given the same effect
// results, so that a durable host refuses to continue a run recorded under
// another version (its history would replay differently).
const Version = "1"

// Worker is one worker run to interpret.
type Worker struct {
	Protocol *protocol.Protocol
	// ID is the workerId: the execution id of a top-level run, the nested
	// run's id otherwise. Every id of the run derives from it.
	ID string
	// Slug is how worker-start names the worker: the protocol's slug at the
	// top level, the name its caller declared it under when nested.
	Slug string
	// Description is how worker-start describes the run.
	Description string
	// Nested is true for a worker run by another.
	Nested bool
	Input  map[string]any
	// Verify, if set, is called when the worker's steps ended without
	// error, before its worker-result: its error fails the run. (The
	// in-process host checks there that a replay asked for every effect it
	// recorded.)
	Verify func() error
}

// Outcome is what a worker run returned.
type Outcome struct {
	// Output is the value of the output variable; HasOutput is false when
	// the protocol declares none.
	Output    any
	HasOutput bool
	// Usage adds up the tokens of every model call of the run, nested
	// workers included.
	Usage llm.Usage
}

// Run runs a worker to its end with its own state, emitting worker-start,
// its blocks and worker-result on em, and asking fx for every effect. A
// run that pauses for client tools (an *effect.Pause) returns before
// worker-result: it goes on when it continues.
func Run(ctx context.Context, fx effect.Effects, em *events.Emitter, w Worker) (Outcome, error) {
	p := w.Protocol
	out := Outcome{HasOutput: p.Output.IsSet()}
	input := w.Input
	if input == nil {
		input = map[string]any{} // worker-start's input is an object, even for no input
	}
	em.Emit(events.WorkerStart{WorkerID: w.ID, WorkerSlug: w.Slug, Description: w.Description, Input: events.RawValue(input), Warnings: p.InputWarnings(input)})
	values, err := p.ResolveInput(w.Input)
	state := blocks.NewState(w.ID, values)
	if err == nil {
		initVariables(p, state)
		nestedID := ""
		if w.Nested {
			nestedID = w.ID
		}
		err = steps(ctx, p, state, fx, em, nestedID)
	}
	if err == nil && w.Verify != nil {
		err = w.Verify()
	}
	out.Usage = state.Usage
	var pause *effect.Pause
	if errors.As(err, &pause) {
		return out, err
	}
	result := events.WorkerResult{WorkerID: w.ID}
	switch {
	case err == nil:
		if out.HasOutput {
			out.Output = state.Values[p.Output.Value]
			result.Output = events.RawValue(out.Output)
		}
	case IsCancel(ctx, err):
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

// steps runs the steps from state.Step on, in order. workerID is the id of
// a nested run ("" at the top level): it routes the results of paused tool
// calls (rule §6.3).
func steps(ctx context.Context, p *protocol.Protocol, state *blocks.State, fx effect.Effects, em *events.Emitter, workerID string) error {
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
		if _, paused := errors.AsType[*effect.Pause](err); paused {
			return err // the block goes on when the run continues
		}
		em.Emit(events.BlockEnd{BlockID: env.BlockID})
		if err != nil {
			return err
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

// End emits the end of a top-level run that did not pause: finish (with
// an error event before it for a failure) and usage. It returns the error
// event of a failure, nil for a run that finished or was cancelled.
func End(ctx context.Context, em *events.Emitter, executionID string, usage llm.Usage, err error) *events.Error {
	var failure *events.Error
	switch {
	case err == nil, IsCancel(ctx, err):
		em.Emit(events.Finish{FinishReason: events.FinishStop, ExecutionID: executionID})
	default:
		ev := ErrorEvent(err)
		failure = &ev
		em.Emit(ev)
		em.Emit(events.Finish{FinishReason: events.FinishError, ExecutionID: executionID})
	}
	// Every model call is paid with the caller's own provider key: octrun
	// charges nothing, and the cost is bring-your-own-key.
	em.Emit(events.Usage{
		Cost:   events.Cost{Currency: "USD", BYOK: true},
		Tokens: events.Tokens{InputTokens: usage.InputTokens, OutputTokens: usage.OutputTokens, TotalTokens: usage.TotalTokens},
	})
	return failure
}

// Failure is a failure classified where it happened (a nested worker's
// run on another host): ErrorEvent keeps its classification.
type Failure struct {
	Event events.Error
}

func (f *Failure) Error() string { return f.Event.Message }

// ErrorEvent classifies a failure into the error event (rule §7.1).
func ErrorEvent(err error) events.Error {
	ev := events.Error{ErrorType: events.ErrorTypeExecution, Source: events.ErrorSourcePlatform, Message: err.Error()}
	var inputErr *protocol.InputError
	var llmErr *llm.Error
	var blockErr *blocks.Error
	var failure *Failure
	switch {
	case errors.As(err, &failure):
		ev = failure.Event
		ev.Message = err.Error()
	case errors.As(err, &inputErr):
		ev.ErrorType = events.ErrorTypeValidation
	case errors.As(err, &llmErr):
		ev.ErrorType = events.ErrorType(llmErr.Type)
		ev.Source = events.ErrorSourceProvider
		ev.Retryable = llmErr.Retryable
		if llmErr.RetryAfter > 0 {
			secs := llmErr.RetryAfter.Seconds()
			ev.RetryAfter = &secs
		}
		ev.Provider = &events.ProviderErrorInfo{Name: provider(llmErr), Model: llmErr.Model, StatusCode: llmErr.StatusCode}
	case errors.As(err, &blockErr):
		ev.ErrorType = blockErr.Type
		if blockErr.Source != "" {
			ev.Source = blockErr.Source
		}
		if blockErr.Tool != "" {
			ev.Tool = &events.ToolErrorInfo{Name: blockErr.Tool, CallID: blockErr.CallID}
		}
	}
	return ev
}

// provider names the provider of a model error.
func provider(e *llm.Error) string {
	if e.Provider != "" {
		return e.Provider
	}
	name, _, _ := strings.Cut(e.Model, "/")
	return name
}

// IsCancel reports whether err is the end of ctx: a cancelled run.
func IsCancel(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
