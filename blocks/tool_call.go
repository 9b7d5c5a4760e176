package blocks

import (
	"context"
	"errors"
	"fmt"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/protocol"
)

// ToolCall calls a tool deterministically with the block's arguments and
// stores the result (rule §3.5). A client tool's result is
// awaited from the caller of the run. A tool error fails the run with
// errorType tool_error (rule D11).
type ToolCall struct {
	step *protocol.Step
	def  *protocol.ToolCall
}

// Run implements Block.
func (b *ToolCall) Run(ctx context.Context, env *Env) error {
	d := b.def
	args := make(map[string]any, len(d.Input))
	for _, a := range d.Input {
		if a.Ref == "" {
			args[a.Name.Value] = a.Literal
		} else if v, ok := env.State.Values[a.Ref]; ok {
			args[a.Name.Value] = v
		}
	}
	card := toolCard(env.Protocol.Tool(d.Tool.Value))
	call := effect.ToolRequest{Key: env.key(), Name: d.Tool.Value, CallID: env.State.NewID("call"), Args: args}
	env.Events.EmitTool(card.Display, events.ToolInputStart{ToolCallID: call.CallID, ToolName: call.Name, Title: card.Title, Display: card.Display})
	env.Events.EmitTool(card.Display, events.ToolInputEnd{ToolCallID: call.CallID})
	env.Events.EmitTool(card.Display, events.ToolInputAvailable{ToolCallID: call.CallID, ToolName: call.Name, Input: events.RawValue(args)})
	res, err := env.Effects.CallTool(ctx, call)
	if err != nil {
		return err
	}
	if res.Client {
		step := env.State.Step
		answers, err := env.Effects.AwaitToolResults(ctx, effect.AwaitRequest{Key: env.key(), Calls: []events.PendingToolCall{{
			ToolCallID: call.CallID, ToolName: call.Name, Args: events.RawValue(args), Source: events.ToolSourceBlock,
			OutputVariable: d.Output.Value, BlockIndex: &step, Thread: d.Thread.Value, WorkerID: env.WorkerID,
		}}})
		if err != nil {
			return err
		}
		if res, err = clientResult(answers, call.CallID); err != nil {
			return err
		}
	}
	if res.Error != "" {
		env.Events.EmitTool(card.Display, events.ToolOutputError{ToolCallID: call.CallID, Error: res.Error})
		return &Error{Type: ErrTool, Source: events.ErrorSourceTool, Tool: call.Name, CallID: call.CallID, Err: errors.New(res.Error),
			Message: fmt.Sprintf("block %q: tool %q failed: %s", b.step.Name.Value, call.Name, res.Error)}
	}
	result, err := res.Value()
	if err != nil {
		return executionError("block %q: the result of tool %q is not JSON: %v", b.step.Name.Value, call.Name, err)
	}
	env.Events.EmitTool(card.Display, events.ToolOutputAvailable{ToolCallID: call.CallID, Output: events.RawValue(result)})
	if d.Output.IsSet() {
		env.State.Values[d.Output.Value] = result
	}
	return nil
}
