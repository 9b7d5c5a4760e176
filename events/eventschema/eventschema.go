// Package eventschema checks one stream event's JSON against the event
// schema of the official Octavus SDK, so a test can prove that what octrun
// writes is what an Octavus client will keep.
//
// The TypeScript SDK does not read events by their TypeScript types: it runs
// every event through zod schemas defined in the @octavus/core package
// (source: repository octavus-ai/agent-sdk, file
// packages/core/src/stream/schemas.ts, which defines the nested shapes of
// tool calls, tool results, file references and usage in the same file). An
// event that fails them is dropped by the client, silently. The embedded
// octavus-stream-event.schema.json restates those zod schemas as JSON Schema
// draft 2020-12, one definition per event type, written for this package
// rather than generated from the SDK.
//
// The revision restated is the newest one observed of that file: the one
// whose union has 29 event types, including usage, todo-update and the three
// worker-input events, whose display modes include "title", and whose pending
// tool calls may carry suspend. The file carries no version of its own and
// the revision could not be tied to a release; the newest @octavus/core
// version seen in the repository's package.json is 3.0.0, so read the schema
// as that of @octavus/core 3.0.0 or later. Older releases, 2.0.0 for one,
// know fewer event types and fields, and drop the events they lack.
//
// How zod's rules map to the schema:
//   - A plain field is required and must have its type; null is refused.
//   - An optional field (zod's optional) may be absent, but null is refused
//     when it is present: zod only lets undefined through.
//   - A field of unknown type (tool input and output, resource values) takes
//     any JSON value, null included, but must be present. That is how zod
//     4.6 reads it and what zod 4 types declare; zod 4.1 to 4.3 let a missing
//     key through, so this is the stricter reading of the two.
//   - A record (worker input, tool call args) must be a JSON object.
//   - Enums list exactly core's values; source events are told apart by
//     sourceType, the others by type.
//   - Fields that core does not list are allowed, because zod strips them
//     instead of failing, so no definition sets additionalProperties.
package eventschema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/protocol/types"
)

//go:embed octavus-stream-event.schema.json
var schemaJSON []byte

// compiled is the embedded schema, compiled on first use by the
// validator the protocol's types use, and the event types it defines.
var compiled = sync.OnceValues(func() (*compiledSchema, error) {
	var doc map[string]any
	if err := json.Unmarshal(schemaJSON, &doc); err != nil {
		return nil, fmt.Errorf("embedded schema is not JSON: %w", err)
	}
	v, err := types.NewValidator(doc)
	if err != nil {
		return nil, err
	}
	names, err := eventTypes(schemaJSON)
	if err != nil {
		return nil, err
	}
	return &compiledSchema{validator: v, types: names}, nil
})

// Schema returns a copy of the embedded JSON Schema document.
func Schema() []byte { return bytes.Clone(schemaJSON) }

type compiledSchema struct {
	validator *types.Validator
	types     []string // sorted
}

// eventTypes reads the enum of the root's type property.
func eventTypes(doc []byte) ([]string, error) {
	var root struct {
		Properties struct {
			Type struct {
				Enum []string `json:"enum"`
			} `json:"type"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	names := slices.Clone(root.Properties.Type.Enum)
	if len(names) == 0 {
		return nil, errors.New("embedded schema lists no event types")
	}
	slices.Sort(names)
	return names, nil
}

// Types returns the event types the schema defines, sorted.
func Types() []string {
	c, err := compiled()
	if err != nil {
		panic("eventschema: " + err.Error())
	}
	return slices.Clone(c.types)
}

// Problem is one way in which an event does not fit the schema: a JSON
// pointer to the offending value ("" is the event itself) and what is
// wrong.
type Problem = types.Problem

// Error is what Validate returns for an event that core's schema refuses.
type Error struct {
	// Type is the event's type, or "" when it has none that is a string.
	Type string
	// Unknown reports a type that the schema does not define.
	Unknown bool
	// Problems are sorted by path.
	Problems []Problem
}

func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString("eventschema: ")
	switch {
	case e.Unknown:
		fmt.Fprintf(&sb, "unknown event type %q", e.Type)
		return sb.String()
	case e.Type != "":
		fmt.Fprintf(&sb, "%s event: ", e.Type)
	}
	for i, p := range e.Problems {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(p.String())
	}
	return sb.String()
}

// Validate checks one event, given as its JSON, against core's stream event
// schema. It returns nil when core would accept the event, and otherwise an
// *Error that names the event type and every problem found (or a plain
// error when data is not JSON at all).
func Validate(data []byte) error {
	c, err := compiled()
	if err != nil {
		return fmt.Errorf("eventschema: %w", err)
	}
	inst, err := events.DecodeValue(data)
	if err != nil {
		return fmt.Errorf("eventschema: event is not JSON: %w", err)
	}
	obj, ok := inst.(map[string]any)
	if !ok {
		return &Error{Problems: []Problem{{Message: "an event must be a JSON object, got " + jsonType(inst)}}}
	}
	raw, present := obj["type"]
	if !present {
		return &Error{Problems: []Problem{{Path: "/type", Message: `missing required property "type"`}}}
	}
	typ, ok := raw.(string)
	if !ok {
		return &Error{Problems: []Problem{{Path: "/type", Message: "must be a string, got " + jsonType(raw)}}}
	}
	if _, found := slices.BinarySearch(c.types, typ); !found {
		return &Error{Type: typ, Unknown: true, Problems: []Problem{{Path: "/type", Message: "not an event type of core's schema"}}}
	}
	problems := c.validator.Validate(inst)
	if len(problems) == 0 {
		return nil
	}
	return &Error{Type: typ, Problems: problems}
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
