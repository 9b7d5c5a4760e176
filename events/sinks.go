package events

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// NewJSONLWriter returns a sink that writes each event to w as one JSON
// object on a line, in the order received, in one Write call per event,
// flushing w after each event when w has a Flush method (http.Flusher,
// bufio.Writer).
func NewJSONLWriter(w io.Writer) Sink {
	var mu sync.Mutex
	enc := NewEncoder()
	var buf []byte
	return func(ev Event) error {
		mu.Lock()
		defer mu.Unlock()
		b, err := enc.Append(buf[:0], ev)
		if err != nil {
			return encodeError(ev, err)
		}
		b = append(b, '\n')
		buf = keep(b)
		if _, err := w.Write(b); err != nil {
			return err
		}
		return flush(w)
	}
}

// encodeError is the error of a writer that cannot encode ev.
func encodeError(ev Event, err error) error {
	return fmt.Errorf("events: encode %s event: %w", ev.EventType(), err)
}

// SSEWriter writes events as Server-Sent Events, the Octavus transport:
// `data: <json>` and a blank line per event, then `data: [DONE]` on Close.
// Heartbeats are the HTTP server's business.
type SSEWriter struct {
	mu     sync.Mutex
	w      io.Writer
	enc    *Encoder
	buf    []byte
	closed bool
}

// NewSSEWriter returns an SSEWriter on w, writing each event in one Write
// call and flushing w after it when w has a Flush method (http.Flusher,
// bufio.Writer). Its Send method is the Sink.
func NewSSEWriter(w io.Writer) *SSEWriter { return &SSEWriter{w: w, enc: NewEncoder()} }

// Send writes one event. It is a Sink; after Close it fails.
func (s *SSEWriter) Send(ev Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.enc.Append(append(s.buf[:0], "data: "...), ev)
	if err != nil {
		return encodeError(ev, err)
	}
	if s.closed {
		return errors.New("events: SSE stream already closed")
	}
	b = append(b, "\n\n"...)
	s.buf = keep(b)
	return s.write(b)
}

// Close ends the stream with `data: [DONE]`. It does not close the
// underlying writer; a second Close does nothing.
func (s *SSEWriter) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.write([]byte("data: [DONE]\n\n"))
}

// write writes b in one call and flushes; s.mu must be held.
func (s *SSEWriter) write(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return flush(s.w)
}

// flush flushes w if it can be flushed.
func flush(w io.Writer) error {
	switch f := w.(type) {
	case interface{ Flush() }: // http.Flusher
		f.Flush()
	case interface{ Flush() error }: // bufio.Writer
		return f.Flush()
	}
	return nil
}

// Collector is a sink that keeps events in memory, for tests and library
// callers that want the whole stream. The zero value is ready; use its Send
// method as the Sink.
type Collector struct {
	mu     sync.Mutex
	events []Event
}

// Send appends ev. It is a Sink and never fails.
func (c *Collector) Send(ev Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	return nil
}

// Events returns a copy of the events collected so far, in order.
func (c *Collector) Events() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events)
}
