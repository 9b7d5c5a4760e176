// Package runtime is the in-process host of the interpreter (package
// interp): it runs worker protocols in this process, implements the
// effects that reach models, tools, MCP servers and nested workers, keeps
// the journal that lets a paused run continue, records each run's events
// in an event log (events.Log) and delivers them to sinks, and offers the
// public Run, Execute and Continue API.
package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/interp"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
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

// Run runs the worker p with input to its end. Events go to the event log
// (WithEventLog) and the sink (WithEventSink), if any. A failure is
// returned as an *Error whose Type is the errorType of the run's error
// event; a cancelled run returns an *Error that wraps the context's error;
// a run that needs the results of client tools returns a *PauseError and
// can be continued.
func Run(ctx context.Context, p *protocol.Protocol, input map[string]any, opts ...Option) (*Result, error) {
	if err := CheckProtocol(p); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	if err := cfg.checkStore(ctx, p); err != nil {
		return nil, err
	}
	snap := newSnapshot(cfg.executionID, p, input)
	return cfg.execute(ctx, p, snap, false)
}

// CheckProtocol refuses a protocol that did not load cleanly: every host
// runs only valid protocols. The error is an *Error of validation_error.
func CheckProtocol(p *protocol.Protocol) error {
	if p == nil || p.Diagnostics.HasErrors() {
		return &Error{Type: events.ErrorTypeValidation, Refused: true, Message: "the protocol is invalid: load it with protocol.Load and fix its errors first"}
	}
	return nil
}

// Continue resumes the paused run executionID with the results of its
// pending tool calls: every pending call needs one result. The snapshot
// comes from the store (WithStore; the default is in memory). The protocol
// is the one given with WithProtocol, else the one WithAgents finds by the
// snapshot's slug, else the folder the run was loaded from on this host;
// a protocol whose fingerprint differs from the one the run started with
// is refused. The continued run streams a new leg of events: start, the
// results, and what follows, numbered on from the paused leg.
//
// A paused run is continued once at a time: Continue claims it in the
// store (Claimer) and fails with ErrClaimed while another continue of it
// is under way.
func Continue(ctx context.Context, executionID string, results []events.ToolResult, opts ...Option) (*Result, error) {
	cfg := newConfig(opts)
	release, err := claim(ctx, cfg.store, executionID)
	if errors.Is(err, ErrClaimed) {
		return nil, &Error{Type: events.ErrorTypeValidation, Refused: true, ExecutionID: executionID, Err: err,
			Message: fmt.Sprintf("execution %s is %v", executionID, err)}
	}
	if err != nil {
		return nil, err
	}
	defer release()
	snap, err := cfg.store.Load(ctx, executionID)
	if err != nil {
		return nil, err
	}
	p, err := cfg.resolveProtocol(snap)
	if err != nil {
		return nil, err
	}
	if err := snap.Journal.supply(results); err != nil {
		return nil, &Error{Type: events.ErrorTypeValidation, Refused: true, ExecutionID: executionID, Message: fmt.Sprintf("execution %s: %v", executionID, err)}
	}
	if err := cfg.checkStore(ctx, p); err != nil {
		return nil, err
	}
	return cfg.execute(ctx, p, snap, true)
}

// resolveProtocol finds the protocol a paused run continues with.
func (cfg *config) resolveProtocol(snap *Snapshot) (*protocol.Protocol, error) {
	ref := snap.Protocol
	p, err := cfg.protocol, error(nil)
	switch {
	case p != nil:
	case cfg.agents != nil:
		p, err = cfg.agents(ref.Slug)
	case ref.Dir != "":
		p, err = protocol.Load(ref.Dir)
	default:
		err = errors.New("no protocol was given to continue it with (WithProtocol or WithAgents)")
	}
	if err != nil {
		return nil, fmt.Errorf("the protocol of execution %s (%s) cannot be loaded: %w", snap.ExecutionID, ref.Slug, err)
	}
	if err := ref.Matches(p); err != nil {
		return nil, &Error{Type: events.ErrorTypeValidation, Refused: true, ExecutionID: snap.ExecutionID, Err: err,
			Message: fmt.Sprintf("execution %s paused under another version of the protocol %s (%v); a paused run continues only with the files it started with", snap.ExecutionID, ref.Slug, err)}
	}
	return p, nil
}

// execute runs one leg of a run: from the start, or replaying the journal
// of a paused run silently up to where it stopped.
func (cfg *config) execute(ctx context.Context, p *protocol.Protocol, snap *Snapshot, replay bool) (*Result, error) {
	execID := snap.ExecutionID
	logger := cfg.logger
	if logger.Enabled(ctx, slog.LevelError) { // else it logs nothing: no need to name the run
		logger = logger.With("execution", execID, "worker", snap.Protocol.Slug)
	}
	started := time.Now()
	logger.InfoContext(ctx, "run leg started", "continued", replay)
	if !replay {
		for _, w := range p.InputWarnings(snap.Input) {
			logger.WarnContext(ctx, w)
		}
	}

	log := cfg.log
	if log == nil {
		log = events.NewLog(snap.NextSeq)
	}
	var sub *events.Subscription
	if cfg.sink != nil {
		sink := cfg.sink
		sub = log.Attach(log.Next(), func(r events.Record) error { return sink(r.Event) })
	}
	rec := newRecorder(&snap.Journal, replay)
	em := events.NewEmitter(func(s events.Scope, ev events.Event) {
		if rec.replaying && !endsLeg(s, ev) {
			return
		}
		if ev, ok := events.Route(s, ev, cfg.allEvents); ok {
			r := events.Record{Seq: log.Append(ev), Event: ev}
			if cfg.observer != nil {
				cfg.observer(r)
			}
		}
	})
	em.Emit(events.Start{ExecutionID: execID})

	// A leg that ends, or pauses again, must have asked for every effect
	// its journal recorded.
	verify := func() error { return rec.unasked(effect.Key{}, "") }
	// The snapshot is saved when the run pauses, before the pause unwinds
	// the blocks: a snapshot that cannot be saved fails the run there, and
	// its stream ends as a failed run's. The leg's last two events
	// (client-tool-request, finish) come after it.
	suspend := func(calls []events.PendingToolCall) error {
		if err := verify(); err != nil {
			return err
		}
		snap.Pending, snap.NextSeq = calls, log.Next()+2
		if err := cfg.save(ctx, p, snap); err != nil {
			return &effect.SuspendError{Err: fmt.Errorf("the run paused but its snapshot could not be saved: %w", err)}
		}
		return nil
	}
	servers := &mcp.Servers{Configs: cfg.mcpConfig}
	defer servers.Close()
	h := &host{executionID: execID, client: cfg.client, rec: rec, servers: servers, callerTools: HandlerTools(cfg.callerTools, cfg.handlers), events: em, log: logger, suspend: suspend}
	fx := &effects{host: h, protocol: p, tool: func(name string) ToolHandler { return cfg.handlers[name] }, callerName: func(name string) string { return name }}
	out, err := interp.Run(ctx, fx, em, interp.Worker{Protocol: p, ID: execID, Slug: p.Settings.Slug.Value,
		Description: p.Settings.Description.Value, Input: snap.Input, Verify: verify})
	result := &Result{Output: out.Output, HasOutput: out.HasOutput, Usage: out.Usage, ExecutionID: execID}
	defer func() {
		log.Close()
		if sub != nil {
			done, err := sub.Wait(cfg.sinkGrace)
			switch {
			case !done:
				logger.WarnContext(ctx, "the event sink did not take every event in time; it was left behind", "grace", cfg.sinkGrace)
			case err != nil:
				logger.WarnContext(ctx, "the event sink failed; it was sent nothing more", "error", err)
			}
		}
	}()

	if pause, ok := errors.AsType[*effect.Pause](err); ok {
		em.Emit(events.ClientToolRequest{ExecutionID: execID, ToolCalls: pause.Calls})
		em.Emit(events.Finish{FinishReason: events.FinishClientToolCalls, ExecutionID: execID})
		logger.InfoContext(ctx, "run leg paused for client tools", "calls", len(pause.Calls), "duration", time.Since(started))
		return result, &PauseError{ExecutionID: execID, Calls: pause.Calls}
	}
	if replay && err == nil {
		// A continued run that finished is done with its snapshot; one
		// that failed or was cancelled keeps it, so that it can be
		// continued again (with the same results after a passing
		// failure, or with others).
		_ = cfg.store.Delete(ctx, execID)
	}
	failure := interp.End(ctx, em, execID, out.Usage, err)
	switch {
	case err == nil:
		logger.InfoContext(ctx, "run finished", "duration", time.Since(started), "tokens", out.Usage.TotalTokens)
		return result, nil
	case failure == nil:
		logger.InfoContext(ctx, "run cancelled", "duration", time.Since(started))
		return result, &Error{Message: "the run was cancelled", ExecutionID: execID, Cancelled: true, Err: err}
	}
	logger.WarnContext(ctx, "run failed", "errorType", failure.ErrorType, "error", failure.Message, "duration", time.Since(started))
	return result, &Error{Type: failure.ErrorType, Message: failure.Message, ExecutionID: execID, Err: err}
}

// endsLeg reports whether an event is one that a replayed leg shows even
// before the replay ends: the top-level events that start and end a leg.
func endsLeg(s events.Scope, ev events.Event) bool {
	if len(s.Workers) > 0 {
		return false
	}
	switch ev.(type) {
	case events.Start, events.WorkerResult, events.Error, events.Finish, events.Usage, events.ClientToolRequest:
		return true
	}
	return false
}

// save stores a paused run's snapshot, naming its protocol by fingerprint
// the first time (only paused runs pay for hashing the files) and by its
// absolute folder for continuing on this host.
func (cfg *config) save(ctx context.Context, p *protocol.Protocol, snap *Snapshot) error {
	if snap.Protocol.Fingerprint == "" {
		snap.Protocol.Identity = p.Identity()
		if p.Dir != "" && !p.FromFS() {
			if dir, err := filepath.Abs(p.Dir); err == nil {
				snap.Protocol.Dir = dir
			}
		}
	}
	if err := snap.Journal.seal(); err != nil {
		return err
	}
	return cfg.store.Save(ctx, snap)
}

// checkStore refuses a run of p that may pause (pausable) when the store
// says it could not save the snapshot (SaveChecker): before anything ran.
func (cfg *config) checkStore(ctx context.Context, p *protocol.Protocol) error {
	checker, ok := cfg.store.(SaveChecker)
	if !ok {
		return nil
	}
	tools := cfg.pausable(p)
	if len(tools) == 0 {
		return nil
	}
	if err := checker.CheckSave(ctx); err != nil {
		return &Error{Type: events.ErrorTypeValidation, Refused: true, ExecutionID: cfg.executionID, Err: err,
			Message: fmt.Sprintf("the run may pause for client tools (%s) and its snapshot cannot be saved: %v; nothing ran", strings.Join(tools, ", "), err)}
	}
	return nil
}

// pausable lists what a run of p may pause for: the tools of p and of the
// workers it declares (by the names p's caller knows them by) that no
// handler here answers, and the MCP servers whose tools are the caller's.
func (cfg *config) pausable(p *protocol.Protocol) []string {
	var found []string
	add := func(s string) {
		if !slices.Contains(found, s) {
			found = append(found, s)
		}
	}
	servers := &mcp.Servers{Configs: cfg.mcpConfig}
	seen := map[*protocol.Protocol]bool{}
	var walk func(q *protocol.Protocol, up func(string) string)
	walk = func(q *protocol.Protocol, up func(string) string) {
		if q == nil || seen[q] {
			return
		}
		seen[q] = true
		for _, t := range q.Tools {
			if name := up(t.Name.Value); cfg.handlers[name] == nil {
				add(name)
			}
		}
		for _, m := range q.MCPServers {
			if !servers.Connected(q, m.Name.Value) {
				add("the caller's tools of MCP server " + m.Name.Value)
			}
		}
		for _, w := range q.Workers {
			walk(w.Protocol, mapUp(w, up))
		}
	}
	walk(p, func(name string) string { return name })
	return found
}

// mapUp returns the function that names a tool of the worker declared by
// w the way the caller of the run knows it, given the one of w's caller
// (the declaration's tool mapping, rule §6.5).
func mapUp(w *protocol.WorkerDecl, up func(string) string) func(string) string {
	mapped := map[string]string{}
	for _, m := range w.Tools {
		mapped[m.Label.Value] = m.Source.Value
	}
	return func(name string) string {
		if to, ok := mapped[name]; ok {
			name = to
		}
		return up(name)
	}
}

// Execute runs the worker like Run and yields its events as they happen.
// When the run fails, is cancelled or pauses for client tools, the last
// pair carries a nil event and the run's error (an *Error or a
// *PauseError). Stopping the iteration early cancels the run.
func Execute(ctx context.Context, p *protocol.Protocol, input map[string]any, opts ...Option) iter.Seq2[events.Event, error] {
	return func(yield func(events.Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		log := events.NewLog(1)
		done := make(chan error, 1)
		go func() {
			_, err := Run(ctx, p, input, append(opts, WithEventLog(log))...)
			log.Close()
			done <- err
		}()
		// The log is read to its end even when ctx ends: a cancelled run
		// still closes its stream (worker-result, finish, usage).
		for r := range log.Records(context.WithoutCancel(ctx), 1) {
			if !yield(r.Event, nil) {
				cancel()
				<-done
				return
			}
		}
		if err := <-done; err != nil {
			yield(nil, err)
		}
	}
}

// NewExecutionID returns a random execution id, as a run gets when none
// is given.
func NewExecutionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "exec_" + hex.EncodeToString(b)
}

// discardLogger logs nothing: runs are quiet unless WithLogger says.
var discardLogger = slog.New(slog.DiscardHandler)
