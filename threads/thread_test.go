package threads

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullThread uses every type, field and part type, with JSON values held as
// json.Marshal writes them.
func fullThread() *Thread {
	return &Thread{
		Name:   "research",
		System: "You are a careful researcher.\nCite sources.",
		Messages: []Message{
			{ID: "m1", Role: RoleSystem, Visible: false, Parts: []Part{{Type: PartText, Text: "Be brief."}}},
			{ID: "m2", Role: RoleUser, Visible: true, Parts: []Part{
				{Type: PartText, Text: "Compare these, café ✓"},
				{Type: PartFile, File: &FileReference{ID: "f1", MediaType: "application/pdf", URL: "https://files.example/f1", Filename: "a.pdf", Size: 1 << 40}},
				{Type: PartFile, File: &FileReference{ID: "f2", MediaType: "image/png", URL: "data:image/png;base64,iVBORw0KGgo="}},
			}},
			{ID: "m3", Role: RoleAssistant, Visible: true, Parts: []Part{
				{Type: PartStepStart},
				{Type: PartReasoning, Text: "Two lookups."},
				{Type: PartText, Text: ""},
				{Type: PartToolCall, ToolCall: &ToolCall{
					ID: "call_1", Name: "lookup",
					Arguments: json.RawMessage(`{"zeta":9223372036854775807,"alpha":-9223372036854775808,"big":9007199254740993,"f":0.1,"tiny":1e-7,"huge":1.5e300,"exact":1.10,"list":[1,"two",null,true,{"n":[]}]}`),
					Result:    json.RawMessage(`{"rows":[{"id":18446744073709551615,"score":3.141592653589793238}]}`),
					Status:    ToolAvailable,
				}},
				{Type: PartToolCall, ToolCall: &ToolCall{ID: "call_2", Name: "lookup", Arguments: json.RawMessage(`"just a string"`), Result: json.RawMessage(`null`), Status: ToolAvailable}},
				{Type: PartToolCall, ToolCall: &ToolCall{ID: "call_3", Name: "fail", Arguments: json.RawMessage(`{}`), Error: "boom", Status: ToolError}},
				{Type: PartToolCall, ToolCall: &ToolCall{ID: "call_4", Name: "ask-user", Arguments: json.RawMessage(`[]`), Status: ToolPending}},
				{Type: PartStepStart},
				{Type: PartObject, Object: &Object{TypeName: "Summary", Value: json.RawMessage(`{"title":"T","count":42,"ratio":0.25}`)}},
				{Type: PartText, Text: "Done."},
			}},
			{ID: "m4", Role: RoleUser, Visible: true, Parts: []Part{}},
			{ID: "m5", Role: RoleAssistant, Visible: true},
		},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for name, th := range map[string]*Thread{"full": fullThread(), "zero": {}, "no messages": {Name: "main", Messages: []Message{}}} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(th)
			require.NoError(t, err)
			var back Thread
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, th, &back)

			again, err := json.Marshal(&back)
			require.NoError(t, err)
			assert.Equal(t, string(b), string(again))
		})
	}
}

// TestJSONNumbersSurvive reads stored arguments after a round trip the way
// a consumer would, with UseNumber: every digit is there.
func TestJSONNumbersSurvive(t *testing.T) {
	b, err := json.Marshal(fullThread())
	require.NoError(t, err)
	var back Thread
	require.NoError(t, json.Unmarshal(b, &back))

	dec := json.NewDecoder(bytes.NewReader(back.Messages[2].Parts[3].ToolCall.Arguments))
	dec.UseNumber()
	var args map[string]any
	require.NoError(t, dec.Decode(&args))
	delete(args, "list")
	assert.Equal(t, map[string]any{
		"zeta": json.Number("9223372036854775807"), "alpha": json.Number("-9223372036854775808"),
		"big": json.Number("9007199254740993"), "f": json.Number("0.1"), "tiny": json.Number("1e-7"),
		"huge": json.Number("1.5e300"), "exact": json.Number("1.10"),
	}, args)
	n, err := args["zeta"].(json.Number).Int64()
	require.NoError(t, err)
	assert.Equal(t, int64(9223372036854775807), n)
}

func TestAppend(t *testing.T) {
	th := &Thread{Name: "main"}
	th.Append(Message{ID: "m1", Role: RoleUser})
	th.Append(Message{ID: "m2", Role: RoleAssistant})
	require.Len(t, th.Messages, 2)
	assert.Equal(t, "m1", th.Messages[0].ID)
	assert.Equal(t, "m2", th.Messages[1].ID)
}

func TestText(t *testing.T) {
	tests := []struct {
		name       string
		parts      []Part
		text, last string
	}{
		{"no parts", nil, "", ""},
		{"one text, no step-start", []Part{{Type: PartText, Text: "Hi."}}, "Hi.", "Hi."},
		{"reasoning and objects are not text", []Part{
			{Type: PartReasoning, Text: "hmm"}, {Type: PartText, Text: "A"},
			{Type: PartObject, Object: &Object{TypeName: "T", Value: json.RawMessage(`1`)}},
		}, "A", "A"},
		{"multi-step: final step only", []Part{
			{Type: PartStepStart}, {Type: PartText, Text: "Let me check."}, {Type: PartToolCall, ToolCall: &ToolCall{ID: "c1"}},
			{Type: PartStepStart}, {Type: PartReasoning, Text: "ok"}, {Type: PartText, Text: "It is 4.2 m."},
		}, "Let me check.\n\nIt is 4.2 m.", "It is 4.2 m."},
		{"final step without text", []Part{
			{Type: PartStepStart}, {Type: PartText, Text: "Calling."}, {Type: PartToolCall, ToolCall: &ToolCall{ID: "c1"}},
			{Type: PartStepStart}, {Type: PartToolCall, ToolCall: &ToolCall{ID: "c2"}},
		}, "Calling.", ""},
		{"two texts in the final step", []Part{
			{Type: PartStepStart}, {Type: PartText, Text: "One."}, {Type: PartStepStart},
			{Type: PartText, Text: "Two."}, {Type: PartReasoning, Text: "and"}, {Type: PartText, Text: "Three."},
		}, "One.\n\nTwo.\n\nThree.", "Two.\n\nThree."},
		{"empty texts are skipped", []Part{
			{Type: PartText, Text: ""}, {Type: PartText, Text: "A"}, {Type: PartText, Text: ""}, {Type: PartText, Text: "B"},
		}, "A\n\nB", "A\n\nB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Message{Role: RoleAssistant, Parts: tt.parts}
			assert.Equal(t, tt.text, m.Text())
			assert.Equal(t, tt.last, m.FinalStepText()) // rule D7
		})
	}
}
