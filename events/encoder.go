package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf8"
)

// Encoder writes events in their wire form (what MarshalJSON returns) into
// a buffer the caller reuses: a writer of many events encodes each once,
// straight into its output buffer, without the copies and the allocations
// of MarshalJSON. An Encoder is not safe for concurrent use.
type Encoder struct {
	w   appender
	enc *json.Encoder
}

// NewEncoder returns an Encoder.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.enc = json.NewEncoder(&e.w)
	e.enc.SetEscapeHTML(false)
	return e
}

// Append appends the wire form of ev to dst, as MarshalJSON writes it, and
// returns the extended buffer. When ev cannot be encoded it returns dst
// unchanged and the error.
func (e *Encoder) Append(dst []byte, ev Event) ([]byte, error) {
	// The deltas, most of a stream's events, are written directly.
	switch ev := ev.(type) {
	case TextDelta:
		return appendDelta(dst, `{"type":"text-delta","id":`, ev.ID, `,"delta":`, ev.Delta, ev.WorkerID), nil
	case ReasoningDelta:
		return appendDelta(dst, `{"type":"reasoning-delta","id":`, ev.ID, `,"delta":`, ev.Delta, ev.WorkerID), nil
	case ToolInputDelta:
		return appendDelta(dst, `{"type":"tool-input-delta","toolCallId":`, ev.ToolCallID, `,"inputTextDelta":`, ev.InputTextDelta, ev.WorkerID), nil
	}
	fields, err := ev.wireFields()
	if err != nil {
		return dst, err
	}
	b := append(dst, `{"type":"`...)
	b = append(b, ev.EventType()...) // wire types need no escaping
	b = append(b, '"')
	body := len(b)
	if b, err = e.appendValue(b, fields); err != nil {
		return dst, err
	}
	// b[body:] is the object of the other members: its '{' becomes the
	// comma after `type`, or, when it is empty, the object ends there.
	if b[body] != '{' {
		return dst, fmt.Errorf("the members of a %s event are not a JSON object", ev.EventType())
	}
	if len(b)-body == len("{}") {
		return append(b[:body], '}'), nil
	}
	b[body] = ','
	return b, nil
}

// appendDelta appends a delta event: head and the part's id, key and the
// fragment, then workerId when set, as the event's struct would encode.
func appendDelta(dst []byte, head, id, key, fragment, workerID string) []byte {
	dst = appendString(append(dst, head...), id)
	dst = appendString(append(dst, key...), fragment)
	if workerID != "" {
		dst = appendString(append(dst, `,"workerId":`...), workerID)
	}
	return append(dst, '}')
}

// appendString appends s as a JSON string the way encoding/json writes it
// without HTML escaping: quotes, backslashes and control characters
// escaped, invalid UTF-8 as U+FFFD, and U+2028 and U+2029 escaped.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(dst, s[start:]...), '"')
}

// appendValue appends v as JSON without HTML escaping to dst.
func (e *Encoder) appendValue(dst []byte, v any) ([]byte, error) {
	e.w.b = dst
	err := e.enc.Encode(v)
	b := e.w.b
	e.w.b = nil
	if err != nil {
		return dst, err
	}
	return b[:len(b)-1], nil // Encode ends the value with a newline
}

// appender is an io.Writer that appends to b.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// maxKept is the largest buffer a writer keeps for its next event: one
// large event (a big tool result) does not pin its memory for the rest of
// a run.
const maxKept = 64 << 10

// keep returns b emptied for reuse, or nil when it grew beyond maxKept.
func keep(b []byte) []byte {
	if cap(b) > maxKept {
		return nil
	}
	return b[:0]
}

// scratch is an Encoder and its buffer, pooled for MarshalJSON and
// EncodeValue, which return a copy of what they encode.
type scratch struct {
	enc *Encoder
	buf []byte
}

var scratches = sync.Pool{New: func() any { return &scratch{enc: NewEncoder()} }}

// marshal returns the wire form of ev: the MarshalJSON of every event.
func marshal(ev Event) ([]byte, error) {
	s := scratches.Get().(*scratch)
	b, err := s.enc.Append(s.buf[:0], ev)
	return s.done(b, err)
}

// done returns s, which encoded b, to the pool and a copy of b.
// The copy is made before s goes back: from then on another goroutine may
// encode into the same buffer.
func (s *scratch) done(b []byte, err error) ([]byte, error) {
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	s.buf = keep(b)
	scratches.Put(s)
	return out, err
}
