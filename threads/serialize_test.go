package threads

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// golden is a case of testdata/serialize: a thread and its expected
// serializations. A section's text ends with a newline the output does not
// have, except when empty.
type golden struct {
	thread         *Thread
	markdown, json string
}

func readGolden(t testing.TB, path string) golden {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	require.NoError(t, err)
	sections := map[string]string{}
	for _, f := range ar.Files {
		sections[f.Name] = strings.TrimSuffix(string(f.Data), "\n")
	}
	require.Len(t, sections, 3, "want thread.json, markdown and json sections")
	dec := json.NewDecoder(strings.NewReader(sections["thread.json"]))
	dec.DisallowUnknownFields()
	g := golden{thread: new(Thread), markdown: sections["markdown"], json: sections["json"]}
	require.NoError(t, dec.Decode(g.thread))
	return g
}

func TestSerializeGolden(t *testing.T) { // rule D5
	paths, err := filepath.Glob("testdata/serialize/*.txtar")
	require.NoError(t, err)
	require.Len(t, paths, 8)
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			g := readGolden(t, path)
			for format, want := range map[string]string{"": g.markdown, "markdown": g.markdown, "json": g.json} {
				got, err := Serialize(g.thread, format)
				require.NoError(t, err)
				assert.Equal(t, want, got, "format %q", format)
			}
			var decoded []map[string]any
			require.NoError(t, json.Unmarshal([]byte(g.json), &decoded), "json format is JSON")
		})
	}
}

// TestSerializeAfterRoundTrip checks that the output depends on the values
// of the thread only, not on how its JSON values were spelled: a round trip
// through encoding/json respells them (compact, HTML escaped).
func TestSerializeAfterRoundTrip(t *testing.T) {
	th := &Thread{Name: "main", Messages: []Message{{
		ID: "m1", Role: RoleAssistant, Visible: true,
		Parts: []Part{{Type: PartToolCall, ToolCall: &ToolCall{
			ID: "call_1", Name: "fetch",
			Arguments: json.RawMessage(`{ "url" : "https://a.example/?q=1&r=<2>", "n": 1.50 }`),
			Result:    json.RawMessage("\"<p>caf\\u00e9</p>\"\n"),
			Status:    ToolAvailable,
		}}},
	}}}
	b, err := json.Marshal(th)
	require.NoError(t, err)
	var back Thread
	require.NoError(t, json.Unmarshal(b, &back))
	require.NotEqual(t, th.Messages[0].Parts[0].ToolCall.Arguments, back.Messages[0].Parts[0].ToolCall.Arguments, "respelled")

	for _, format := range []string{FormatMarkdown, FormatJSON} {
		want, err := Serialize(th, format)
		require.NoError(t, err)
		got, err := Serialize(&back, format)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Contains(t, got, `{"n":1.50,"url":"https://a.example/?q=1&r=<2>"}`)
		assert.Contains(t, got, `"<p>café</p>"`)
	}
}

func TestSerializeNoMessages(t *testing.T) {
	for format, want := range map[string]string{"markdown": "", "json": "[]"} {
		got, err := Serialize(&Thread{Name: "main", System: "Be brief."}, format)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

func TestSerializeUnknownFormat(t *testing.T) {
	_, err := Serialize(&Thread{}, "xml")
	require.Error(t, err)
	for _, s := range []string{`"xml"`, `"markdown"`, `"json"`} {
		assert.Contains(t, err.Error(), s)
	}
}

func TestSerializeBadThread(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"unknown role", Message{ID: "m1", Role: "tool"}, `message "m1": unknown role "tool"`},
		{"empty tool-call part", Message{ID: "m1", Role: RoleAssistant, Parts: []Part{{Type: PartText}, {Type: PartToolCall}}},
			`message "m1": part 1: tool-call part is empty`},
		{"empty object part", Message{ID: "m1", Role: RoleAssistant, Parts: []Part{{Type: PartObject}}},
			`part 0: object part is empty`},
		{"empty file part", Message{ID: "m1", Role: RoleUser, Parts: []Part{{Type: PartFile}}},
			`part 0: file part is empty`},
		{"invalid arguments", Message{ID: "m1", Role: RoleAssistant, Parts: []Part{{Type: PartToolCall,
			ToolCall: &ToolCall{ID: "call_1", Arguments: json.RawMessage(`{"a":`)}}}},
			`tool call "call_1": invalid JSON value`},
		{"trailing data in result", Message{ID: "m1", Role: RoleAssistant, Parts: []Part{{Type: PartToolCall,
			ToolCall: &ToolCall{ID: "call_1", Result: json.RawMessage(`1 2`)}}}},
			`tool call "call_1": invalid JSON value`},
		{"invalid object", Message{ID: "m1", Role: RoleAssistant, Parts: []Part{{Type: PartObject,
			Object: &Object{TypeName: "Tide", Value: json.RawMessage(`nope`)}}}},
			`object "Tide": invalid JSON value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, format := range []string{FormatMarkdown, FormatJSON} {
				_, err := Serialize(&Thread{Name: "main", Messages: []Message{tt.msg}}, format)
				require.Error(t, err)
				assert.Contains(t, err.Error(), `thread "main"`)
				assert.Contains(t, err.Error(), tt.want)
			}
		})
	}
}

// TestDocExample keeps the example of the package documentation equal to
// the tool-result golden case.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	g := readGolden(t, "testdata/serialize/tool-result.txtar")
	indented := func(s string) []byte {
		var b bytes.Buffer
		for l := range strings.Lines(s) {
			b.WriteString("//\t")
			b.WriteString(strings.TrimSuffix(l, "\n"))
			b.WriteString("\n")
		}
		return bytes.ReplaceAll(b.Bytes(), []byte("//\t\n"), []byte("//\n"))
	}
	assert.Contains(t, string(doc), string(indented(g.markdown)))
	assert.Contains(t, string(doc), string(indented(g.json)))
}
