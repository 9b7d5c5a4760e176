package yamlx

import (
	"fmt"
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

// Every kind of error the YAML library reports when it reads a document
// is placed at the problem itself, line and column: where the library
// found what it could not read, not where the construct it was reading
// began (the message names that place), and not one line early. A problem
// at the end of the file is placed just after its last text. The library's
// other messages cannot come from reading text into nodes: "did not find
// expected <stream-start>", "input error" (a failing io.Reader), the
// decoding errors of typed values, and its internal errors.
func TestSyntaxErrorPositions(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		// The reader: text that is not UTF-8 (or UTF-16), control characters.
		{"a: 1\n\xff", "2:1: invalid leading UTF-8 octet (value: 255)"},
		{"a: \xc3(", "1:5: invalid trailing UTF-8 octet (value: 40)"},
		{"a: \xe2\x82", "1:4: incomplete UTF-8 octet sequence"},
		{"a: \xc0\x80", "1:4: invalid length of a UTF-8 sequence"},
		{"a: \xed\xa0\x80", "1:4: invalid Unicode character (value: 55296)"},
		{"a: é\nb: \xf4\x90\x80\x80", "2:4: invalid Unicode character (value: 1114112)"},
		{"a: 1\nb: \x01", "2:4: control characters are not allowed (value: 1)"},
		{"\xef\xbb\xbfa: \xff", "1:4: invalid leading UTF-8 octet (value: 255)"}, // columns do not count a byte order mark, as the library's do not
		{"\xff\xfea\x00:", "1:2: incomplete UTF-16 character"},
		{"\xfe\xff\x00a\x00:\x00 \xd8\x00", "1:4: incomplete UTF-16 surrogate pair"},
		{"\xff\xfea\x00:\x00 \x00\x00\xdc", "1:4: unexpected low surrogate area (value: 56320)"},
		{"\xff\xfe\x00\xd8A\x00", "1:2: expected low surrogate area (value: 65)"},
		// The scanner: tokens.
		{"a: 1\nb: `x", "2:4: found character that cannot start any token"},
		{"a:\n\t- b", "2:1: found character that cannot start any token; YAML indents with spaces: replace the tab"},
		{"a: b\n\tc: d", "2:1: found a tab character that violates indentation (while scanning a plain scalar that starts at line 1, column 4); YAML indents with spaces: replace the tab"},
		{"a: |\n\tx", "2:1: found a tab character where an indentation space is expected (while scanning a block scalar that starts at line 1, column 4); YAML indents with spaces: replace the tab"},
		{"\xef\xbb\xbfa: b: c", `1:5: mapping values are not allowed in this context; quote a text that holds ": ", or indent this line like the keys beside it`},
		{"a: b: c", `1:5: mapping values are not allowed in this context; quote a text that holds ": ", or indent this line like the keys beside it`},
		{"a: - b", "1:4: block sequence entries are not allowed in this context"},
		{"a: ? b", "1:4: mapping keys are not allowed in this context"},
		{"? a\n? b\nc", "3:2: could not find expected ':' (while scanning a simple key that starts at line 3, column 1)"},
		{"a: \"abc", "1:8: found unexpected end of stream (while scanning a quoted scalar that starts at line 1, column 4); close the quoted text with the quote it opens with"},
		{"a: 'it''s\n\n", "1:10: found unexpected end of stream (while scanning a quoted scalar that starts at line 1, column 4); close the quoted text with the quote it opens with"},
		{"a: 'x\n---\n'", "2:1: found unexpected document indicator (while scanning a quoted scalar that starts at line 1, column 4)"},
		{`a: "\q"`, "1:5: found unknown escape character (while scanning a quoted scalar that starts at line 1, column 4)"},
		{`a: "\xZZ"`, "1:7: did not find expected hexadecimal number (while scanning a quoted scalar that starts at line 1, column 4)"},
		{`a: "\UFFFFFFFF"`, "1:7: found invalid Unicode character escape code (while scanning a quoted scalar that starts at line 1, column 4)"},
		{"a: |0", "1:5: found an indentation indicator equal to 0 (while scanning a block scalar that starts at line 1, column 4)"},
		{"a: | x", "1:6: did not find expected comment or line break (while scanning a block scalar that starts at line 1, column 4)"},
		{"a: &", "1:5: did not find expected alphabetic or numeric character (while scanning an anchor that starts at line 1, column 4)"},
		{"a: *", "1:5: did not find expected alphabetic or numeric character (while scanning an alias that starts at line 1, column 4)"},
		{"a: !<>", "1:6: did not find expected tag URI (while parsing a tag that starts at line 1, column 4)"},
		{"a: !<abc", "1:9: did not find the expected '>' (while scanning a tag that starts at line 1, column 4)"},
		{"a: !<%zz>", "1:6: did not find URI escaped octet (while parsing a tag that starts at line 1, column 4)"},
		{"a: !a<b c", "1:6: found character '<' that is not allowed in a YAML tag (while parsing a tag that starts at line 1, column 4)"},
		{"--- a\n... x", "2:5: found unexpected content after document-end marker (while scanning a document-end marker that starts at line 2, column 1)"},
		{strings.Repeat("[", 10_001), "1:10001: exceeded max depth of 10000"},
		// The scanner: directives.
		{"%FOO\n---\na", "1:5: found unknown directive name (while scanning a directive that starts at line 1, column 1)"},
		{"% x\n---\na", "1:2: could not find expected directive name (while scanning a directive that starts at line 1, column 1)"},
		{"%YAML 1.1 x\n---\na", "1:11: did not find expected comment or line break (while scanning a directive that starts at line 1, column 1)"},
		{"%YAML x\n---\na", "1:7: did not find expected version number (while scanning a %YAML directive that starts at line 1, column 1)"},
		{"%YAML 1x\n---\na", "1:8: did not find expected digit or '.' character (while scanning a %YAML directive that starts at line 1, column 1)"},
		{"%YAML 1.11111111111111\n---\na", "1:11: found extremely long version number (while scanning a %YAML directive that starts at line 1, column 1)"},
		{"%TAG x\n---\na", "1:6: did not find expected '!' (while parsing a %TAG directive that starts at line 1, column 1)"},
		{"%TAG !x!y z\n---\na", "1:9: did not find expected whitespace (while scanning a %TAG directive that starts at line 1, column 1)"},
		{"%TAG !x! \n---\na", "1:10: did not find expected tag URI (while parsing a %TAG directive that starts at line 1, column 1)"},
		// The parser: structure.
		{"a:\n  b: 1\n c: 2", "3:2: did not find expected key (while parsing a block mapping that starts at line 1, column 1); indent this line like the keys beside it, and write nothing after a closing quote or bracket"},
		{"a: {b: c}}", "1:10: did not find expected key (while parsing a block mapping that starts at line 1, column 1); indent this line like the keys beside it, and write nothing after a closing quote or bracket"},
		{"- a\n- b\nc: d", "3:1: did not find expected '-' indicator (while parsing a block collection that starts at line 1, column 1)"},
		{"a: ]", "1:4: did not find expected node content"},
		{"x: [a, b\n", "1:9: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 1, column 4); close the list with ] and separate its items with commas"},
		{"x: [a,\n  b\ny: 1\n", "3:2: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 1, column 4); close the list with ] and separate its items with commas"},
		{"x: {a: b c: d", "1:11: did not find expected ',' or '}' (while parsing a flow mapping that starts at line 1, column 4); close the mapping with } and separate its entries with commas"},
		{"a: !x!y z", "1:4: found undefined tag handle"},
		{"%YAML 2.0\n---\na", "1:1: found incompatible YAML document"},
		{"%YAML 1.1\n%YAML 1.1\n---\na", "2:1: found duplicate %YAML directive"},
		{"%TAG !x! y\n%TAG !x! z\n---\na", "2:1: found duplicate %TAG directive"},
		{"key: value\n%YAML 1.2\n---\nb", "2:1: did not find expected <document end> before directive"},
		// The composer.
		{"a: 1\nb: *nope\n", "2:4: unknown anchor 'nope' referenced"},
	} {
		_, _, diags := parse(t, tc.src)
		require.Len(t, diags, 1, "%q", tc.src)
		d := diags[0]
		assert.Equal(t, "f.yaml:"+tc.want, fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, strings.TrimPrefix(d.Message, "invalid YAML: ")), "%q", tc.src)
		assert.True(t, strings.HasPrefix(d.Message, "invalid YAML: "), "%q", tc.src)
	}
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

// A file is one YAML document: a "---" line that starts a second one is an
// error at that line (the document after it would be ignored), while a
// "---" that opens the only document, or a "..." that ends it, is fine.
func TestSecondDocumentIsAnError(t *testing.T) {
	var diags diag.List
	root, ok := Parse("f.yaml", []byte("a: 1\n\n--- # more\nb: 2\n"), &diags)
	require.Len(t, diags, 1)
	assert.Equal(t, diag.Pos{File: "f.yaml", Line: 3, Col: 1}, diags[0].Pos)
	assert.Equal(t, `"---" starts a second YAML document, which would be ignored: a file holds one document; remove this line (and the "..." before it, if any)`, diags[0].Message)
	assert.True(t, ok, "the first document is still read, for its own diagnostics")
	require.NotNil(t, root)

	diags = nil
	_, _ = Parse("f.yaml", []byte("a: 1\n---\nnull\n"), &diags)
	require.Len(t, diags, 1, "a second document that says null says something")
	assert.Equal(t, 2, diags[0].Line)

	diags = nil
	_, ok = Parse("f.yaml", []byte("a: 1\n---\nb: [\n"), &diags)
	require.Len(t, diags, 1)
	assert.Contains(t, diags[0].Message, "invalid YAML")
	assert.False(t, ok)

	// A trailing "---", with nothing or comments after it, ignores nothing.
	for _, src := range []string{"---\na: 1\n", "a: 1\n...\n", "--- \na: 1\n...\n# end\n", "", "a: 1\n---\n", "a: 1\n--- # end\n# more\n"} {
		diags = nil
		_, ok := Parse("f.yaml", []byte(src), &diags)
		assert.True(t, ok, src)
		assert.Empty(t, diags, src)
	}
}
