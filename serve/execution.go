package serve

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

// status is where an execution is.
type status int

const (
	running status = iota // a leg runs
	paused                // waiting for the caller's tool results
	ended                 // finished, failed or cancelled: nothing more comes
)

// execution is one execution the server runs or ran: its events, in the
// HTTP wire form, numbered from 1 across its legs, and its state.
type execution struct {
	id          string
	agent       *protocol.Protocol
	callerTools []llm.Tool

	mu      sync.Mutex
	status  status
	records []events.Record
	// changed is closed and replaced whenever records or status change.
	changed chan struct{}
	// pending are the calls a paused execution waits for.
	pending []events.PendingToolCall
	// called are the ids of every tool call of the execution, so that a
	// continue may repeat results of calls the server answered itself.
	called map[string]bool
	// supplied are the ids of calls whose results the caller supplied:
	// their tool outputs are not sent back (the caller showed them).
	supplied map[string]bool
	// finishedLeg is set once the running leg sent its finish event.
	finishedLeg bool
	// since is when the execution paused or ended, for forgetting it.
	since time.Time
}

func newExecution(id string, p *protocol.Protocol, callerTools []llm.Tool) *execution {
	return &execution{id: id, agent: p, callerTools: callerTools, changed: make(chan struct{}),
		called: map[string]bool{}, supplied: map[string]bool{}}
}

// emit appends an event of the running leg in its HTTP wire form (rule
// H3): a pause is announced as tool-request and finish{tool-calls}, and
// the outputs of calls the caller answered are left out.
func (e *execution) emit(ev events.Event) {
	switch v := ev.(type) {
	case events.ClientToolRequest:
		ev = events.ToolRequest{ToolCalls: v.ToolCalls}
	case events.Finish:
		if v.FinishReason == events.FinishClientToolCalls {
			v.FinishReason, v.ExecutionID = events.FinishToolCalls, ""
			ev = v
		}
	case events.ToolInputAvailable:
		e.mu.Lock()
		e.called[v.ToolCallID] = true
		e.mu.Unlock()
	case events.ToolOutputAvailable:
		if e.isSupplied(v.ToolCallID) {
			return
		}
	case events.ToolOutputError:
		if e.isSupplied(v.ToolCallID) {
			return
		}
	}
	e.mu.Lock()
	if _, ok := ev.(events.Finish); ok {
		e.finishedLeg = true
	}
	e.records = append(e.records, events.Record{Seq: int64(len(e.records)) + 1, Event: ev})
	e.notifyLocked()
	e.mu.Unlock()
}

// legFinished reports whether the running leg sent its finish event.
func (e *execution) legFinished() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.finishedLeg
}

func (e *execution) isSupplied(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.supplied[id]
}

func (e *execution) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// claim checks the results of a continue against the calls the paused
// execution waits for and, when they answer them, marks it running: all
// under one lock, so that two continues cannot both pass. It returns the
// results that answer the pending calls (results of calls the server
// answered itself are ignored), or the refusal's HTTP status and error.
func (e *execution) claim(results []events.ToolResult) ([]events.ToolResult, int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.status {
	case running:
		return nil, http.StatusConflict, fmt.Errorf("execution %s is running a leg already; continue it once that leg ends", e.id)
	case ended:
		return nil, http.StatusConflict, fmt.Errorf("execution %s has ended; start a new one", e.id)
	}
	var answers []events.ToolResult
	for _, res := range results {
		switch {
		case pendingCall(e.pending, res.ToolCallID):
			answers = append(answers, res)
		case !e.called[res.ToolCallID]:
			return nil, http.StatusBadRequest, fmt.Errorf("execution %s made no tool call %q", e.id, res.ToolCallID)
		}
	}
	if _, err := effect.MatchResults(e.pending, answers); err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("execution %s: %v", e.id, err)
	}
	e.status = running
	for _, a := range answers {
		e.supplied[a.ToolCallID] = true
	}
	return answers, 0, nil
}

// unclaim gives a claimed execution back to its pause: the continue did
// not happen.
func (e *execution) unclaim(answers []events.ToolResult) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range answers {
		delete(e.supplied, a.ToolCallID)
	}
	e.status = paused
	e.notifyLocked()
}

// pendingCall reports whether id is one of the pending calls.
func pendingCall(pending []events.PendingToolCall, id string) bool {
	for _, c := range pending {
		if c.ToolCallID == id {
			return true
		}
	}
	return false
}

// next is the sequence number of the execution's next event.
func (e *execution) next() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return int64(len(e.records)) + 1
}

// setStatus records where the execution is after a leg.
func (e *execution) setStatus(s status, pending []events.PendingToolCall) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status, e.pending, e.since = s, pending, time.Now()
	e.notifyLocked()
}

// stale reports whether the execution may be forgotten: it ended longer
// than keep ago, or paused longer than keepPaused ago.
func (e *execution) stale(now time.Time, keep, keepPaused time.Duration) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.status {
	case ended:
		return now.Sub(e.since) > keep
	case paused:
		return now.Sub(e.since) > keepPaused
	}
	return false
}

// read returns the events from sequence number from on that are there,
// and whether more may come (a leg runs); when there are none yet and more
// may come, wait is closed once something changes.
func (e *execution) read(from int64) (recs []events.Record, more bool, wait <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if from < 1 {
		from = 1
	}
	if from <= int64(len(e.records)) {
		recs = slices.Clone(e.records[from-1:])
	}
	return recs, e.status == running, e.changed
}
