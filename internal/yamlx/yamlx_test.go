package yamlx

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol/diag"
)

func parse(t *testing.T, src string) (*Reader, any, diag.List) {
	t.Helper()
	var diags diag.List
	root, ok := Parse("f.yaml", []byte(src), &diags)
	r := &Reader{File: "f.yaml", Diags: &diags}
	if !ok || root == nil {
		return r, nil, diags
	}
	v, _ := r.Value(root)
	return r, v, diags
}

func TestAliasesAndMergeKeys(t *testing.T) {
	_, v, diags := parse(t, `
base: &base { model: openai/gpt-4o, maxSteps: 3 }
thread:
  <<: *base
  maxSteps: 5
list: [*base]
`)
	require.Empty(t, diags)
	assert.Equal(t, map[string]any{
		"base":   map[string]any{"model": "openai/gpt-4o", "maxSteps": int64(3)},
		"thread": map[string]any{"model": "openai/gpt-4o", "maxSteps": int64(5)},
		"list":   []any{map[string]any{"model": "openai/gpt-4o", "maxSteps": int64(3)}},
	}, v)
}

func TestAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 8; i++ {
		b.WriteString(strings.Replace("aN: &aN [", "N", string(rune('0'+i)), 2))
		for j := 0; j < 10; j++ {
			b.WriteString("*a" + string(rune('0'+i-1)) + ", ")
		}
		b.WriteString("]\n")
	}
	_, v, diags := parse(t, b.String())
	assert.Nil(t, v)
	require.Len(t, diags, 1)
	assert.Contains(t, diags[0].Message, "expands to more than 200000 nodes through aliases")
}

// A string alias bomb: few nodes, but each alias of a long string is a
// copy of its text once the value is used (rendered into a prompt, sent to
// a model). The expansion is bounded in bytes, not only in nodes.
func TestStringAliasBombIsRefused(t *testing.T) {
	big := "big: &s " + strings.Repeat("x", 100_000) + "\n"
	_, v, diags := parse(t, big+"copies: ["+strings.Repeat("*s, ", 20_000)+"]\n")
	assert.True(t, v == nil, "no value") // not assert.Nil: it would print 2 GB
	require.Len(t, diags, 1)
	assert.Equal(t, "f.yaml:2:9: error: the document expands to more than 4194304 bytes of text through aliases (each use of an alias copies its anchor's text); use fewer aliases of long values", diags[0].String())

	// Up to the limit, aliases of text are fine.
	_, v, diags = parse(t, big+"copies: ["+strings.Repeat("*s, ", 10)+"]\n")
	require.Empty(t, diags)
	assert.Len(t, v.(map[string]any)["copies"], 10)
}

func TestDeepNestingIsRefused(t *testing.T) {
	_, _, diags := parse(t, "x: "+strings.Repeat("[", MaxDepth+2)+strings.Repeat("]", MaxDepth+2))
	require.Len(t, diags, 1)
	assert.Contains(t, diags[0].Message, "nesting is deeper than 64 levels")
}

func TestSyntaxErrorHasLine(t *testing.T) {
	_, _, diags := parse(t, "a: 1\nb: [1, 2\n")
	require.Len(t, diags, 1)
	assert.Equal(t, "f.yaml", diags[0].File)
	assert.Positive(t, diags[0].Line)
	assert.Contains(t, diags[0].Message, "invalid YAML")
}

func TestEmptyDocument(t *testing.T) {
	var diags diag.List
	root, ok := Parse("f.yaml", []byte("# only a comment\n"), &diags)
	assert.True(t, ok)
	assert.Nil(t, root)
	assert.Empty(t, diags)
}

func TestMappingReportsDuplicatesAndShapes(t *testing.T) {
	var diags diag.List
	root, ok := Parse("f.yaml", []byte("a: 1\nb: 2\na: 3\n"), &diags)
	require.True(t, ok)
	r := &Reader{File: "f.yaml", Diags: &diags}
	entries := r.Mapping(root, "the section")
	assert.Len(t, entries, 2)
	require.Len(t, diags, 1)
	assert.Equal(t, `f.yaml:3:1: error: "a" appears twice in the section (first at line 1); keys must be unique`, diags[0].String())

	diags = nil
	r.Mapping(root.Content[1], "the value of a")
	assert.Equal(t, "f.yaml:1:4: error: the value of a must be a mapping of names to values, got a number", diags[0].String())
}

func TestScalarReaders(t *testing.T) {
	var diags diag.List
	root, _ := Parse("f.yaml", []byte("s: text\nn: 12\nf: 1.5\nb: true\nz: ~\n"), &diags)
	r := &Reader{File: "f.yaml", Diags: &diags}
	e := r.Mapping(root, "doc")
	s, ok := r.Name(e[0].Value, "s")
	assert.True(t, ok)
	assert.Equal(t, "text", s)
	n, ok := r.Int(e[1].Value, "n")
	assert.True(t, ok)
	assert.Equal(t, int64(12), n)
	f, ok := r.Float(e[2].Value, "f")
	assert.True(t, ok)
	assert.Equal(t, 1.5, f)
	b, ok := r.Bool(e[3].Value, "b")
	assert.True(t, ok)
	assert.True(t, b)
	_, ok = r.Name(e[1].Value, "name")
	assert.False(t, ok)
	_, ok = r.Text(e[4].Value, "description")
	assert.False(t, ok)
	text, ok := r.Text(e[1].Value, "description")
	assert.True(t, ok, "a number is fine as free text")
	assert.Equal(t, "12", text)
	assert.Equal(t, []string{
		"f.yaml:2:4: error: name must be a string, got a number",
		"f.yaml:5:4: error: description must be text, got nothing (null)",
	}, strings.Split(diags.Error(), "\n"))
}

func TestCheckKeysSuggests(t *testing.T) {
	var diags diag.List
	root, _ := Parse("f.yaml", []byte("modle: x\nzzz: y\n"), &diags)
	r := &Reader{File: "f.yaml", Diags: &diags}
	r.CheckKeys(r.Mapping(root, "doc"), []string{"model", "system"}, "the block")
	assert.Equal(t, "f.yaml:1:1: error: unknown key \"modle\" in the block (did you mean \"model\"?)\n"+
		"f.yaml:2:1: error: unknown key \"zzz\" in the block", diags.Error())
}

func TestValueKinds(t *testing.T) {
	_, v, diags := parse(t, "date: 2024-01-31\nbig: 123456789012345678901234567890\nf: 1.5\nn: ~\nb: false\nq: \"007\"\n")
	require.Empty(t, diags)
	assert.Equal(t, map[string]any{
		"date": "2024-01-31", "big": 1.2345678901234568e+29, "f": 1.5, "n": nil, "b": false, "q": "007",
	}, v)
	_, _, diags = parse(t, "x: !!binary aGVsbG8=\n")
	require.Len(t, diags, 1)
	assert.Equal(t, "f.yaml:1:4: error: values tagged !!binary are not supported; write plain JSON-like values", diags[0].String())
}
