// Command eventgen writes zz_generated.go of package events from one table
// of the wire event types (events below): the methods every event type has
// (EventType, EventWorkerID, WithWorkerID, wireFields, MarshalJSON) and the
// tables by which Parse finds an event's Go type from its `type`.
//
// To add an event type, declare its struct in package events, add a row
// here, and run go generate in events/ (the go:generate line is in
// events.go). A test checks that the committed file is what this command
// writes.
//
// Usage:
//
//	go run ./internal/eventgen [-o zz_generated.go]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"strings"
	"text/template"
)

// eventType is one row of the table.
type eventType struct {
	// Name is the Go type in package events.
	Name string
	// Wire is the event's `type` member.
	Wire string
	// WorkerID is set when the type has a WorkerID field, its workerId;
	// EventWorkerID and WithWorkerID use it. Without one they return ""
	// and the event unchanged.
	WorkerID bool
	// NilAs lists the fields MarshalJSON writes as an empty value when nil.
	NilAs []nilAs
	// Custom is set when the type's wireFields (the members its
	// MarshalJSON writes after `type`) and its parser, parse<Name>, are
	// hand-written in package events.
	Custom bool
}

// nilAs replaces a nil field by an empty value before marshalling.
type nilAs struct {
	Field string // the Go field
	Value string // a Go expression of the value written instead
	JSON  string // the JSON it is written as, for the doc comment
}

var (
	nilToolCalls = nilAs{"ToolCalls", "[]PendingToolCall{}", "[]"}
	nilTodos     = nilAs{"Todos", "[]TodoItem{}", "[]"}
	nilInput     = nilAs{"Input", `json.RawMessage("{}")`, "{}"}
)

// events is the table: every wire event type (rule §7).
var events = []eventType{
	// Lifecycle.
	{Name: "Start", Wire: "start"},
	{Name: "Finish", Wire: "finish"},
	{Name: "Error", Wire: "error"},
	{Name: "Usage", Wire: "usage"},

	// Content.
	{Name: "TextStart", Wire: "text-start", WorkerID: true},
	{Name: "TextDelta", Wire: "text-delta", WorkerID: true},
	{Name: "TextEnd", Wire: "text-end", WorkerID: true},
	{Name: "ReasoningStart", Wire: "reasoning-start", WorkerID: true},
	{Name: "ReasoningDelta", Wire: "reasoning-delta", WorkerID: true},
	{Name: "ReasoningEnd", Wire: "reasoning-end", WorkerID: true},
	{Name: "ToolInputStart", Wire: "tool-input-start", WorkerID: true},
	{Name: "ToolInputDelta", Wire: "tool-input-delta", WorkerID: true},
	{Name: "ToolInputEnd", Wire: "tool-input-end", WorkerID: true},
	{Name: "ToolInputAvailable", Wire: "tool-input-available", WorkerID: true},
	{Name: "ToolOutputAvailable", Wire: "tool-output-available", WorkerID: true},
	{Name: "ToolOutputError", Wire: "tool-output-error", WorkerID: true},
	{Name: "ToolRequest", Wire: "tool-request", WorkerID: true, NilAs: []nilAs{nilToolCalls}},
	{Name: "ClientToolRequest", Wire: "client-tool-request", NilAs: []nilAs{nilToolCalls}},

	// Blocks, resources, files, sources, todos.
	{Name: "BlockStart", Wire: "block-start", WorkerID: true},
	{Name: "BlockEnd", Wire: "block-end", WorkerID: true},
	{Name: "ResourceUpdate", Wire: "resource-update"},
	{Name: "FileAvailable", Wire: "file-available", WorkerID: true},
	{Name: "Source", Wire: "source", WorkerID: true, Custom: true},
	{Name: "TodoUpdate", Wire: "todo-update", WorkerID: true, NilAs: []nilAs{nilTodos}},

	// Workers: WorkerID is the worker's own identity.
	{Name: "WorkerStart", Wire: "worker-start", WorkerID: true},
	{Name: "WorkerResult", Wire: "worker-result", WorkerID: true},
	{Name: "WorkerInputStart", Wire: "worker-input-start", WorkerID: true},
	{Name: "WorkerInputDelta", Wire: "worker-input-delta", WorkerID: true},
	{Name: "WorkerInputReady", Wire: "worker-input-ready", WorkerID: true, NilAs: []nilAs{nilInput}},
}

func main() {
	out := flag.String("o", "zz_generated.go", "the file to write")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "eventgen:", err)
		os.Exit(1)
	}
}

// write writes the generated file to path.
func write(path string) error {
	src, err := generate(events)
	if err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}

// generate returns the gofmt-ed source of the generated file for table.
func generate(table []eventType) ([]byte, error) {
	if err := check(table); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, table); err != nil {
		return nil, err
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the generated code: %w\n%s", err, buf.Bytes())
	}
	return src, nil
}

// check rejects a table with a repeated Go name or wire type.
func check(table []eventType) error {
	names, wires := map[string]bool{}, map[string]bool{}
	for _, ev := range table {
		if ev.Name == "" || ev.Wire == "" {
			return fmt.Errorf("a row without a Go name or a wire type: %+v", ev)
		}
		if names[ev.Name] || wires[ev.Wire] {
			return fmt.Errorf("%s (%q) is in the table twice", ev.Name, ev.Wire)
		}
		names[ev.Name], wires[ev.Wire] = true, true
	}
	return nil
}

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"json": func(table []eventType) bool {
		for _, ev := range table {
			if ev.Custom {
				return true // customParsers takes json.RawMessage
			}
			for _, n := range ev.NilAs {
				if strings.Contains(n.Value, "json.") {
					return true
				}
			}
		}
		return false
	},
	"nilAs": func(ns []nilAs) string {
		var parts []string
		for _, n := range ns {
			parts = append(parts, fmt.Sprintf("nil %s as %s", n.Field, n.JSON))
		}
		return strings.Join(parts, ", ")
	},
}).Parse(`// Code generated by go run ./internal/eventgen; DO NOT EDIT.

package events

import (
{{- if json .}}
	"encoding/json"
{{- end}}
	"reflect"
)
{{range .}}
// EventType returns "{{.Wire}}".
func ({{.Name}}) EventType() string { return "{{.Wire}}" }
{{if .WorkerID}}
// EventWorkerID returns the workerId.
func (e {{.Name}}) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e {{.Name}}) WithWorkerID(id string) Event { e.WorkerID = id; return e }
{{else}}
// EventWorkerID returns "": {{.Wire}} has no workerId.
func ({{.Name}}) EventWorkerID() string { return "" }

// WithWorkerID returns e unchanged: {{.Wire}} has no workerId.
func (e {{.Name}}) WithWorkerID(string) Event { return e }
{{end}}
{{- if not .Custom}}
// wireFields returns the members but type{{if .NilAs}}, with {{nilAs .NilAs}}{{end}}.
func (e {{.Name}}) wireFields() (any, error) {
	type plain {{.Name}}
{{- range .NilAs}}
	if e.{{.Field}} == nil {
		e.{{.Field}} = {{.Value}}
	}
{{- end}}
	return plain(e), nil
}
{{end}}
// MarshalJSON writes the wire form.
func (e {{.Name}}) MarshalJSON() ([]byte, error) { return marshal(e) }
{{- end}}
// prototypes maps each wire type that Parse decodes generically to its Go
// type.
var prototypes = map[string]reflect.Type{
{{- range .}}{{if not .Custom}}
	"{{.Wire}}": reflect.TypeFor[{{.Name}}](),
{{- end}}{{end}}
}

// customParsers maps each wire type that has a hand-written parser to it.
var customParsers = map[string]func(fields map[string]json.RawMessage, data []byte) (Event, error){
{{- range .}}{{if .Custom}}
	"{{.Wire}}": parse{{.Name}},
{{- end}}{{end}}
}
`))
