package eventschema

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenFile holds the golden wire forms that package events pins in
// TestMarshalGolden. They are read from its source, so this test follows
// them as they change.
const goldenFile = "../events_test.go"

// coreRejects lists golden events that core's schema genuinely refuses,
// by golden name, with the problem Validate must report. The schema is not
// loosened for them.
var coreRejects = map[string]string{}

type goldenEvent struct {
	name, json string
}

// readGolden extracts the name and wire form of every entry of the golden
// table of goldenFile.
func readGolden(t *testing.T) []goldenEvent {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), goldenFile, nil, parser.SkipObjectResolution)
	require.NoError(t, err)
	var table *ast.CompositeLit
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.VAR {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if name.Name == "golden" && i < len(vs.Values) {
					table, _ = vs.Values[i].(*ast.CompositeLit)
				}
			}
		}
	}
	require.NotNil(t, table, "no golden table in %s", goldenFile)
	var out []goldenEvent
	for _, elt := range table.Elts {
		row, ok := elt.(*ast.CompositeLit)
		require.True(t, ok, "golden row is not a composite literal")
		require.Len(t, row.Elts, 3, "golden row is not {name, event, want}")
		out = append(out, goldenEvent{name: stringLit(t, row.Elts[0]), json: stringLit(t, row.Elts[2])})
	}
	return out
}

func stringLit(t *testing.T, e ast.Expr) string {
	t.Helper()
	lit, ok := e.(*ast.BasicLit)
	require.True(t, ok && lit.Kind == token.STRING, "not a string literal: %#v", e)
	s, err := strconv.Unquote(lit.Value)
	require.NoError(t, err)
	return s
}

func TestGoldenEventsFitCoreSchema(t *testing.T) {
	golden := readGolden(t)
	require.Greater(t, len(golden), 50, "the golden table looks truncated")
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			err := Validate([]byte(g.json))
			if want, rejected := coreRejects[g.name]; rejected {
				require.Error(t, err, "core was recorded as refusing %s", g.json)
				assert.Contains(t, err.Error(), want)
				return
			}
			assert.NoError(t, err, g.json)
		})
	}
	for name := range coreRejects {
		assert.True(t, slices.ContainsFunc(golden, func(g goldenEvent) bool { return g.name == name }),
			"coreRejects names %q, which is not a golden event", name)
	}
}

// The golden table covers every event type of octrun (events checks that),
// so its types are octrun's: core must define each, and octrun should emit
// each type core defines.
func TestSchemaTypesAreOctrunTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range readGolden(t) {
		var ev struct {
			Type string `json:"type"`
		}
		require.NoError(t, json.Unmarshal([]byte(g.json), &ev), g.name)
		seen[ev.Type] = true
	}
	var octrun []string
	for typ := range seen {
		octrun = append(octrun, typ)
	}
	slices.Sort(octrun)
	assert.Equal(t, octrun, Types())
	assert.Len(t, Types(), 29)
}

func TestSchemaIsJSON(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(Schema(), &doc))
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc["$schema"])
	defs := doc["$defs"].(map[string]any)
	for _, typ := range Types() {
		assert.Contains(t, defs, typ, "no definition for %s", typ)
	}
	assert.NotContains(t, string(Schema()), "additionalProperties", "core strips unknown fields; it does not refuse them")
}

func TestValidateAccepts(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"unknown fields are stripped, not refused", `{"type":"text-end","id":"t","extra":{"a":1},"cancelled":true}`},
		{"unknown nested field", `{"type":"error","errorType":"tool_error","message":"m","retryable":false,"source":"tool","tool":{"name":"t","details":{}}}`},
		{"unknown value may be null", `{"type":"tool-output-available","toolCallId":"c","output":null}`},
		{"optional unknown value may be null", `{"type":"worker-result","workerId":"w","output":null}`},
		{"optional unknown value may be absent", `{"type":"client-tool-request","executionId":"x","toolCalls":[],"serverToolResults":[{"toolCallId":"c"}]}`},
		{"suspend and files", `{"type":"client-tool-request","executionId":"x","toolCalls":[{"toolCallId":"c","toolName":"t","args":{},"suspend":true}],"serverToolResults":[{"toolCallId":"d","files":[{"id":"f","mediaType":"image/png","url":"u","size":3}]}]}`},
		{"source of a tool call is optional", `{"type":"tool-request","toolCalls":[{"toolCallId":"c","toolName":"t","args":{"q":1}}]}`},
		{"fractional block index", `{"type":"tool-request","toolCalls":[{"toolCallId":"c","toolName":"t","args":{},"blockIndex":1.5}]}`},
		{"title display", `{"type":"block-start","blockId":"b","blockName":"n","blockType":"k","display":"title"}`},
		{"document source", `{"type":"source","sourceType":"document","id":"s","mediaType":"application/pdf","title":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.NoError(t, Validate([]byte(tc.in)))
		})
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		// The four kinds the schema must catch.
		{"null for an optional field", `{"type":"start","messageId":null}`,
			`eventschema: start event: /messageId: expected string, got null`},
		{"missing required field", `{"type":"finish"}`,
			`eventschema: finish event: /finishReason: missing required property "finishReason"`},
		{"unknown finishReason", `{"type":"finish","finishReason":"done"}`,
			`eventschema: finish event: /finishReason: value "done" is not one of stop, tool-calls, client-tool-calls, length, content-filter, error, other`},
		{"unknown event type", `{"type":"text-chunk","id":"t1"}`,
			`eventschema: unknown event type "text-chunk"`},

		// More of the same, deeper in.
		{"null for an optional nested field", `{"type":"error","errorType":"tool_error","message":"m","retryable":false,"source":"tool","provider":{"name":"p","model":null}}`,
			`eventschema: error event: /provider/model: expected string, got null`},
		{"null for an optional object", `{"type":"error","errorType":"tool_error","message":"m","retryable":false,"source":"tool","tool":null}`,
			`eventschema: error event: /tool: expected object, got null`},
		{"several missing fields", `{"type":"error","errorType":"tool_error"}`,
			`eventschema: error event: /message: missing required property "message"; /retryable: missing required property "retryable"; /source: missing required property "source"`},
		{"missing field of an array item", `{"type":"tool-request","toolCalls":[{"toolCallId":"c","args":{}}]}`,
			`eventschema: tool-request event: /toolCalls/0/toolName: missing required property "toolName"`},
		{"missing unknown-typed field", `{"type":"tool-input-available","toolCallId":"c","toolName":"t"}`,
			`eventschema: tool-input-available event: /input: missing required property "input"`},
		{"unsupported_error", `{"type":"error","errorType":"unsupported_error","message":"m","retryable":false,"source":"platform"}`,
			`eventschema: error event: /errorType: value "unsupported_error" is not one of`},
		{"bad error source", `{"type":"error","errorType":"tool_error","message":"m","retryable":false,"source":"llm"}`,
			`eventschema: error event: /source: value "llm" is not one of platform, provider, tool, client`},
		{"bad display", `{"type":"tool-input-start","toolCallId":"c","toolName":"t","display":"loud"}`,
			`eventschema: tool-input-start event: /display: value "loud" is not one of hidden, name, description, stream, title`},
		{"bad tool call source", `{"type":"tool-request","toolCalls":[{"toolCallId":"c","toolName":"t","args":{},"source":"user"}]}`,
			`eventschema: tool-request event: /toolCalls/0/source: value "user" is not one of llm, block`},
		{"bad todo status", `{"type":"todo-update","todos":[{"id":"1","content":"c","status":"done"}]}`,
			`eventschema: todo-update event: /todos/0/status: value "done" is not one of pending, in_progress, completed, cancelled`},
		{"args not an object", `{"type":"tool-request","toolCalls":[{"toolCallId":"c","toolName":"t","args":[]}]}`,
			`eventschema: tool-request event: /toolCalls/0/args: expected object, got array`},
		{"worker input null", `{"type":"worker-input-ready","workerId":"w","input":null}`,
			`eventschema: worker-input-ready event: /input: expected object, got null`},
		{"null array", `{"type":"todo-update","todos":null}`,
			`eventschema: todo-update event: /todos: expected array, got null`},
		{"usage without byok", `{"type":"usage","cost":{"currency":"USD","bandwidthFee":0,"providerFee":0,"totalFee":0},"tokens":{"inputTokens":0,"outputTokens":0,"totalTokens":0}}`,
			`eventschema: usage event: /cost/byok: missing required property "byok"`},
		{"number as string", `{"type":"file-available","id":"f","mediaType":"m","url":"u","size":"3"}`,
			`eventschema: file-available event: /size: expected number, got string`},
		{"source without sourceType", `{"type":"source","id":"s","url":"u"}`,
			`eventschema: source event: /sourceType: missing required property "sourceType"`},
		{"unknown sourceType", `{"type":"source","sourceType":"video","id":"s"}`,
			`eventschema: source event: /sourceType: value "video" is not one of url, document`},
		{"document source without title", `{"type":"source","sourceType":"document","id":"s","mediaType":"application/pdf"}`,
			`eventschema: source event: /title: missing required property "title"`},

		// Not an event at all.
		{"no type", `{"id":"t1"}`, `eventschema: /type: missing required property "type"`},
		{"type not a string", `{"type":1}`, `eventschema: /type: must be a string, got number`},
		{"not an object", `[1]`, `eventschema: an event must be a JSON object, got array`},
		{"null", `null`, `eventschema: an event must be a JSON object, got null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate([]byte(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var e *Error
			require.True(t, errors.As(err, &e), "%T", err)
			assert.NotEmpty(t, e.Problems)
		})
	}
}

func TestValidateUnknownTypeError(t *testing.T) {
	var e *Error
	require.ErrorAs(t, Validate([]byte(`{"type":"text-chunk"}`)), &e)
	assert.Equal(t, &Error{Type: "text-chunk", Unknown: true, Problems: []Problem{{Path: "/type", Message: "not an event type of core's schema"}}}, e)
}

func TestValidateNotJSON(t *testing.T) {
	for _, in := range []string{`{`, `{"type":"start"} {}`, ``} {
		err := Validate([]byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), "eventschema: event is not JSON: ")
	}
}
