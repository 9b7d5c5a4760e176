package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/runtime"
)

// defaultStateDir is where paused runs are kept unless --state-dir says.
const defaultStateDir = ".octrun"

// flags defines the output flags; --log-level defaults to logLevel ("off"
// for a run, "info" for the long-running serve and worker).
func (o *output) flags(fs *flag.FlagSet, logLevel string) {
	fs.StringVar(&o.events, "events", "", "")
	fs.BoolVar(&o.allEvents, "all-events", false, "")
	fs.StringVar(&o.logLevel, "log-level", logLevel, "")
	fs.StringVar(&o.logFormat, "log-format", "text", "")
}

// logLevels are the values of --log-level.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}

func (o output) check() error {
	if o.events != "" && o.events != "jsonl" && o.events != "sse" {
		return fmt.Errorf("--events must be jsonl or sse, got %q", o.events)
	}
	if _, ok := logLevels[o.logLevel]; !ok && o.logLevel != "off" {
		return fmt.Errorf("--log-level must be off, debug, info, warn or error, got %q", o.logLevel)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, got %q", o.logFormat)
	}
	return nil
}

// logger is the run's structured logger on standard error: none unless
// --log-level says.
func (o output) logger(w io.Writer) *slog.Logger {
	level, ok := logLevels[o.logLevel]
	if !ok {
		return slog.New(slog.DiscardHandler)
	}
	opts := &slog.HandlerOptions{Level: level}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// session shows one leg of a run and reports how it ended.
type session struct {
	output
	// std is the command's streams, the display's buffered (live).
	std stdio
	// live buffers the display: standard output with --events, standard
	// error (the progress, the log and the messages) otherwise.
	live *liveWriter
	sink events.Sink
	// flush writes out what the display holds: at the events a reader
	// waits for, and before the output.
	flush func() error
	// close ends the display (SSE's [DONE]) and flushes it.
	close func() error
	// ctx is the leg's context: the run is cancelled when the display
	// cannot be written any more (a closed pipe), as a user expects.
	ctx    context.Context
	cancel context.CancelFunc
	// sinkError is the display's first write error, set from the run's
	// sink goroutine or the display's timed write.
	sinkError atomic.Pointer[error]
}

// start opens the leg's event display: JSONL or SSE on standard output,
// or the progress display on standard error.
func (o output) start(ctx context.Context, std stdio) *session {
	s := &session{output: o, std: std}
	s.ctx, s.cancel = context.WithCancel(ctx)
	var sink events.Sink
	switch o.events {
	case "jsonl":
		s.live = newLiveWriter(std.out, s.failed)
		s.std.out = s.live
		sink, s.flush = events.NewJSONLWriter(s.live), s.live.flush
		s.close = s.flush
	case "sse":
		s.live = newLiveWriter(std.out, s.failed)
		s.std.out = s.live
		sse := events.NewSSEWriter(s.live)
		sink, s.flush = sse.Send, s.live.flush
		s.close = func() error { return errors.Join(sse.Close(), s.flush()) }
	default:
		// The progress is best effort: its write errors go unreported.
		s.live = newLiveWriter(std.err, nil)
		s.std.err = s.live
		sink = newProgress(s.live, isTerminal(std.err), o.allEvents).sink
		s.flush = func() error { _ = s.live.flush(); return nil }
		s.close = s.flush
	}
	s.sink = func(ev events.Event) error {
		err := sink(ev)
		if err == nil && waitedFor(ev) {
			err = s.flush()
		}
		if err != nil {
			s.failed(err)
		}
		return err
	}
	return s
}

// waitedFor reports whether a reader of the display waits for ev: the
// end of the run, its failure, or a pause.
func waitedFor(ev events.Event) bool {
	switch ev.(type) {
	case events.Finish, events.Error, events.ClientToolRequest:
		return true
	}
	return false
}

// failed records err, the display's write error, and cancels the leg.
func (s *session) failed(err error) {
	s.sinkError.CompareAndSwap(nil, &err)
	s.cancel()
}

// options are the run options of the display.
func (s *session) options() []runtime.Option {
	opts := []runtime.Option{runtime.WithEventSink(s.sink), runtime.WithLogger(s.logger(s.std.err))}
	if s.allEvents {
		opts = append(opts, runtime.WithAllEvents())
	}
	return opts
}

// finish reports how the leg ended and returns the exit code. A paused run
// keeps its backend in its snapshot (runtime.WithBackend) for `octrun
// continue`.
// resume holds the flags `octrun continue` needs besides the results.
func (s *session) finish(res *runtime.Result, err error, resume string) int {
	if re, ok := errors.AsType[*runtime.Error](err); ok && re.Refused {
		return s.refuse(re.Message, "")
	}
	defer s.end()
	if closeErr := s.close(); closeErr != nil {
		s.sinkError.CompareAndSwap(nil, &closeErr)
	}
	code := s.outcome(res, err, resume)
	if sinkErr := s.sinkError.Load(); sinkErr != nil {
		fmt.Fprintf(s.std.err, "octrun: the events could not be written: %v\n", *sinkErr)
		if code == exitOK || code == exitInterrupted {
			code = exitFailed
		}
	}
	return code
}

// outcome reports how the leg ended and returns its exit code.
func (s *session) outcome(res *runtime.Result, err error, resume string) int {
	var pause *runtime.PauseError
	var re *runtime.Error
	switch {
	case s.sinkError.Load() != nil && errors.As(err, &re) && re.Cancelled:
		fmt.Fprintln(s.std.err, "octrun: the run was cancelled")
		return exitFailed
	case errors.As(err, &pause):
		return s.paused(pause, resume)
	case errors.As(err, &re) && re.Cancelled:
		fmt.Fprintln(s.std.err, "octrun: interrupted; the run was cancelled")
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(s.std.err, "octrun: the worker failed: %v\n", err)
		return exitFailed
	}
	if s.events == "" && res.HasOutput {
		if err := writeOutput(s.std.out, res.Output); err != nil {
			fmt.Fprintf(s.std.err, "octrun: %v\n", err)
			return exitFailed
		}
	}
	return exitOK
}

// refuse ends a leg that was refused before it started and returns its
// exit code, 2 (rule C3). msg goes to standard error; with --events, the
// stream gets the error event of validation_error (msg, then detail: the
// problems standard error shows in another form) and finish, as a failed
// run ends, so that its consumer sees why nothing ran.
func (s *session) refuse(msg, detail string) int {
	defer s.end()
	if s.events != "" {
		text := msg
		if detail != "" {
			text += ":\n" + detail
		}
		_ = s.sink(events.Error{ErrorType: events.ErrorTypeValidation, Source: events.ErrorSourcePlatform, Message: text})
		_ = s.sink(events.Finish{FinishReason: events.FinishError})
		_ = s.close()
	}
	fmt.Fprintf(s.std.err, "octrun: %s\n", msg)
	return exitUsage
}

// end ends the leg: what the display holds is written out (the events
// were, by close; a write error of the progress goes unreported).
func (s *session) end() {
	_ = s.live.flush()
	s.cancel()
}

// refuse is session.refuse before the leg's display is open.
func (o output) refuse(std stdio, msg, detail string) int {
	return o.start(context.Background(), std).refuse(msg, detail)
}

// paused prints the pending calls and says how to continue.
func (s *session) paused(pause *runtime.PauseError, resume string) int {
	if s.events == "" {
		enc := json.NewEncoder(s.std.out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"executionId": pause.ExecutionID, "toolCalls": pause.Calls})
	}
	calls := make([]string, len(pause.Calls))
	for i, c := range pause.Calls {
		calls[i] = fmt.Sprintf("%s %s", c.ToolName, c.ToolCallID)
	}
	fmt.Fprintf(s.std.err, "octrun: paused: the worker needs the results of %d client tool call(s): %s.\n", len(calls), strings.Join(calls, ", "))
	fmt.Fprintf(s.std.err, "Write them as a JSON array of {\"toolCallId\": ..., \"result\": ...} (or \"error\": \"...\") and run:\n")
	fmt.Fprintf(s.std.err, "  octrun continue %s --results FILE%s\n", pause.ExecutionID, resume)
	return exitPaused
}

// stateDirFlag is the --state-dir flag continue needs for a store.
func stateDirFlag(store runtime.DirStore) string {
	if store.Dir == defaultStateDir {
		return ""
	}
	return " --state-dir " + store.Dir
}
