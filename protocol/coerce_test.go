package protocol_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// typedAgent loads a worker with an input of every kind of type.
func typedAgent(t *testing.T) *protocol.Protocol {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"settings.json": `{"slug": "typed", "name": "Typed", "format": "worker"}`,
		"protocol.yaml": `types:
  Place:
    city: { type: string }
input:
  TEXT: { type: string }
  RATIO: { type: number, optional: true }
  COUNT: { type: integer, optional: true }
  FLAG: { type: boolean, optional: true }
  TAGS: { type: "string[]", optional: true }
  PLACE: { type: Place, optional: true }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
`,
		"prompts/system.md": "You help.\n",
	})
	p, err := protocol.Load(dir)
	require.NoError(t, err)
	return p
}

// Text inputs are read by their declared type; what does not parse says
// how to write it.
func TestCoerceInput(t *testing.T) {
	p := typedAgent(t)
	for _, tc := range []struct {
		name, text string
		want       any
		problem    string
	}{
		{"TEXT", "3", "3", ""},
		{"TEXT", `{"not": "json"}`, `{"not": "json"}`, ""},
		{"RATIO", "0.5", 0.5, ""},
		{"RATIO", "half", nil, `"half" is not a valid number: write a number, like 0.5`},
		{"COUNT", "3", int64(3), ""},
		{"COUNT", "3.5", nil, `"3.5" is not a valid integer: write a whole number, like 3`},
		{"COUNT", "many", nil, `"many" is not a valid integer: write a whole number, like 3`},
		{"FLAG", "true", true, ""},
		{"FLAG", "0", false, ""},
		{"FLAG", "maybe", nil, `"maybe" is not a valid boolean: write true or false`},
		{"TAGS", `["a", "b"]`, []any{"a", "b"}, ""},
		{"TAGS", "a,b", nil, `"a,b" is not a valid string[]: write it as JSON: invalid character 'a' looking for beginning of value`},
		{"PLACE", `{"city": "Brest", "zip": 29200}`, map[string]any{"city": "Brest", "zip": json.Number("29200")}, ""},
		{"PLACE", `{"city": "Brest"} x`, nil, `"{\"city\": \"Brest\"} x" is not a valid Place: write it as JSON: unexpected text after the JSON value`},
		{"PLACE", `{"city": "Brest"}}`, nil, `"{\"city\": \"Brest\"}}" is not a valid Place: write it as JSON: unexpected text after the JSON value`},
		{"TAGS", `["a"]]`, nil, `"[\"a\"]]" is not a valid string[]: write it as JSON: unexpected text after the JSON value`},
		{"TXT", `{"a": 1}`, `{"a": 1}`, ""}, // not declared: kept as text, for the run to ignore with a warning (rule D18)
	} {
		t.Run(tc.name+"="+tc.text, func(t *testing.T) {
			got, err := p.CoerceInput(tc.name, tc.text)
			if tc.problem == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			var te *protocol.InputTextError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.name, te.Input)
			assert.Equal(t, tc.problem, te.Problem)
			assert.EqualError(t, err, "input "+tc.name+": "+tc.problem)
		})
	}
}

// NAME=VALUE arguments are read in order, the last value of a name wins,
// and the first problem is reported.
func TestParseInputArgs(t *testing.T) {
	p := typedAgent(t)
	got, err := p.ParseInputArgs([]string{"TEXT=a=b", "COUNT=1", "COUNT=2", "FLAG=true"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"TEXT": "a=b", "COUNT": int64(2), "FLAG": true}, got)

	_, err = p.ParseInputArgs([]string{"TEXT=x", "COUNT", "FLAG=maybe"})
	var te *protocol.InputTextError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, &protocol.InputTextError{Input: `"COUNT"`, Problem: "write NAME=VALUE"}, te)

	_, err = p.ParseInputArgs([]string{"FLAG=maybe", "COUNT=x"})
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "FLAG", te.Input, "the first problem in the order given")
}

// Inputs given by name are read the same way, reported in name order.
func TestCoerceInputs(t *testing.T) {
	p := typedAgent(t)
	got, err := p.CoerceInputs(map[string]string{"TEXT": "tides", "RATIO": "1e-3"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"TEXT": "tides", "RATIO": 0.001}, got)

	_, err = p.CoerceInputs(map[string]string{"RATIO": "x", "COUNT": "x"})
	var te *protocol.InputTextError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "COUNT", te.Input)

	got, err = p.CoerceInputs(nil)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// A name the worker does not declare is not an error of the text: it is
// kept as written, and the run ignores it with a warning (rule D18).
func TestCoerceInputNoInputs(t *testing.T) {
	dir := writeAgent(t, t.TempDir())
	p, err := protocol.Load(dir)
	require.NoError(t, err)
	got, err := p.ParseInputArgs([]string{"X=1"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"X": "1"}, got)
	assert.Equal(t, []string{"unknown input X is ignored; the worker declares no inputs"}, p.InputWarnings(got))
}

// A JSON object of inputs keeps its numbers exact; anything else is
// refused.
func TestDecodeInput(t *testing.T) {
	got, err := protocol.DecodeInput([]byte(`{"COUNT": 3, "RATIO": 0.10000000000000001, "TEXT": "x"}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"COUNT": json.Number("3"), "RATIO": json.Number("0.10000000000000001"), "TEXT": "x"}, got)

	got, err = protocol.DecodeInput([]byte("null"))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{}, got, "null is an empty input that can take more")

	for text, msg := range map[string]string{
		`[1, 2]`:      "got an array, not an object",
		`"x"`:         "got a string, not an object",
		`3`:           "got a number, not an object",
		`{"A": 1} {}`: "unexpected text after the JSON value",
		`{"A": 1}}`:   "unexpected text after the JSON value",
		`{"A": 1}]`:   "unexpected text after the JSON value",
		`{"A": 1`:     "unexpected EOF",
		``:            "EOF",
		`{"A": tru}`:  "invalid character '}' in literal true (expecting 'e')",
	} {
		_, err := protocol.DecodeInput([]byte(text))
		assert.EqualError(t, err, msg, text)
	}
}
