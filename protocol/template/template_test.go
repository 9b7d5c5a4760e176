package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol/diag"
)

// memSource serves prompt files from memory, named "prompts/<path>" in
// diagnostics.
type memSource map[string]string

func (m memSource) Read(path string) ([]byte, string, error) {
	text, ok := m[path]
	if !ok {
		return nil, "prompts/" + path, fmt.Errorf("open %s: %w", path, fs.ErrNotExist)
	}
	return []byte(text), "prompts/" + path, nil
}

// compile compiles system.md of files and returns the template and its
// diagnostics as strings.
func compile(t *testing.T, files Source) (*Template, []string) {
	t.Helper()
	var diags diag.List
	tmpl := Compile("system.md", files, &diags)
	require.NotNil(t, tmpl)
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	return tmpl, got
}

// level is a named string type, which acts as its JSON encoding.
type level string

// vars is a shorthand for bindings.
type vars = map[string]any

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		name string
		text string
		vars vars
		want string
	}{
		{"rule §4.1 string as-is", "Topic: {{TOPIC}}.", vars{"TOPIC": "cats & <dogs>"}, "Topic: cats & <dogs>."},
		{"rule §4.1 name with digits and underscores", "{{A_1}}{{B2_}}", vars{"A_1": "x", "B2_": "y"}, "xy"},
		{"rule §4.1 same name twice", "{{A}} and {{A}}", vars{"A": "x"}, "x and x"},
		{"rule §4.1 adjacent placeholders", "{{A}}{{B}}", vars{"A": "1", "B": "2"}, "12"},
		{"rule §4.1 unicode around", "été {{A}} 🙂", vars{"A": "ok"}, "été ok 🙂"},
		{"rule §4.1 empty string", "[{{A}}]", vars{"A": ""}, "[]"},
		{"rule §4.1 int", "{{N}}", vars{"N": 3}, "3"},
		{"rule §4.1 negative int64", "{{N}}", vars{"N": int64(-42)}, "-42"},
		{"rule §4.1 float64 fraction", "{{N}}", vars{"N": 1.5}, "1.5"},
		{"rule §4.1 float64 integral", "{{N}}", vars{"N": 3.0}, "3"},
		{"rule §4.1 float64 large as JSON", "{{N}}", vars{"N": 1e21}, "1e+21"},
		{"rule §4.1 float64 below 1e21 in full", "{{N}}", vars{"N": 1e20}, "100000000000000000000"},
		{"rule §4.1 float64 small as JSON", "{{N}}", vars{"N": 1e-7}, "1e-7"},
		{"rule §4.1 float64 0.000001 in full", "{{N}}", vars{"N": 0.000001}, "0.000001"},
		{"rule §4.1 float64 negative zero", "{{N}}", vars{"N": math.Copysign(0, -1)}, "0"},
		{"rule §4.1 float64 NaN", "{{N}}", vars{"N": math.NaN()}, "NaN"},
		{"rule §4.1 float64 infinity", "{{N}} {{M}}", vars{"N": math.Inf(1), "M": math.Inf(-1)}, "Infinity -Infinity"},
		{"rule §4.1 json.Number integer", "{{N}}", vars{"N": json.Number("7")}, "7"},
		{"rule §4.1 json.Number shortest form", "{{N}}", vars{"N": json.Number("1.50")}, "1.5"},
		{"rule §4.1 json.Number exponent", "{{N}}", vars{"N": json.Number("1E21")}, "1e+21"},
		{"rule §4.1 json.Number not a number kept", "{{N}}", vars{"N": json.Number("abc")}, "abc"},
		{"rule §4.1 other number types as JSON", "{{A}} {{B}} {{C}}", vars{"A": int32(5), "B": uint8(7), "C": float32(1.1)}, "5 7 1.1"},
		{"rule §4.1 bool true", "{{B}}", vars{"B": true}, "true"},
		{"rule §4.1 bool false", "{{B}}", vars{"B": false}, "false"},
		{"rule §4.1 nil is null", "{{V}}", vars{"V": nil}, "null"},
		{"rule §4.1 map as indented JSON with sorted keys", "{{V}}", vars{"V": map[string]any{"b": 1, "a": "<x&y>"}}, "{\n  \"a\": \"<x&y>\",\n  \"b\": 1\n}"},
		{"rule §4.1 slice as indented JSON", "{{V}}", vars{"V": []any{"a", 2.5, true, nil}}, "[\n  \"a\",\n  2.5,\n  true,\n  null\n]"},
		{"rule §4.1 nested JSON", "{{V}}", vars{"V": map[string]any{"k": []any{1}}}, "{\n  \"k\": [\n    1\n  ]\n}"},
		{"rule §4.1 empty slice and map", "{{A}} {{B}}", vars{"A": []any{}, "B": map[string]any{}}, "[] {}"},
		{"rule §4.1 struct as JSON", "{{V}}", vars{"V": struct{ X int }{1}}, "{\n  \"X\": 1\n}"},
		{"rule §4.1 named string type unquoted", "{{V}}", vars{"V": level("high")}, "high"},
		{"rule §4.1 value JSON cannot encode is null", "{{V}}", vars{"V": make(chan int)}, "null"},
		{"rule D3 Absent renders NONE", "x={{X}}", vars{"X": Absent}, "x=NONE"},
		{"rule §4.1 unmapped stays verbatim", "Hi {{NAME}}!", vars{}, "Hi {{NAME}}!"},
		{"rule §4.1 nil bindings leave every placeholder", "{{A}} {{B}}", nil, "{{A}} {{B}}"},
		{"rule §4.1 spaces inside braces not a placeholder", "{{ NAME }} {{NAME }} {{ NAME}}", vars{"NAME": "x"}, "{{ NAME }} {{NAME }} {{ NAME}}"},
		{"rule §4.1 lower case not a placeholder", "{{name}} {{Name}} {{A.b}} {{1A}} {{_A}}", vars{"name": "x", "Name": "x", "A": "x"}, "{{name}} {{Name}} {{A.b}} {{1A}} {{_A}}"},
		{"rule §4.1 lone braces are text", "{{ and }} and {{}} and {{{}}} and }}{{", vars{}, "{{ and }} and {{}} and {{{}}} and }}{{"},
		{"rule §4.1 unclosed brace then placeholder", "{{ open {{A}} close", vars{"A": "x"}, "{{ open x close"},
		{"rule §4.1 triple braces keep the outer braces", "{{{A}}}", vars{"A": "x"}, "{x}"},
		{"rule §4.1 unterminated tag is text", "end {{A", vars{"A": "x"}, "end {{A"},
		{"4 no re-scan of substituted values", "{{A}}", vars{"A": "{{B}} {{#if B}}x{{/if}} {{@x.md}}", "B": "no"}, "{{B}} {{#if B}}x{{/if}} {{@x.md}}"},
		{"4 no re-scan across adjacent values", "{{A}}{{B}}", vars{"A": "{", "B": "{B}}"}, "{{B}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, diags := compile(t, memSource{"system.md": tt.text})
			assert.Empty(t, diags)
			assert.Equal(t, tt.want, tmpl.Render(tt.vars))
		})
	}
}

func TestConditionTruthiness(t *testing.T) {
	// Each value with whether it is truthy (rules §4.3, D3).
	values := []struct {
		name   string
		value  any
		bound  bool
		truthy bool
	}{
		{"unmapped", nil, false, false},
		{"Absent", Absent, true, false},
		{"nil", nil, true, false},
		{"false", false, true, false},
		{"true", true, true, true},
		{`""`, "", true, false},
		{`"false"`, "false", true, false},
		{`"0"`, "0", true, false},
		{`"NONE"`, "NONE", true, true},
		{`"False"`, "False", true, true},
		{`"no"`, "no", true, true},
		{`" "`, " ", true, true},
		{"int 0", 0, true, false},
		{"int64 0", int64(0), true, false},
		{"float 0", 0.0, true, false},
		{"json.Number 0.0", json.Number("0.0"), true, false},
		{"int32 0", int32(0), true, false},
		{"int 1", 1, true, true},
		{"float 0.5", 0.5, true, true},
		{"json.Number 2", json.Number("2"), true, true},
		{"empty slice", []any{}, true, true},
		{"empty map", map[string]any{}, true, true},
		{"nil pointer", (*int)(nil), true, false},
		{"named string type", level("false"), true, false},
		{"named string type high", level("high"), true, true},
		{"value JSON cannot encode", make(chan int), true, false},
	}
	for _, v := range values {
		b := vars{}
		if v.bound {
			b["X"] = v.value
		}
		pick := func(yes bool) string {
			if yes {
				return "yes"
			}
			return "no"
		}
		t.Run("rule §4.3 NAME "+v.name, func(t *testing.T) {
			tmpl, diags := compile(t, memSource{"system.md": "{{#if X}}yes{{else}}no{{/if}}"})
			assert.Empty(t, diags)
			assert.Equal(t, pick(v.truthy), tmpl.Render(b))
		})
		t.Run("rule D4 !NAME "+v.name, func(t *testing.T) {
			tmpl, diags := compile(t, memSource{"system.md": "{{#if !X}}yes{{else}}no{{/if}}"})
			assert.Empty(t, diags)
			assert.Equal(t, pick(!v.truthy), tmpl.Render(b))
		})
	}
}

func TestConditionEquality(t *testing.T) {
	tests := []struct {
		name  string
		cond  string
		value any // nil with bound false: unmapped
		bound bool
		want  bool
	}{
		{"rule §4.3 string equal", `X == "high"`, "high", true, true},
		{"rule §4.3 string differs", `X == "high"`, "low", true, false},
		{"rule §4.3 case-sensitive", `X == "high"`, "High", true, false},
		{"rule §4.3 exact, no trimming", `X == "high"`, "high ", true, false},
		{"rule §4.3 empty literal", `X == ""`, "", true, true},
		{"rule §4.3 literal with spaces and symbols", `X == "a b == c!"`, "a b == c!", true, true},
		{"rule §4.3 ne string differs", `X != "high"`, "low", true, true},
		{"rule §4.3 ne string equal", `X != "high"`, "high", true, false},
		{"rule §4.3 bool true", `X == "true"`, true, true, true},
		{"rule §4.3 bool false", `X == "false"`, false, true, true},
		{"rule §4.3 int", `X == "3"`, 3, true, true},
		{"rule §4.3 float integral", `X == "3"`, 3.0, true, true},
		{"rule §4.3 float fraction", `X == "1.5"`, 1.5, true, true},
		{"rule §4.3 json.Number", `X == "1.5"`, json.Number("1.50"), true, true},
		{"rule §4.3 nil is null", `X == "null"`, nil, true, true},
		{"rule §4.3 map compact JSON", `X == "{}"`, map[string]any{}, true, true},
		{"rule §4.3 slice compact JSON numbers", `X == "[1,2]"`, []any{1, 2}, true, true},
		{"rule D4 eq on unmapped is false", `X == "x"`, nil, false, false},
		{"rule D4 ne on unmapped is true", `X != "x"`, nil, false, true},
		{"rule D4 eq on Absent is false, even NONE", `X == "NONE"`, Absent, true, false},
		{"rule D4 ne on Absent is true", `X != "x"`, Absent, true, true},
		{"rule §4.3 operator without spaces", `X=="a"`, "a", true, true},
		{"rule §4.3 extra spaces", `  X   !=   "a"  `, "b", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, diags := compile(t, memSource{"system.md": "{{#if " + tt.cond + "}}yes{{/if}}"})
			assert.Empty(t, diags)
			b := vars{}
			if tt.bound {
				b["X"] = tt.value
			}
			want := ""
			if tt.want {
				want = "yes"
			}
			assert.Equal(t, want, tmpl.Render(b))
		})
	}
}

func TestConditionals(t *testing.T) {
	chain := "{{#if A}}a{{else if B == \"x\"}}b{{else if !C}}c{{else}}d{{/if}}"
	nested := "{{#if A}}[{{#if B}}ab{{else}}a!b{{/if}}]{{else}}[{{#if !B}}!a!b{{/if}}]{{/if}}"
	tests := []struct {
		name string
		text string
		vars vars
		want string
	}{
		{"rule §4.3 no branch true and no else renders nothing", "<{{#if A}}x{{/if}}>", vars{}, "<>"},
		{"rule §4.3 first true branch renders", chain, vars{"A": "1", "B": "x"}, "a"},
		{"rule §4.3 else if chain second", chain, vars{"B": "x"}, "b"},
		{"rule §4.3 else if chain third", chain, vars{"B": "y"}, "c"},
		{"rule §4.3 else if chain else", chain, vars{"B": "y", "C": true}, "d"},
		{"rule §4.3 nested true true", nested, vars{"A": 1, "B": 1}, "[ab]"},
		{"rule §4.3 nested true false", nested, vars{"A": 1}, "[a!b]"},
		{"rule §4.3 nested false false", nested, vars{}, "[!a!b]"},
		{"rule §4.3 nested false true", nested, vars{"B": 1}, "[]"},
		{"rule §4.3 body with placeholders", "{{#if A}}A={{A}}, B={{B}}{{/if}}", vars{"A": "on"}, "A=on, B={{B}}"},
		{"rule §4.3 tags inline keep surrounding spaces", "a {{#if A}} b {{/if}} c", vars{"A": true}, "a  b  c"},
		{"rule §4.3 tag trailing white space", "{{#if A  }}x{{else }}y{{/if  }}", vars{}, "y"},
		{"rule §4.3 multiple spaces in else if", "{{#if A}}a{{else   if  B}}b{{/if}}", vars{"B": 1}, "b"},
		{"rule §4.3 #if needs a space", "{{#ifA}}x", vars{}, "{{#ifA}}x"},
		{"rule §4.3 unknown keywords are text", "{{#each A}}{{elsewhere}}{{/each}}{{else iffy}}", vars{}, "{{#each A}}{{elsewhere}}{{/each}}{{else iffy}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, diags := compile(t, memSource{"system.md": tt.text})
			assert.Empty(t, diags)
			assert.Equal(t, tt.want, tmpl.Render(tt.vars))
		})
	}
}

func TestStandalone(t *testing.T) {
	block := "Start\n{{#if A}}\nyes\n{{else if B}}\n  maybe\n{{else}}\nno\n{{/if}}\nEnd\n"
	tests := []struct {
		name string
		text string
		vars vars
		want string
	}{
		{"rule §4.3 standalone lines removed, first branch", block, vars{"A": 1}, "Start\nyes\nEnd\n"},
		{"rule §4.3 standalone lines removed, else if", block, vars{"B": 1}, "Start\n  maybe\nEnd\n"},
		{"rule §4.3 standalone lines removed, else", block, vars{}, "Start\nno\nEnd\n"},
		{"rule §4.3 standalone with CRLF", strings.ReplaceAll(block, "\n", "\r\n"), vars{}, "Start\r\nno\r\nEnd\r\n"},
		{"rule §4.3 standalone with indentation", "a\n  {{#if A}}\t\n  x\n\t{{/if}}  \nb", vars{"A": 1}, "a\n  x\nb"},
		{"rule §4.3 standalone at start and end of file", "{{#if A}}\nx\n{{/if}}", vars{"A": 1}, "x\n"},
		{"rule §4.3 standalone at end of file with CR", "x\n{{#if A}}\ny\n{{/if}}\r", vars{}, "x\n"},
		{"rule §4.3 standalone nested", "{{#if A}}\n{{#if B}}\nab\n{{/if}}\n{{/if}}\nz\n", vars{"A": 1, "B": 1}, "ab\nz\n"},
		{"rule §4.3 empty line kept around block", "a\n\n{{#if A}}\nx\n{{/if}}\n\nb", vars{}, "a\n\n\nb"},
		{"rule §4.3 two tags on a line are not standalone", "{{#if A}}{{/if}}\nb", vars{}, "\nb"},
		{"rule §4.3 tag with text after is not standalone", "{{#if A}} x\ny\n{{/if}}\n", vars{"A": 1}, " x\ny\n"},
		{"rule §4.3 tag with text before is not standalone", "a {{#if A}}\nx{{/if}}\n", vars{"A": 1}, "a \nx\n"},
		{"rule §4.1 placeholder lines are not stripped", "a\n{{X}}\nb", vars{"X": ""}, "a\n\nb"},
		{"rule §4.2 include lines are not stripped", "a\n{{@e.md}}\nb", vars{}, "a\n\nb"},
		{"rule §4.3 standalone inside an included file", "<{{@i.md}}>", vars{"A": 1}, "<x\n>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, diags := compile(t, memSource{"system.md": tt.text, "e.md": "", "i.md": "{{#if A}}\nx\n{{/if}}\n"})
			assert.Empty(t, diags)
			assert.Equal(t, tt.want, tmpl.Render(tt.vars))
		})
	}
}

func TestIncludes(t *testing.T) {
	tests := []struct {
		name     string
		files    memSource
		vars     vars
		want     string
		includes []string
	}{
		{
			name:     "rule §4.2 include spliced with the including block's bindings",
			files:    memSource{"system.md": "A {{@shared/tone.md}} Z", "shared/tone.md": "be {{TONE}}"},
			vars:     vars{"TONE": "kind"},
			want:     "A be kind Z",
			includes: []string{"shared/tone.md"},
		},
		{
			name:     "rule §4.2 nested includes",
			files:    memSource{"system.md": "[{{@a.md}}]", "a.md": "a({{@b/c.md}})", "b/c.md": "c{{X}}"},
			vars:     vars{"X": 1},
			want:     "[a(c1)]",
			includes: []string{"a.md", "b/c.md"},
		},
		{
			name:     "rule §4.2 include inside branches",
			files:    memSource{"system.md": "{{#if A}}{{@a.md}}{{else}}{{@b.md}}{{/if}}", "a.md": "AAA", "b.md": "BBB"},
			vars:     vars{},
			want:     "BBB",
			includes: []string{"a.md", "b.md"},
		},
		{
			name:     "rule §4.2 same file twice is fine",
			files:    memSource{"system.md": "{{@x.md}}-{{@a.md}}-{{@x.md}}", "a.md": "{{@x.md}}", "x.md": "x"},
			vars:     vars{},
			want:     "x-x-x",
			includes: []string{"x.md", "a.md"},
		},
		{
			name:     "rule §4.2 included conditionals",
			files:    memSource{"system.md": "{{@a.md}}", "a.md": "{{#if A}}yes{{/if}}"},
			vars:     vars{"A": "1"},
			want:     "yes",
			includes: []string{"a.md"},
		},
		{
			name:     "rule §4.2 32 levels deep is allowed",
			files:    chainFiles(32),
			vars:     vars{},
			want:     strings.Repeat("<", 33) + strings.Repeat(">", 33),
			includes: chainPaths(32),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, diags := compile(t, tt.files)
			assert.Empty(t, diags)
			assert.Equal(t, tt.want, tmpl.Render(tt.vars))
			assert.Equal(t, tt.includes, tmpl.Includes())
		})
	}
}

// chainFiles returns system.md including f1.md including ... fn.md.
func chainFiles(n int) memSource {
	files := memSource{"system.md": "<{{@f1.md}}>"}
	for i := 1; i <= n; i++ {
		files[fmt.Sprintf("f%d.md", i)] = fmt.Sprintf("<{{@f%d.md}}>", i+1)
	}
	files[fmt.Sprintf("f%d.md", n)] = "<>"
	return files
}

// chainPaths returns f1.md ... fn.md.
func chainPaths(n int) []string {
	var paths []string
	for i := 1; i <= n; i++ {
		paths = append(paths, fmt.Sprintf("f%d.md", i))
	}
	return paths
}

func TestErrors(t *testing.T) {
	grammarMsg := `write NAME, !NAME, NAME == "value" or NAME != "value"`
	tests := []struct {
		name  string
		files memSource
		want  []string
		// render is the best-effort output with no bindings.
		render string
	}{
		{
			name:   "rule §4.3 unclosed if reported at the if",
			files:  memSource{"system.md": "a\n  {{#if A}}x"},
			want:   []string{"prompts/system.md:2:3: error: unclosed {{#if}}: add a matching {{/if}}"},
			render: "a\n  ",
		},
		{
			name:  "rule §4.3 unclosed nested ifs",
			files: memSource{"system.md": "{{#if A}}{{#if B}}{{/if}}{{#if C}}"},
			want: []string{
				"prompts/system.md:1:1: error: unclosed {{#if}}: add a matching {{/if}}",
				"prompts/system.md:1:26: error: unclosed {{#if}}: add a matching {{/if}}",
			},
		},
		{
			name:   "rule §4.3 /if without if",
			files:  memSource{"system.md": "x {{/if}}"},
			want:   []string{"prompts/system.md:1:3: error: {{/if}} without a matching {{#if}}"},
			render: "x {{/if}}",
		},
		{
			name:   "rule §4.3 else without if",
			files:  memSource{"system.md": "é\n\t{{else}} y"},
			want:   []string{"prompts/system.md:2:2: error: {{else}} without a matching {{#if}}"},
			render: "é\n\t{{else}} y",
		},
		{
			name:   "rule §4.3 else if without if",
			files:  memSource{"system.md": "{{else if A}}"},
			want:   []string{"prompts/system.md:1:1: error: {{else if}} without a matching {{#if}}"},
			render: "{{else if A}}",
		},
		{
			name:   "rule §4.3 else if after else",
			files:  memSource{"system.md": "{{#if A}}a{{else}}b{{else if B}}c{{/if}}"},
			want:   []string{"prompts/system.md:1:20: error: {{else if}} after {{else}}: {{else}} must be the last branch of an {{#if}}"},
			render: "b",
		},
		{
			name:   "rule §4.3 two elses",
			files:  memSource{"system.md": "{{#if A}}a\n{{else}}b\n{{else}}c{{/if}}"},
			want:   []string{"prompts/system.md:3:1: error: {{else}} after {{else}}: {{else}} must be the last branch of an {{#if}}"},
			render: "b\n",
		},
		{
			name:   "rule §4.3 malformed condition and",
			files:  memSource{"system.md": "🙂 {{#if A and B}}x{{/if}}"},
			want:   []string{`prompts/system.md:1:3: error: malformed condition "A and B": ` + grammarMsg},
			render: "🙂 ",
		},
		{
			name:  "rule §4.3 malformed condition or, numeric comparison, arithmetic, two comparisons",
			files: memSource{"system.md": "{{#if A || B}}{{/if}}{{#if A > \"1\"}}{{/if}}{{#if A + 1}}{{/if}}{{#if A == \"1\" == \"2\"}}{{/if}}"},
			want: []string{
				`prompts/system.md:1:1: error: malformed condition "A || B": ` + grammarMsg,
				`prompts/system.md:1:22: error: malformed condition "A > \"1\"": ` + grammarMsg,
				`prompts/system.md:1:44: error: malformed condition "A + 1": ` + grammarMsg,
				`prompts/system.md:1:64: error: malformed condition "A == \"1\" == \"2\"": ` + grammarMsg,
			},
		},
		{
			name:  "rule §4.3 malformed condition unquoted literal",
			files: memSource{"system.md": "{{#if A == b}}{{/if}}{{#if A != 'b'}}{{/if}}{{#if A == \"b}}{{/if}}{{#if A ==}}{{/if}}"},
			want: []string{
				`prompts/system.md:1:1: error: malformed condition "A == b": ` + grammarMsg + " (put the value in double quotes)",
				`prompts/system.md:1:22: error: malformed condition "A != 'b'": ` + grammarMsg + " (put the value in double quotes)",
				`prompts/system.md:1:45: error: malformed condition "A == \"b": ` + grammarMsg,
				`prompts/system.md:1:67: error: malformed condition "A ==": ` + grammarMsg + " (put the value in double quotes)",
			},
		},
		{
			name:  "rule §4.3 malformed condition lower-case names",
			files: memSource{"system.md": "{{#if topic}}{{/if}}{{#if !Topic}}{{/if}}{{#if mode == \"x\"}}{{/if}}"},
			want: []string{
				`prompts/system.md:1:1: error: malformed condition "topic": ` + grammarMsg + " (names are UPPER_SNAKE_CASE)",
				`prompts/system.md:1:21: error: malformed condition "!Topic": ` + grammarMsg + " (names are UPPER_SNAKE_CASE)",
				`prompts/system.md:1:42: error: malformed condition "mode == \"x\"": ` + grammarMsg + " (names are UPPER_SNAKE_CASE)",
			},
		},
		{
			name:  "rule §4.3 malformed condition quote inside literal, bang forms",
			files: memSource{"system.md": "{{#if A == \"a\"b\"}}{{/if}}{{#if !}}{{/if}}{{#if !!A}}{{/if}}{{#if A.b}}{{/if}}"},
			want: []string{
				`prompts/system.md:1:1: error: malformed condition "A == \"a\"b\"": ` + grammarMsg,
				`prompts/system.md:1:26: error: malformed condition "!": ` + grammarMsg,
				`prompts/system.md:1:42: error: malformed condition "!!A": ` + grammarMsg,
				`prompts/system.md:1:60: error: malformed condition "A.b": ` + grammarMsg,
			},
		},
		{
			name:  "rule §4.3 empty condition",
			files: memSource{"system.md": "{{#if}}x{{else if   }}y{{/if}}"},
			want: []string{
				"prompts/system.md:1:1: error: empty condition: " + grammarMsg,
				"prompts/system.md:1:9: error: empty condition: " + grammarMsg,
			},
		},
		{
			name:   "rule §4.3 malformed else if never holds",
			files:  memSource{"system.md": "{{#if A}}a{{else if b}}b{{else}}c{{/if}}"},
			want:   []string{`prompts/system.md:1:11: error: malformed condition "b": ` + grammarMsg + " (names are UPPER_SNAKE_CASE)"},
			render: "c",
		},
		{
			name:  "rule §4.3 errors in an included file at their own position",
			files: memSource{"system.md": "x\n{{@shared/a.md}}", "shared/a.md": "\n\n   {{#if a}}{{/if}}"},
			want:  []string{`prompts/shared/a.md:3:4: error: malformed condition "a": ` + grammarMsg + " (names are UPPER_SNAKE_CASE)"},
		},
		{
			name:   "rule §4.3 conditionals balance within each file",
			files:  memSource{"system.md": "{{#if A}}{{@a.md}}", "a.md": "x{{/if}}"},
			want:   []string{"prompts/a.md:1:2: error: {{/if}} without a matching {{#if}}", "prompts/system.md:1:1: error: unclosed {{#if}}: add a matching {{/if}}"},
			render: "",
		},
		{
			name:   "rule §4.2 missing include names the chain",
			files:  memSource{"system.md": "{{@shared/a.md}}", "shared/a.md": "line\n  {{@shared/x.md}}"},
			want:   []string{`prompts/shared/a.md:2:3: error: include "shared/x.md" not found (include chain: system.md -> shared/a.md -> shared/x.md)`},
			render: "line\n  {{@shared/x.md}}",
		},
		{
			name:   "rule §4.2 circular include",
			files:  memSource{"system.md": "s{{@a.md}}", "a.md": "a{{@system.md}}"},
			want:   []string{"prompts/a.md:1:2: error: circular include: system.md -> a.md -> system.md"},
			render: "sa{{@system.md}}",
		},
		{
			name:  "rule §4.2 self include",
			files: memSource{"system.md": "{{@a.md}}", "a.md": "{{@a.md}}"},
			want:  []string{"prompts/a.md:1:1: error: circular include: system.md -> a.md -> a.md"},
		},
		{
			name:  "rule §4.2 traversal rejected",
			files: memSource{"system.md": "{{@../../etc/passwd}}\n{{@a/../../x.md}}\n{{@a/../b.md}}", "b.md": "b"},
			want: []string{
				`prompts/system.md:1:1: error: include path "../../etc/passwd" leaves prompts/: ".." is not allowed`,
				`prompts/system.md:2:1: error: include path "a/../../x.md" leaves prompts/: ".." is not allowed`,
				`prompts/system.md:3:1: error: include path "a/../b.md" leaves prompts/: ".." is not allowed`,
			},
			render: "{{@../../etc/passwd}}\n{{@a/../../x.md}}\n{{@a/../b.md}}",
		},
		{
			name:  "rule §4.2 absolute, backslash, empty, unclean, spaces, not .md",
			files: memSource{"system.md": "{{@/etc/x.md}}\n{{@a\\b.md}}\n{{@}}\n{{@./a.md}}\n{{@a//b.md}}\n{{@ a.md}}\n{{@shared/x}}\n{{@a.md/}}"},
			want: []string{
				`prompts/system.md:1:1: error: include path "/etc/x.md" is absolute: write it relative to prompts/`,
				`prompts/system.md:2:1: error: include path "a\\b.md" contains a backslash: separate folders with "/"`,
				`prompts/system.md:3:1: error: include path "" is empty: name a file relative to prompts/, like {{@shared/tone.md}}`,
				`prompts/system.md:4:1: error: include path "./a.md" is not clean: remove empty and "." segments and any trailing "/"`,
				`prompts/system.md:5:1: error: include path "a//b.md" is not clean: remove empty and "." segments and any trailing "/"`,
				`prompts/system.md:6:1: error: include path " a.md" has spaces around it: remove them`,
				`prompts/system.md:7:1: error: include path "shared/x" must end in .md`,
				`prompts/system.md:8:1: error: include path "a.md/" is not clean: remove empty and "." segments and any trailing "/"`,
			},
		},
		{
			name:  "rule §4.2 include depth capped",
			files: chainFiles(33),
			want:  []string{"prompts/f32.md:1:2: error: includes nest more than 32 levels deep (include chain: system.md -> " + strings.Join(chainPaths(33), " -> ") + ")"},
		},
		{
			name: "rule §4.2 include depth capped through an already compiled file",
			files: func() memSource {
				files := chainFiles(32)
				files["system.md"] = "{{@f1.md}}{{@g.md}}"
				files["g.md"] = "{{@f1.md}}"
				return files
			}(),
			want: []string{"prompts/g.md:1:1: error: includes nest more than 32 levels deep (include chain: system.md -> g.md -> f1.md)"},
		},
		{
			name:  "rule §4.2 include fan-out bomb capped",
			files: bombFiles(),
			want:  []string{"prompts/b2.md:1:41: error: includes expand the prompt beyond 4 MiB (include chain: system.md -> b1.md -> b2.md -> b3.md)"},
		},
		{
			name:  "rule §4.2 unreadable include",
			files: memSource{"system.md": "{{@dir.md}}"},
			want:  []string{`prompts/system.md:1:1: error: cannot read include "dir.md": is a directory (include chain: system.md -> dir.md)`},
		},
		{
			name:  "rule §4.2 file named by its path when the source gives no name",
			files: memSource{"system.md": "{{@anon.md}}"},
			want:  []string{"anon.md:1:1: error: {{/if}} without a matching {{#if}}"},
		},
		{
			name:  "rule §4.2 missing prompt",
			files: memSource{},
			want:  []string{`prompts/system.md: error: prompt "system.md" not found`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, diags := compile(t, errSource{tt.files})
			assert.Equal(t, tt.want, diags)
			if tt.render != "" {
				assert.Equal(t, tt.render, tmpl.Render(nil))
			}
		})
	}
}

// errSource is a memSource where dir.md cannot be read and anon.md has no
// file name.
type errSource struct{ memSource }

func (s errSource) Read(path string) ([]byte, string, error) {
	switch path {
	case "dir.md":
		return nil, "prompts/dir.md", errors.New("is a directory")
	case "anon.md":
		return []byte("{{/if}}"), "", nil
	}
	return s.memSource.Read(path)
}

// bombFiles returns a prompt whose includes fan out: each level includes
// the next 1024 times, 4 levels deep, ending in 1 KiB.
func bombFiles() memSource {
	files := memSource{"system.md": "{{@b1.md}}", "b4.md": strings.Repeat("x", 1024)}
	for i := 1; i <= 3; i++ {
		files[fmt.Sprintf("b%d.md", i)] = strings.Repeat(fmt.Sprintf("{{@b%d.md}}", i+1), 1024)
	}
	return files
}

func TestCompileLimits(t *testing.T) {
	t.Run("rule §4.2 prompt larger than 4 MiB", func(t *testing.T) {
		tmpl, diags := compile(t, memSource{"system.md": strings.Repeat("x", maxSize+1)})
		assert.Equal(t, []string{`prompts/system.md: error: prompt "system.md" is larger than 4 MiB`}, diags)
		assert.Equal(t, "", tmpl.Render(nil))
	})
	t.Run("rule §4.2 included file larger than 4 MiB", func(t *testing.T) {
		_, diags := compile(t, memSource{"system.md": "\n{{@big.md}}", "big.md": strings.Repeat("x", maxSize+1)})
		assert.Equal(t, []string{`prompts/system.md:2:1: error: include "big.md" is larger than 4 MiB (include chain: system.md -> big.md)`}, diags)
	})
	t.Run("rule §4.2 invalid root path", func(t *testing.T) {
		var diags diag.List
		tmpl := Compile("../x.md", memSource{}, &diags)
		assert.Equal(t, `../x.md: error: prompt path "../x.md" leaves prompts/: ".." is not allowed`, diags.Error())
		assert.Equal(t, "", tmpl.Render(nil))
	})
	t.Run("nil diagnostics list is allowed", func(t *testing.T) {
		tmpl := Compile("system.md", memSource{"system.md": "{{#if}}"}, nil)
		assert.Equal(t, "", tmpl.Render(nil))
	})
}

func TestRefs(t *testing.T) {
	files := memSource{
		"system.md":   "Hi {{NAME}}\n{{#if MODE == \"deep\"}}\n{{@shared/a.md}}\n{{else if !QUIET}}\n{{#if LEVEL != \"\"}}{{LEVEL}}{{/if}}\n{{else if FLAG}}\n{{/if}}\n{{@shared/a.md}}{{#if bad}}{{/if}}{{lower}}",
		"shared/a.md": "\t{{TONE}}",
	}
	tmpl, diags := compile(t, files)
	require.Len(t, diags, 1) // the malformed condition, not listed
	pos := func(file string, line, col int) diag.Pos {
		return diag.Pos{File: "prompts/" + file, Line: line, Col: col}
	}
	assert.Equal(t, []Ref{
		{Kind: RefPlaceholder, Name: "NAME", Pos: pos("system.md", 1, 4)},
		{Kind: RefCondition, Name: "MODE", Op: OpEq, Literal: "deep", Pos: pos("system.md", 2, 1)},
		{Kind: RefPlaceholder, Name: "TONE", Pos: pos("shared/a.md", 1, 2)},
		{Kind: RefCondition, Name: "QUIET", Op: OpNot, Pos: pos("system.md", 4, 1)},
		{Kind: RefCondition, Name: "LEVEL", Op: OpNe, Literal: "", Pos: pos("system.md", 5, 1)},
		{Kind: RefPlaceholder, Name: "LEVEL", Pos: pos("system.md", 5, 20)},
		{Kind: RefCondition, Name: "FLAG", Op: OpNone, Pos: pos("system.md", 6, 1)},
	}, tmpl.Refs())
	assert.Equal(t, []string{"shared/a.md"}, tmpl.Includes())
	assert.True(t, OpEq.Compares())
	assert.True(t, OpNe.Compares())
	assert.False(t, OpNot.Compares())
	assert.False(t, OpNone.Compares())
}

func TestRenderIsRepeatable(t *testing.T) {
	tmpl, diags := compile(t, memSource{"system.md": "{{#if A}}{{A}}{{else}}-{{/if}}"})
	require.Empty(t, diags)
	for range 3 {
		assert.Equal(t, "x", tmpl.Render(vars{"A": "x"}))
		assert.Equal(t, "-", tmpl.Render(vars{}))
	}
}

func TestConcurrentRender(t *testing.T) {
	tmpl, diags := compile(t, memSource{"system.md": "{{#if A == \"x\"}}{{B}}{{else}}{{A}}{{/if}}"})
	require.Empty(t, diags)
	done := make(chan string)
	for i := range 8 {
		go func() {
			if i%2 == 0 {
				done <- tmpl.Render(vars{"A": "x", "B": []any{i}})
			} else {
				done <- tmpl.Render(vars{"A": i})
			}
		}()
	}
	for range 8 {
		assert.NotEmpty(t, <-done)
	}
}
