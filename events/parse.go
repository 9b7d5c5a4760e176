package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/octrun/octrun/internal/jsonmsg"
)

// The tables Parse decodes by, prototypes (wire type to Go type) and
// customParsers (wire type to hand-written parser), are generated with the
// event types' methods in zz_generated.go.

var (
	toolSources  = []string{ToolSourceLLM, ToolSourceBlock}
	todoStatuses = []string{TodoPending, TodoInProgress, TodoCompleted, TodoCancelled}
)

// Parse decodes one event in the wire format into its Go type, chosen by its
// `type`. It is strict, to pin what octrun emits: an unknown type, an unknown
// field (at any depth), a missing required field, a null where a value is
// expected, a value of the wrong JSON type, or a value outside an enumeration
// (finishReason, errorType, source, display, sourceType, todo status) is an
// error that names the event type and the field.
func Parse(data []byte) (Event, error) {
	var fields map[string]json.RawMessage
	err := json.Unmarshal(data, &fields)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) || (err == nil && fields == nil) {
		return nil, errors.New("events: parse: an event must be a JSON object")
	}
	if err != nil {
		return nil, fmt.Errorf("events: parse: %w", err)
	}
	rawType, ok := fields["type"]
	if !ok {
		return nil, errors.New(`events: parse: missing required field "type"`)
	}
	var typ string
	if err := json.Unmarshal(rawType, &typ); err != nil {
		return nil, fmt.Errorf(`events: parse: field "type" must be a string, got %s`, rawType)
	}
	if _, ok := prototypes[typ]; !ok && customParsers[typ] == nil {
		return nil, fmt.Errorf("events: parse: unknown event type %q", typ)
	}
	delete(fields, "type")
	ev, err := parseAs(typ, fields, data)
	if err != nil {
		return nil, fmt.Errorf("events: parse %s event: %w", typ, err)
	}
	return ev, nil
}

// parseAs decodes data, whose members but `type` are fields, as an event of
// the known type typ.
func parseAs(typ string, fields map[string]json.RawMessage, data []byte) (Event, error) {
	if parse := customParsers[typ]; parse != nil {
		return parse(fields, data)
	}
	p := reflect.New(prototypes[typ])
	if err := decode(fields, data, p.Interface()); err != nil {
		return nil, err
	}
	ev := p.Elem().Interface().(Event)
	if v, ok := ev.(interface{ validate() error }); ok {
		if err := v.validate(); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// parseSource decodes the variant of a source event named by its sourceType.
func parseSource(fields map[string]json.RawMessage, data []byte) (Event, error) {
	var kind string
	_ = json.Unmarshal(fields["sourceType"], &kind) // anything but a known string fails below
	switch kind {
	case SourceTypeURL:
		var w sourceURL
		if err := decode(fields, data, &w); err != nil {
			return nil, err
		}
		return Source{SourceType: w.SourceType, ID: w.ID, URL: w.URL, Title: w.Title, WorkerID: w.WorkerID}, nil
	case SourceTypeDocument:
		var w sourceDocument
		if err := decode(fields, data, &w); err != nil {
			return nil, err
		}
		return Source{SourceType: w.SourceType, ID: w.ID, MediaType: w.MediaType, Title: w.Title, Filename: w.Filename, WorkerID: w.WorkerID}, nil
	}
	return nil, fmt.Errorf(`field "sourceType" must be %q or %q`, SourceTypeURL, SourceTypeDocument)
}

// decode checks fields (the members of data but `type`) against the struct
// dst points to, then decodes data into it.
func decode(fields map[string]json.RawMessage, data []byte, dst any) error {
	if err := checkFields("", reflect.TypeOf(dst).Elem(), fields); err != nil {
		return err
	}
	return jsonmsg.Error(json.Unmarshal(data, dst))
}

// checkFields reports a required field of struct t missing from obj, a null
// or malformed nested value, or a member of obj that t does not declare.
// A field is required when its json tag has no omitempty. prefix is the path
// of obj, for messages.
func checkFields(prefix string, t reflect.Type, obj map[string]json.RawMessage) error {
	known := map[string]bool{}
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		known[name] = true
		raw, ok := obj[name]
		if !ok {
			if !strings.Contains(tag, ",omitempty") {
				return fmt.Errorf("missing required field %q", prefix+name)
			}
			continue
		}
		if err := checkValue(prefix+name, t.Field(i).Type, raw); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if !known[name] {
			return fmt.Errorf("unknown field %q", prefix+name)
		}
	}
	return nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkValue checks raw, the value at path, against Go type t: only free-form
// values (json.RawMessage) may be null; objects and arrays are checked
// member by member. Scalars are left to json.Unmarshal.
func checkValue(path string, t reflect.Type, raw json.RawMessage) error {
	if t == rawMessageType {
		return nil
	}
	if string(raw) == "null" {
		return fmt.Errorf("field %q must not be null", path)
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkValue(path, t.Elem(), raw)
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return fmt.Errorf("field %q must be an object, got %s", path, raw)
		}
		return checkFields(path+".", t, obj)
	case reflect.Slice:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("field %q must be an array, got %s", path, raw)
		}
		for i, item := range items {
			if err := checkValue(fmt.Sprintf("%s[%d]", path, i), t.Elem(), item); err != nil {
				return err
			}
		}
	}
	return nil
}

// oneOf reports v unless it is one of valid.
func oneOf[T ~string](field string, v T, valid []T) error {
	if slices.Contains(valid, v) {
		return nil
	}
	return fmt.Errorf("field %q: %q is not one of %q", field, v, valid)
}

// object reports raw unless it is a JSON object.
func object(field string, raw json.RawMessage) error {
	if bytes.HasPrefix(raw, []byte("{")) {
		return nil
	}
	return fmt.Errorf("field %q must be an object, got %s", field, raw)
}

func (e Finish) validate() error { return oneOf("finishReason", e.FinishReason, finishReasons) }

func (e Error) validate() error {
	return errors.Join(oneOf("errorType", e.ErrorType, errorTypes), oneOf("source", e.Source, errorSources))
}

func (e BlockStart) validate() error { return oneOf("display", e.Display, displays) }

func (e ToolInputStart) validate() error {
	if e.Display == "" {
		return nil
	}
	return oneOf("display", e.Display, displays)
}

func (e ToolRequest) validate() error { return validateCalls(e.ToolCalls) }

func (e ClientToolRequest) validate() error { return validateCalls(e.ToolCalls) }

// validateCalls checks the source and args of pending tool calls.
func validateCalls(calls []PendingToolCall) error {
	for i, c := range calls {
		field := fmt.Sprintf("toolCalls[%d].", i)
		if err := errors.Join(oneOf(field+"source", c.Source, toolSources), object(field+"args", c.Args)); err != nil {
			return err
		}
	}
	return nil
}

func (e TodoUpdate) validate() error {
	for i, todo := range e.Todos {
		if err := oneOf(fmt.Sprintf("todos[%d].status", i), todo.Status, todoStatuses); err != nil {
			return err
		}
	}
	return nil
}

func (e WorkerStart) validate() error {
	if e.Input == nil {
		return nil
	}
	return object("input", e.Input)
}

func (e WorkerInputReady) validate() error { return object("input", e.Input) }
