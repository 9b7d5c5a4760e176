package blocks

import (
	"context"
	"errors"
	"fmt"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/protocol"
)

// ToolCall calls a tool deterministically with the block's arguments and
// stores the result (PROTOCOL.md 3.5). A tool error fails the run with
// errorType tool_error (D11).
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
	tool := findTool(env.Protocol, d.Tool.Value)
	call := ToolInvocation{Name: d.Tool.Value, CallID: env.State.NewID("call"), Args: args}
	card := newToolCard(env.Events, tool)
	card.start(call.CallID, call.Name)
	card.input(call.CallID, call.Name, events.RawValue(args))
	result, err := env.Effects.CallTool(ctx, call)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, ErrClientTool) {
		step := env.State.Step
		return &Pause{Calls: []events.PendingToolCall{{
			ToolCallID: call.CallID, ToolName: call.Name, Args: events.RawValue(args), Source: events.ToolSourceBlock,
			OutputVariable: d.Output.Value, BlockIndex: &step, Thread: d.Thread.Value, WorkerID: env.WorkerID,
		}}}
	}
	if err != nil {
		card.failed(call.CallID, err.Error())
		return &Error{Type: ErrTool, Source: events.ErrorSourceTool, Tool: call.Name, CallID: call.CallID, Err: err,
			Message: fmt.Sprintf("block %q: tool %q failed: %v", b.step.Name.Value, call.Name, err)}
	}
	card.output(call.CallID, events.RawValue(result))
	if d.Output.IsSet() {
		env.State.Values[d.Output.Value] = result
	}
	return nil
}

// findTool returns the protocol's definition of a tool, or nil.
func findTool(p *protocol.Protocol, name string) *protocol.ToolDef {
	return p.Tool(name)
}

// toolCard emits the events of one tool call according to the tool's
// display mode (PROTOCOL.md 6.4): hidden emits nothing; name and title
// show the call without its arguments and result; description and stream
// show everything.
type toolCard struct {
	ev      *events.Emitter
	display string
	title   string
}

func newToolCard(ev *events.Emitter, tool *protocol.ToolDef) toolCard {
	if tool == nil {
		return toolCard{ev: ev, display: events.DisplayDescription}
	}
	return cardFor(ev, tool.Display.Or(events.DisplayDescription), tool.Description.Value, tool.Title.Value)
}

// cardFor is the card of a display mode: its label is the title in title
// mode, the description in description and stream modes, none otherwise.
func cardFor(ev *events.Emitter, display, description, title string) toolCard {
	c := toolCard{ev: ev, display: display}
	switch display {
	case events.DisplayTitle:
		c.title = title
	case events.DisplayDescription, events.DisplayStream:
		c.title = description
	}
	return c
}

func (c toolCard) hidden() bool { return c.display == events.DisplayHidden }

// detailed reports whether arguments and results are shown.
func (c toolCard) detailed() bool {
	return c.display == events.DisplayDescription || c.display == events.DisplayStream
}

func (c toolCard) start(id, name string) {
	if !c.hidden() {
		c.ev.Emit(events.ToolInputStart{ToolCallID: id, ToolName: name, Title: c.title, Display: c.display})
	}
}

func (c toolCard) delta(id, text string) {
	if c.detailed() {
		c.ev.Emit(events.ToolInputDelta{ToolCallID: id, InputTextDelta: text})
	}
}

// input ends the arguments and shows them ({} unless detailed).
func (c toolCard) input(id, name string, args []byte) {
	if c.hidden() {
		return
	}
	if !c.detailed() {
		args = []byte("{}")
	}
	c.ev.Emit(events.ToolInputEnd{ToolCallID: id})
	c.ev.Emit(events.ToolInputAvailable{ToolCallID: id, ToolName: name, Input: args})
}

func (c toolCard) output(id string, result []byte) {
	if c.hidden() {
		return
	}
	if !c.detailed() {
		result = []byte("null")
	}
	c.ev.Emit(events.ToolOutputAvailable{ToolCallID: id, Output: result})
}

func (c toolCard) failed(id, msg string) {
	if !c.hidden() {
		c.ev.Emit(events.ToolOutputError{ToolCallID: id, Error: msg})
	}
}
