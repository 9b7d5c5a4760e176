package diag

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDidYouMean(t *testing.T) {
	known := []string{"input", "maxSteps", "next-message", "steps", "system"}
	for _, tc := range []struct{ name, want string }{
		{"stpes", ` (did you mean "steps"?)`},        // transposition
		{"max_steps", ` (did you mean "maxSteps"?)`}, // case and separator folded
		{"next-mesage", ` (did you mean "next-message"?)`},
		{"inputs", ` (did you mean "input"?)`},
		{"banana", ""}, // nothing close
		{"steps", ""},  // an exact match needs no suggestion
	} {
		assert.Equal(t, tc.want, DidYouMean(tc.name, known), tc.name)
	}
}

func TestWriteShowsLineAndCaret(t *testing.T) {
	src := []byte("steps:\n\tStart:\n\t\tblock: nope\n")
	l := List{{Pos: Pos{File: "p.yaml", Line: 3, Col: 10}, Message: "unknown block kind"}}
	var b bytes.Buffer
	require.NoError(t, Write(&b, l, func(string) []byte { return src }))
	assert.Equal(t, "p.yaml:3:10: error: unknown block kind\n    \t\tblock: nope\n    \t\t       ^\n", b.String())
}

func TestWriteWithoutSourceLine(t *testing.T) {
	l := List{{Pos: Pos{File: "settings.json"}, Message: "missing"}, {Pos: Pos{File: "x", Line: 9, Col: 1}, Severity: Warning, Message: "beyond the end"}}
	var b bytes.Buffer
	require.NoError(t, Write(&b, l, func(string) []byte { return []byte("one line\n") }))
	assert.Equal(t, "settings.json: error: missing\nx:9:1: warning: beyond the end\n", b.String())
}

func TestSortOrdersAndDropsRepeats(t *testing.T) {
	a := Diagnostic{Pos: Pos{File: "a", Line: 2, Col: 1}, Message: "second"}
	b := Diagnostic{Pos: Pos{File: "a", Line: 1, Col: 5}, Message: "first"}
	c := Diagnostic{Pos: Pos{File: "b", Line: 1, Col: 1}, Severity: Warning, Message: "other file"}
	got := List{c, a, b, a}.Sort()
	assert.Equal(t, List{b, a, c}, got)
	assert.True(t, got.HasErrors())
	assert.Equal(t, List{b, a}, got.Errors())
	assert.False(t, List{c}.HasErrors())
}

func TestJSONShape(t *testing.T) {
	d := Diagnostic{Pos: Pos{File: "p.yaml", Line: 3, Col: 7}, Severity: Warning, Message: "m"}
	out, err := json.Marshal(d)
	require.NoError(t, err)
	assert.JSONEq(t, `{"file":"p.yaml","line":3,"column":7,"severity":"warning","message":"m"}`, string(out))
	var back Diagnostic
	require.NoError(t, json.Unmarshal(out, &back))
	assert.Equal(t, d, back)
}
