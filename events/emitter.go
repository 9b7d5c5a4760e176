package events

import (
	"slices"
	"sync"
)

// Scope says where in a run an event was emitted, as plain data: the chain
// of nested worker runs it comes from and the display modes that govern
// it. Route decides from a Scope alone what a consumer sees of an event, so
// whichever process emits an event (the interpreter, or an effect executor
// on another host) can route it the same way (rules D8 and D9).
type Scope struct {
	// Workers is the chain of nested worker runs the event comes from,
	// outermost first; empty at the top level.
	Workers []WorkerScope `json:"workers,omitempty"`
	// Block is the display mode of the block the event is content of, ""
	// outside a block (and for block-start and block-end themselves).
	Block string `json:"block,omitempty"`
	// Tool is the display mode of the tool card the event belongs to, ""
	// for events that are not part of a tool card.
	Tool string `json:"tool,omitempty"`
}

// WorkerScope is one nested worker run of a Scope.
type WorkerScope struct {
	ID      string `json:"id"`
	Display string `json:"display,omitempty"`
}

// Nested returns the scope of a worker run nested in s, with its workerId
// and display mode ("" means stream).
func (s Scope) Nested(workerID, display string) Scope {
	return Scope{Workers: append(slices.Clip(s.Workers), WorkerScope{ID: workerID, Display: display})}
}

// InBlock returns s for the content of a block displayed as display.
func (s Scope) InBlock(display string) Scope {
	s.Tool = ""
	s.Block = display
	return s
}

// ForTool returns s for the events of a tool card displayed as display.
func (s Scope) ForTool(display string) Scope {
	s.Tool = display
	return s
}

// Target receives a run's events with their scopes, unfiltered: it is
// where a host routes (Route) and records them.
type Target func(Scope, Event)

// Emitter emits the events of one part of a run with their Scope. The
// interpreter gives each worker run an Emitter; block-start and block-end
// open and close a block's scope, so the events emitted in between are that
// block's content. Emitters are safe for concurrent use and start no
// goroutines; they filter nothing themselves (see Route).
type Emitter struct {
	target Target
	scope  Scope

	mu     *sync.Mutex
	blocks []string // displays of the open blocks, innermost last
}

// NewEmitter returns the top-level emitter of a run sending to target.
func NewEmitter(target Target) *Emitter {
	return &Emitter{target: target, mu: &sync.Mutex{}}
}

// At returns an emitter that emits with the fixed scope s: the emitter of
// an effect executor, which received the scope with its request.
func (e *Emitter) At(s Scope) *Emitter {
	return &Emitter{target: e.target, scope: s, mu: &sync.Mutex{}}
}

// Nested returns the emitter of a worker run nested in e's, with the given
// workerId and display mode ("" means stream).
func (e *Emitter) Nested(workerID, display string) *Emitter {
	return e.At(e.scope.Nested(workerID, display))
}

// Scope returns the scope an event emitted now with Emit would have.
func (e *Emitter) Scope() Scope {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.current()
}

// current is the scope of content emitted now; e.mu must be held.
func (e *Emitter) current() Scope {
	if len(e.blocks) == 0 {
		return e.scope
	}
	return e.scope.InBlock(e.blocks[len(e.blocks)-1])
}

// Emit sends ev to the target with its scope. BlockStart opens a block and
// BlockEnd closes it; both are outside the block they delimit.
func (e *Emitter) Emit(ev Event) {
	e.mu.Lock()
	var s Scope
	switch ev := ev.(type) {
	case BlockStart:
		s = e.current()
		s.Block, s.Tool = "", ""
		e.blocks = append(e.blocks, ev.Display)
	case BlockEnd:
		if len(e.blocks) > 0 {
			e.blocks = e.blocks[:len(e.blocks)-1]
		}
		s = e.current()
		s.Block, s.Tool = "", ""
	default:
		s = e.current()
	}
	e.mu.Unlock()
	e.target(s, ev)
}

// EmitTool sends ev as part of the card of a tool call displayed as
// display (rule §6.4).
func (e *Emitter) EmitTool(display string, ev Event) {
	e.mu.Lock()
	s := e.current().ForTool(display)
	e.mu.Unlock()
	e.target(s, ev)
}

// Route decides what a consumer sees of an event emitted in scope s: the
// event, possibly reduced and tagged with a workerId, and whether it is
// seen at all. It is the one place where display modes apply; with all set
// (--all-events) nothing is hidden or reduced, only tagged.
//
// Tool cards (rule §6.4): hidden shows nothing; name and title
// show the call without its arguments and result; description and stream
// show everything.
//
// Blocks (rule D9): the content of a block whose display is not stream is not
// shown. block-start and block-end always are, and so are the events that
// are not block content: start, finish, error, usage, tool-request,
// client-tool-request, resource-update and the worker events
// (worker-start, worker-result, worker-input-*), which a worker's own
// display governs instead.
//
// Nested workers (rule D8), from the innermost out; a nested worker's events
// are filtered by its own display alone, not by the display of the block
// that runs it:
//
//   - hidden: nothing, not even worker-start and worker-result;
//   - name, description, title: only the worker's own worker-start (with
//     its input removed) and worker-result;
//   - stream: everything, each event that has a workerId field tagged with
//     the worker's id unless it already carries one (so the events of a
//     worker nested deeper keep the innermost workerId).
//
// Whatever the mode, tool-request is always forwarded (tagged), since a
// paused run needs the consumer, and start, finish, error, usage,
// resource-update and client-tool-request never leave a nested worker:
// they belong to the top-level stream.
func Route(s Scope, ev Event, all bool) (Event, bool) {
	if !all {
		var ok bool
		if ev, ok = toolView(s.Tool, ev); !ok {
			return nil, false
		}
		if s.Block != "" && s.Block != DisplayStream && isBlockContent(ev) {
			return nil, false
		}
	}
	for i := len(s.Workers) - 1; i >= 0; i-- {
		var ok bool
		if ev, ok = relay(s.Workers[i], ev, all); !ok {
			return nil, false
		}
	}
	return ev, true
}

// toolView applies a tool card's display to one of its events.
func toolView(display string, ev Event) (Event, bool) {
	switch display {
	case "", DisplayDescription, DisplayStream:
		return ev, true
	case DisplayHidden:
		return nil, false
	}
	switch ev := ev.(type) {
	case ToolInputDelta:
		return nil, false
	case ToolInputAvailable:
		ev.Input = []byte("{}")
		return ev, true
	case ToolOutputAvailable:
		ev.Output = []byte("null")
		return ev, true
	}
	return ev, true
}

// relay applies the forwarding rules of nested worker w to ev.
func relay(w WorkerScope, ev Event, all bool) (Event, bool) {
	full := all || w.Display == DisplayStream || w.Display == ""
	switch ev := ev.(type) {
	case Start, Finish, Error, Usage, ResourceUpdate, ClientToolRequest:
		return nil, false
	case ToolRequest:
		return tag(ev, w.ID), true
	case WorkerStart:
		if ev.WorkerID == w.ID && !full {
			ev.Input, ev.Warnings = nil, nil
			return ev, w.Display != DisplayHidden
		}
	case WorkerResult:
		if ev.WorkerID == w.ID && !full {
			return ev, w.Display != DisplayHidden
		}
	}
	if !full {
		return nil, false
	}
	return tag(ev, w.ID), true
}

// tag sets the workerId of ev to id unless ev already has one.
func tag(ev Event, id string) Event {
	if ev.EventWorkerID() != "" {
		return ev
	}
	return ev.WithWorkerID(id)
}

// isBlockContent reports whether ev is content of the block it is emitted
// in, and so subject to the block's display.
func isBlockContent(ev Event) bool {
	switch ev.(type) {
	case Start, Finish, Error, Usage, ToolRequest, ClientToolRequest, ResourceUpdate,
		WorkerStart, WorkerResult, WorkerInputStart, WorkerInputDelta, WorkerInputReady:
		return false
	}
	return true
}

// Routed returns a Target that routes each event (Route) and passes what a
// consumer sees to sink, ignoring the sink's errors: the simplest way to
// watch a run's events in order, for tests and small tools. Hosts record
// events in a Log instead.
func Routed(sink Sink, all bool) Target {
	return func(s Scope, ev Event) {
		if ev, ok := Route(s, ev, all); ok {
			_ = sink(ev)
		}
	}
}
