package threads

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkAppend appends 1,000 messages to an empty thread.
func BenchmarkAppend(b *testing.B) {
	msgs := make([]Message, 1000)
	for i := range msgs {
		msgs[i] = Message{ID: fmt.Sprint("m", i), Role: RoleUser, Visible: true, Parts: []Part{{Type: PartText, Text: "Hello."}}}
	}
	b.ReportAllocs()
	for b.Loop() {
		var th Thread
		for _, m := range msgs {
			th.Append(m)
		}
	}
}

// BenchmarkSerialize serializes a 200-message thread: 100 user questions,
// each answered in two steps with a tool call between them.
func BenchmarkSerialize(b *testing.B) {
	th := &Thread{Name: "main", System: "You are a tide assistant."}
	for i := range 100 {
		th.Append(Message{ID: fmt.Sprint("u", i), Role: RoleUser, Visible: true, Parts: []Part{{Type: PartText, Text: "What is the tide in Brest today, and how high will it be?"}}})
		th.Append(Message{ID: fmt.Sprint("a", i), Role: RoleAssistant, Visible: true, Parts: []Part{
			{Type: PartStepStart},
			{Type: PartText, Text: "Let me check the **tide tables**."},
			{Type: PartToolCall, ToolCall: &ToolCall{
				ID: fmt.Sprint("call_", i), Name: "get-tide", Status: ToolAvailable,
				Arguments: json.RawMessage(`{"place":"Brest","date":"2025-03-20"}`),
				Result:    json.RawMessage(`{"high":[{"time":"06:12","height":7.1},{"time":"18:31","height":6.9}],"low":[{"time":"12:20","height":1.2}]}`),
			}},
			{Type: PartStepStart},
			{Type: PartText, Text: "High tide is at 06:12 (7.1 m) and 18:31 (6.9 m); low tide at 12:20 (1.2 m)."},
		}})
	}
	for _, format := range []string{FormatMarkdown, FormatJSON} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Serialize(th, format); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
