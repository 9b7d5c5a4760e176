// Package events owns the stream events of a worker run in the Octavus wire
// format (rule §7): one Go type per event, marshalling to
// exactly the JSON the Octavus SDKs read; Parse, the strict inverse; the
// Emitter, which tags events of nested workers with their workerId and
// applies the display modes of blocks and workers (rules D8 and D9); and the
// sinks that write events out (JSONL, Server-Sent Events, in memory).
//
// Events are plain values: build them with composite literals and pass them
// by value, as Parse returns them. Free-form JSON values (tool input and
// output, worker input and output, resource values) are json.RawMessage, so
// an event is an immutable snapshot that marshals byte for byte as parsed.
//
// The methods that every event type has (EventType, EventWorkerID,
// WithWorkerID, MarshalJSON and, but for Source, wireFields) and Parse's
// tables of types are generated into zz_generated.go from one table, in
// internal/eventgen: add a new event type's row there and run go generate.
//
// The package knows nothing about blocks, protocols or LLM clients.
package events

//go:generate go run ./internal/eventgen

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/octrun/octrun/internal/display"
)

// Event is one stream event. The types of this package implement it, and
// Parse, the Emitter and the writers know no others; their MarshalJSON
// writes the wire form, `type` first.
type Event interface {
	json.Marshaler
	// EventType is the wire `type` of the event, e.g. "text-delta".
	EventType() string
	// EventWorkerID is the event's workerId: the nested worker a content
	// event came from, or the identity of a worker-* event. It is "" for
	// events that have no workerId field.
	EventWorkerID() string
	// WithWorkerID returns a copy of the event with its workerId set to id.
	// Events without a workerId field are returned unchanged.
	WithWorkerID(id string) Event
	// wireFields returns the value whose JSON object holds the event's
	// wire members but `type`.
	wireFields() (any, error)
}

// FinishReason says why a run (or one leg of it) ended.
type FinishReason string

// Finish reasons of the finish event.
const (
	FinishStop            FinishReason = "stop"              // normal end
	FinishToolCalls       FinishReason = "tool-calls"        // paused for server-side tools
	FinishClientToolCalls FinishReason = "client-tool-calls" // paused for client tools
	FinishLength          FinishReason = "length"            // token limit or loop guard
	FinishContentFilter   FinishReason = "content-filter"    // stopped by the provider's filter
	FinishError           FinishReason = "error"             // the run failed
	FinishOther           FinishReason = "other"             // anything else
)

// finishReasons lists every valid FinishReason.
var finishReasons = []FinishReason{
	FinishStop, FinishToolCalls, FinishClientToolCalls, FinishLength,
	FinishContentFilter, FinishError, FinishOther,
}

// ErrorType classifies an error event. The TypeScript type's
// "unsupported_error" is deliberately absent: the SDK's schema rejects it and
// would drop the whole event (rule Appendix B).
type ErrorType string

// Error types of the error event.
const (
	ErrorTypeAuthentication     ErrorType = "authentication_error"
	ErrorTypePermission         ErrorType = "permission_error"
	ErrorTypeValidation         ErrorType = "validation_error"
	ErrorTypeNotFound           ErrorType = "not_found_error"
	ErrorTypeRateLimit          ErrorType = "rate_limit_error"
	ErrorTypeQuotaExceeded      ErrorType = "quota_exceeded_error"
	ErrorTypeProvider           ErrorType = "provider_error"
	ErrorTypeProviderOverloaded ErrorType = "provider_overloaded"
	ErrorTypeProviderTimeout    ErrorType = "provider_timeout"
	ErrorTypeExecution          ErrorType = "execution_error"
	ErrorTypeTool               ErrorType = "tool_error"
	ErrorTypeProtocol           ErrorType = "protocol_error"
	ErrorTypeInternal           ErrorType = "internal_error"
	ErrorTypeUnknown            ErrorType = "unknown_error"
)

// errorTypes lists every valid ErrorType.
var errorTypes = []ErrorType{
	ErrorTypeAuthentication, ErrorTypePermission, ErrorTypeValidation,
	ErrorTypeNotFound, ErrorTypeRateLimit, ErrorTypeQuotaExceeded,
	ErrorTypeProvider, ErrorTypeProviderOverloaded, ErrorTypeProviderTimeout,
	ErrorTypeExecution, ErrorTypeTool, ErrorTypeProtocol, ErrorTypeInternal,
	ErrorTypeUnknown,
}

// ErrorSource says where an error originated.
type ErrorSource string

// Sources of the error event.
const (
	ErrorSourcePlatform ErrorSource = "platform"
	ErrorSourceProvider ErrorSource = "provider"
	ErrorSourceTool     ErrorSource = "tool"
	ErrorSourceClient   ErrorSource = "client"
)

// errorSources lists every valid ErrorSource.
var errorSources = []ErrorSource{
	ErrorSourcePlatform, ErrorSourceProvider, ErrorSourceTool, ErrorSourceClient,
}

// Display modes of blocks, tools and workers (the `display` field). They are
// plain strings because they come straight from protocol files.
const (
	DisplayHidden      = display.Hidden
	DisplayName        = display.Name
	DisplayDescription = display.Description
	DisplayTitle       = display.Title
	DisplayStream      = display.Stream
)

// displays lists every valid display mode.
var displays = display.Modes

// Values of PendingToolCall.Source.
const (
	ToolSourceLLM   = "llm"   // the model asked for the call
	ToolSourceBlock = "block" // a tool-call block made the call
)

// Values of Source.SourceType.
const (
	SourceTypeURL      = "url"
	SourceTypeDocument = "document"
)

// Values of TodoItem.Status.
const (
	TodoPending    = "pending"
	TodoInProgress = "in_progress"
	TodoCompleted  = "completed"
	TodoCancelled  = "cancelled"
)

// encode is json.Marshal without HTML escaping, as in JavaScript's
// JSON.stringify: "<" stays "<" in text deltas.
func encode(v any) ([]byte, error) {
	s := scratches.Get().(*scratch)
	b, err := s.enc.appendValue(s.buf[:0], v)
	return s.done(b, err)
}

// RawValue encodes a free-form value (tool input and output, worker input
// and output, a resource) as an event carries it: JSON without HTML
// escaping. A value that JSON cannot encode becomes null: use it for
// values that came from JSON; EncodeValue says what does not encode.
func RawValue(v any) json.RawMessage {
	b, err := EncodeValue(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// EncodeValue is RawValue for a value made by Go code, such as a tool
// handler's result: the error says why JSON cannot hold it (NaN or an
// infinity, a channel or a func, a cycle, a json.RawMessage that is not
// JSON).
func EncodeValue(v any) (json.RawMessage, error) {
	return encode(v)
}

// DecodeValue is the inverse of RawValue: it decodes one free-form JSON
// value, numbers kept exact as json.Number, and refuses anything after it
// but white space, a stray closing bracket or brace included.
func DecodeValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if err := CheckEnd(dec, data); err != nil {
		return nil, err
	}
	return v, nil
}

// CheckEnd returns an error when data holds anything but white space after
// the JSON value that dec, reading data from its start, has just decoded.
// (dec.More cannot tell: it is false before a stray ']' or '}'.)
func CheckEnd(dec *json.Decoder, data []byte) error {
	if rest := data[min(dec.InputOffset(), int64(len(data))):]; len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return errors.New("unexpected text after the JSON value")
	}
	return nil
}
