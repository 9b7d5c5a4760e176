package types

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const reportTypes = `types:
  Finding:
    claim:      { type: string }
    confidence: { type: string, enum: [low, medium, high] }
    sources:    { type: "string[]", optional: true }
  Report:
    kind:       { type: string, const: report }
    title:      { type: string }
    count:      { type: integer }
    findings:   { type: "Finding[]" }
    outcome:    { type: Outcome, optional: true }
    attachment: { type: file, optional: true }
    extra:      { type: unknown, optional: true }
  Outcome:
    anyOf: [Success, Failure]
    discriminator: status
  Success: { status: { type: string, const: ok },   value:  { type: number } }
  Failure: { status: { type: string, const: fail }, reason: { type: string } }
`

// validator compiles the schema of the type expression e in reportTypes.
func validator(t testing.TB, e Expr) *Validator {
	t.Helper()
	reg, diags := decodeSrc(t, reportTypes)
	require.Empty(t, diags)
	v, err := NewValidator(reg.Schema(e))
	require.NoError(t, err)
	return v
}

// decodeJSON decodes src as encoding/json does by default.
func decodeJSON(t testing.TB, src string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(src), &v))
	return v
}

// report returns a valid Report as JSON with the given fields replaced
// (a nil value deletes the field).
func report(t testing.TB, changes map[string]any) any {
	t.Helper()
	r := decodeJSON(t, `{
		"kind": "report",
		"title": "Tides",
		"count": 2,
		"findings": [
			{"claim": "The moon pulls", "confidence": "high", "sources": ["https://example.com"]},
			{"claim": "The sun too", "confidence": "medium"}
		],
		"outcome": {"status": "ok", "value": 1.5},
		"attachment": {"id": "f1", "mediaType": "image/png", "url": "https://example.com/a.png", "width": 10},
		"extra": {"anything": [1, "two", null]}
	}`).(map[string]any)
	for k, v := range changes {
		if v == nil {
			delete(r, k)
		} else {
			r[k] = v
		}
	}
	return r
}

func TestValidate(t *testing.T) {
	v := validator(t, Expr{Name: "Report"})
	manyFindings := make([]any, 12)
	for i := range manyFindings {
		manyFindings[i] = map[string]any{"claim": "c", "confidence": "low"}
	}
	manyFindings[2] = map[string]any{"claim": 2, "confidence": "low"}
	manyFindings[10] = map[string]any{"claim": 10, "confidence": "low"}

	tests := []struct {
		name  string
		value any
		want  []Problem
	}{
		{name: "valid", value: report(t, nil)},
		{name: "optional fields left out", value: report(t, map[string]any{"outcome": nil, "attachment": nil, "extra": nil})},
		{
			name:  "wrong types",
			value: report(t, map[string]any{"title": 3.0, "count": 1.5, "findings": "none"}),
			want: []Problem{
				{"/count", "expected integer, got number"},
				{"/findings", "expected array, got string"},
				{"/title", "expected string, got number"},
			},
		},
		{
			name:  "missing required properties",
			value: map[string]any{"findings": []any{map[string]any{}}},
			want: []Problem{
				{"/count", `missing required property "count"`},
				{"/findings/0/claim", `missing required property "claim"`},
				{"/findings/0/confidence", `missing required property "confidence"`},
				{"/kind", `missing required property "kind"`},
				{"/title", `missing required property "title"`},
			},
		},
		{
			name:  "extra properties",
			value: report(t, map[string]any{"titel": "x", "zzz": true}),
			want: []Problem{
				{"/titel", `unknown property "titel" (did you mean "title"?)`},
				{"/zzz", `unknown property "zzz"`},
			},
		},
		{
			name:  "enum",
			value: report(t, map[string]any{"findings": []any{map[string]any{"claim": "c", "confidence": "maybe"}}}),
			want:  []Problem{{"/findings/0/confidence", `value "maybe" is not one of low, medium, high`}},
		},
		{
			name:  "const",
			value: report(t, map[string]any{"kind": "memo"}),
			want:  []Problem{{"/kind", `expected "report", got "memo"`}},
		},
		{
			name:  "union variant chosen by its discriminator",
			value: report(t, map[string]any{"outcome": map[string]any{"status": "fail", "reason": 3.0, "value": 1.0}}),
			want: []Problem{
				{"/outcome/reason", "expected string, got number"},
				{"/outcome/value", `unknown property "value"`},
			},
		},
		{
			name:  "union discriminator with an unknown value",
			value: report(t, map[string]any{"outcome": map[string]any{"status": "maybe"}}),
			want:  []Problem{{"/outcome/status", `value "maybe" is not one of ok, fail`}},
		},
		{
			name:  "union discriminator missing",
			value: report(t, map[string]any{"outcome": map[string]any{"value": 1.0}}),
			want:  []Problem{{"/outcome/status", `missing required property "status"`}},
		},
		{
			name:  "union value that is not an object",
			value: report(t, map[string]any{"outcome": "ok"}),
			want:  []Problem{{"/outcome", "expected object, got string"}},
		},
		{
			name:  "file",
			value: report(t, map[string]any{"attachment": map[string]any{"id": "f1", "size": "big"}}),
			want: []Problem{
				{"/attachment/mediaType", `missing required property "mediaType"`},
				{"/attachment/size", "expected number, got string"},
				{"/attachment/url", `missing required property "url"`},
			},
		},
		{
			name:  "array indexes sort as numbers",
			value: report(t, map[string]any{"findings": manyFindings}),
			want: []Problem{
				{"/findings/2/claim", "expected string, got number"},
				{"/findings/10/claim", "expected string, got number"},
			},
		},
		{
			name:  "not an object at all",
			value: "a report",
			want:  []Problem{{"", "expected object, got string"}},
		},
		{
			name:  "numbers as json.Number and Go integers",
			value: report(t, map[string]any{"count": json.Number("3"), "outcome": map[string]any{"status": "ok", "value": int64(2)}}),
		},
		{
			name:  "a json.Number that is not an integer",
			value: report(t, map[string]any{"count": json.Number("2.5")}),
			want:  []Problem{{"/count", "expected integer, got number"}},
		},
		{
			name:  "a Go value that is not JSON",
			value: report(t, map[string]any{"title": []string{"x"}}),
			want:  []Problem{{"/title", "a Go []string is not a JSON value"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, v.Validate(tt.value))
		})
	}
}

func TestValidateObjectSchema(t *testing.T) {
	reg, _ := decodeSrc(t, reportTypes)
	v, err := NewValidator(reg.ObjectSchema([]Field{
		{Name: "TOPIC", Type: Expr{Name: "string"}},
		{Name: "DEPTH", Type: Expr{Name: "string"}, Enum: []string{"quick", "deep"}, Optional: true},
		{Name: "a/b~c", Type: Expr{Name: "boolean"}, Optional: true},
		{Name: "SEED", Type: Expr{Name: "Finding", Dims: 1}, Optional: true},
	}))
	require.NoError(t, err)

	assert.Empty(t, v.Validate(map[string]any{"TOPIC": "tides"}))
	assert.Equal(t, []Problem{
		{"/DEPTH", `value "medium" is not one of quick, deep`},
		{"/SEED/0/confidence", `value "sure" is not one of low, medium, high`},
		{"/TOPIC", `missing required property "TOPIC"`},
		{"/a~1b~0c", "expected boolean, got string"},
	}, v.Validate(decodeJSON(t, `{"DEPTH": "medium", "a/b~c": "yes", "SEED": [{"claim": "x", "confidence": "sure"}]}`)))
}

func TestValidateOtherSchemas(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		value  string
		want   []Problem
	}{
		{
			name:   "a union without a discriminator",
			schema: `{"anyOf": [{"type": "string"}, {"type": "number"}]}`,
			value:  `true`,
			want:   []Problem{{"", "value does not match any of the allowed types"}},
		},
		{
			name:   "keywords the protocol does not use",
			schema: `{"type": "array", "items": {"type": "string", "minLength": 3}, "maxItems": 1}`,
			value:  `["ab", "abc"]`,
			want:   []Problem{{"", "maxItems: got 2, want 1"}, {"/0", "minLength: got 2, want 3"}},
		},
		{
			name:   "local references",
			schema: `{"$defs": {"s": {"type": "string"}}, "type": "object", "properties": {"name": {"$ref": "#/$defs/s"}}, "additionalProperties": false}`,
			value:  `{"name": 1, "other": 2}`,
			want:   []Problem{{"/name", "expected string, got number"}, {"/other", `unknown property "other"`}},
		},
		{
			name:   "a const that is not a string",
			schema: `{"const": 3}`,
			value:  `"3"`,
			want:   []Problem{{"", `expected 3, got "3"`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewValidator(decodeJSON(t, tt.schema).(map[string]any))
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.Validate(decodeJSON(t, tt.value)))
		})
	}
}

func TestNewValidatorErrors(t *testing.T) {
	tests := []struct {
		name   string
		schema map[string]any
		want   string
	}{
		{
			name:   "not JSON",
			schema: map[string]any{"type": func() {}},
			want:   "schema is not JSON: json: unsupported type: func()",
		},
		{
			name:   "not a valid schema",
			schema: map[string]any{"type": 3},
			want:   "jsonschema validation failed",
		},
		{
			name:   "no network",
			schema: map[string]any{"$ref": "https://example.com/schema.json"},
			want:   "loading schemas is disabled",
		},
		{
			name:   "no files",
			schema: map[string]any{"$ref": "file:///etc/passwd"},
			want:   "loading schemas is disabled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewValidator(tt.schema)
			assert.Nil(t, v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestProblemString(t *testing.T) {
	assert.Equal(t, "expected object, got string", Problem{Message: "expected object, got string"}.String())
	assert.Equal(t, "/a/0: expected string, got number", Problem{Path: "/a/0", Message: "expected string, got number"}.String())
}

func TestValidateConcurrently(t *testing.T) {
	v := validator(t, Expr{Name: "Report"})
	bad := report(t, map[string]any{"kind": "memo"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				assert.Len(t, v.Validate(bad), 1)
			}
		})
	}
	wg.Wait()
}

// benchReport is a realistic value: a report with 20 findings.
func benchReport(b *testing.B) any {
	b.Helper()
	var findings []string
	for i := range 20 {
		findings = append(findings, fmt.Sprintf(`{"claim": "claim %d", "confidence": "medium", "sources": ["https://example.com/%d", "https://example.org/%d"]}`, i, i, i))
	}
	return decodeJSON(b, `{"kind": "report", "title": "Tides", "count": 20,
		"findings": [`+strings.Join(findings, ",")+`],
		"outcome": {"status": "fail", "reason": "inconclusive"},
		"attachment": {"id": "f1", "mediaType": "image/png", "url": "https://example.com/a.png"}}`)
}

func BenchmarkSchema(b *testing.B) {
	reg, _ := decodeSrc(b, reportTypes)
	for b.Loop() {
		reg.Schema(Expr{Name: "Report"})
	}
}

func BenchmarkNewValidator(b *testing.B) {
	reg, _ := decodeSrc(b, reportTypes)
	schema := reg.Schema(Expr{Name: "Report"})
	for b.Loop() {
		if _, err := NewValidator(schema); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	v := validator(b, Expr{Name: "Report"})
	value := benchReport(b)
	for b.Loop() {
		if problems := v.Validate(value); len(problems) > 0 {
			b.Fatal(problems)
		}
	}
}

func BenchmarkValidateInvalid(b *testing.B) {
	v := validator(b, Expr{Name: "Report"})
	value := benchReport(b)
	value.(map[string]any)["outcome"] = map[string]any{"status": "fail", "reason": 3}
	for b.Loop() {
		if problems := v.Validate(value); len(problems) != 1 {
			b.Fatal(problems)
		}
	}
}
