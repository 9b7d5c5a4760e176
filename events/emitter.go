package events

import "sync"

// Sink receives the events that reach a consumer, in order. An error means
// the consumer is gone: the Emitter records it and sends nothing more. The
// Emitter calls its sink with a lock held, so a sink must not call back
// into the Emitter.
type Sink func(Event) error

// Option configures an Emitter.
type Option func(*output)

// AllEvents makes the Emitter ignore display modes when all is true: every
// event of every block and of every nested worker reaches the sink (CLI
// --all-events, for debugging). workerId tagging is unchanged.
func AllEvents(all bool) Option {
	return func(o *output) { o.all = all }
}

// output is what an Emitter and all its nested emitters share.
type output struct {
	mu   sync.Mutex // serialises sink calls and guards all emitter state
	sink Sink
	all  bool
	err  error
}

// Emitter sends the events of a worker run to a sink, applying rules D8
// (workerId tagging) and D9 (display filtering) of PROTOCOL.md.
//
// Within one worker, every event passes except the content of a block
// whose display is not stream: Emit tracks the BlockStart and BlockEnd
// events it is given, and drops the events between them unless the block
// displays stream. block-start and block-end themselves always pass, and so
// do the events that are not block content: start, finish, error, usage,
// tool-request, client-tool-request, resource-update and the worker events
// (worker-start, worker-result, worker-input-*), which a worker's own
// display governs instead.
//
// A nested emitter (see Nested) forwards to its parent. The top level tags
// nothing. Emitters are safe for concurrent use; sink calls are serialised
// and never made concurrently, and an Emitter starts no goroutines.
type Emitter struct {
	out      *output
	parent   *Emitter // nil at the top level
	workerID string
	display  string
	blocks   []string // displays of the open blocks, innermost last
}

// NewEmitter returns the top-level emitter of a run writing to sink.
func NewEmitter(sink Sink, opts ...Option) *Emitter {
	out := &output{sink: sink}
	for _, opt := range opts {
		opt(out)
	}
	return &Emitter{out: out}
}

// Nested returns the emitter of a nested worker run with the given workerId
// and display mode ("" means stream, the documented default). A nested
// worker's events are filtered by that display alone, not by the display of
// e's open block (a run-worker block shows its worker by the worker's mode);
// what reaches e goes on by e's own forwarding rules if e is nested too.
// What it forwards to e:
//
//   - hidden: nothing, not even worker-start and worker-result;
//   - name, description, title: only the worker's own worker-start (with
//     its input removed) and worker-result;
//   - stream: everything, each event that has a workerId field tagged with
//     workerID unless it already carries one (so the events of a worker
//     nested deeper keep the innermost workerId).
//
// Whatever the mode, tool-request is always forwarded (tagged), since a
// paused run needs the consumer, and start, finish, error, usage,
// resource-update and client-tool-request are never forwarded: they belong
// to the top-level stream, and a nested run reports its end through
// worker-result.
func (e *Emitter) Nested(workerID, display string) *Emitter {
	return &Emitter{out: e.out, parent: e, workerID: workerID, display: display}
}

// Emit sends ev according to the rules above. After a sink error it does
// nothing; Err returns that error.
func (e *Emitter) Emit(ev Event) {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	if e.out.err != nil {
		return
	}
	switch ev := ev.(type) {
	case BlockStart:
		e.blocks = append(e.blocks, ev.Display)
	case BlockEnd:
		if len(e.blocks) > 0 {
			e.blocks = e.blocks[:len(e.blocks)-1]
		}
	default:
		if !e.out.all && len(e.blocks) > 0 && e.blocks[len(e.blocks)-1] != DisplayStream && isBlockContent(ev) {
			return
		}
	}
	e.send(ev)
}

// Err returns the first error of the sink, or nil.
func (e *Emitter) Err() error {
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	return e.out.err
}

// send passes ev up the chain of nested emitters to the sink.
func (e *Emitter) send(ev Event) {
	for ; e.parent != nil; e = e.parent {
		var ok bool
		if ev, ok = e.relay(ev); !ok {
			return
		}
	}
	if err := e.out.sink(ev); err != nil {
		e.out.err = err
	}
}

// relay applies the forwarding rules of a nested emitter (see Nested) to
// ev, reporting whether it reaches the parent and in what form.
func (e *Emitter) relay(ev Event) (Event, bool) {
	full := e.out.all || e.display == DisplayStream || e.display == ""
	switch ev := ev.(type) {
	case Start, Finish, Error, Usage, ResourceUpdate, ClientToolRequest:
		return nil, false
	case ToolRequest:
		return e.tag(ev), true
	case WorkerStart:
		if ev.WorkerID == e.workerID && !full {
			ev.Input = nil
			return ev, e.display != DisplayHidden
		}
	case WorkerResult:
		if ev.WorkerID == e.workerID && !full {
			return ev, e.display != DisplayHidden
		}
	}
	if !full {
		return nil, false
	}
	return e.tag(ev), true
}

// tag sets the workerId of ev to the emitter's unless ev already has one.
func (e *Emitter) tag(ev Event) Event {
	if ev.EventWorkerID() != "" {
		return ev
	}
	return ev.WithWorkerID(e.workerID)
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
