package threads

import (
	"encoding/json"
	"strings"
)

// Role is the author of a message.
type Role string

// Roles of a message (add-message's role, next-message's answer).
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleSystem    Role = "system"
)

// PartType says which field of a [Part] carries its content.
type PartType string

// Kinds of message parts.
const (
	// PartText is answer or prompt text, in Part.Text.
	PartText PartType = "text"
	// PartReasoning is the model's reasoning, in Part.Text.
	PartReasoning PartType = "reasoning"
	// PartToolCall is a tool call with its result, in Part.ToolCall.
	PartToolCall PartType = "tool-call"
	// PartStepStart marks where a step of the tool loop begins; it has no
	// content.
	PartStepStart PartType = "step-start"
	// PartObject is structured output, in Part.Object.
	PartObject PartType = "object"
	// PartFile is an attached file, in Part.File.
	PartFile PartType = "file"
)

// ToolStatus is the state of a tool call (rule §7.9).
type ToolStatus string

// States of a tool call.
const (
	// ToolPending: the call is known but has no outcome yet, for example a
	// client tool the run paused for.
	ToolPending ToolStatus = "pending"
	// ToolStreaming: the model is still writing the arguments.
	ToolStreaming ToolStatus = "streaming"
	// ToolAvailable: the result is in ToolCall.Result.
	ToolAvailable ToolStatus = "available"
	// ToolError: the call failed with ToolCall.Error.
	ToolError ToolStatus = "error"
)

// Thread is a named conversation with a model: the rendered system prompt
// and the messages so far. The thread's configuration (model, tools,
// maxSteps...) belongs to the runtime, not here.
type Thread struct {
	// Name is the thread's name; "main" unless start-thread chose another.
	Name string `json:"name"`
	// System is the rendered system prompt.
	System string `json:"system"`
	// Messages are the messages in the order they were added.
	Messages []Message `json:"messages"`
}

// Append adds m at the end of the thread.
func (t *Thread) Append(m Message) {
	t.Messages = append(t.Messages, m)
}

// Message is one message of a thread. A next-message turn is one assistant
// message, however many steps its tool loop took.
type Message struct {
	ID   string `json:"id"`
	Role Role   `json:"role"`
	// Parts are the contents in order.
	Parts []Part `json:"parts"`
	// Visible is false for a message sent to the model but hidden from the
	// UI (add-message visible: false).
	Visible bool `json:"visible"`
}

// Text returns the message's text parts, joined by a blank line; empty
// ones are skipped. Reasoning, tool calls, objects and files are not text.
func (m Message) Text() string {
	return joinText(m.Parts)
}

// FinalStepText returns the text of the message's last step: the text parts
// after the last step-start part, joined as by [Message.Text], or all of
// them when there is no step-start. It is next-message's output (rule D7).
func (m Message) FinalStepText() string {
	last := 0
	for i, p := range m.Parts {
		if p.Type == PartStepStart {
			last = i
		}
	}
	return joinText(m.Parts[last:])
}

func joinText(parts []Part) string {
	var texts []string
	for _, p := range parts {
		if p.Type == PartText && p.Text != "" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n\n")
}

// Part is one piece of a message. Type says which field is set: Text for
// text and reasoning, ToolCall, Object or File; a step-start has none.
type Part struct {
	Type     PartType       `json:"type"`
	Text     string         `json:"text,omitempty"`
	ToolCall *ToolCall      `json:"toolCall,omitempty"`
	Object   *Object        `json:"object,omitempty"`
	File     *FileReference `json:"file,omitempty"`
}

// ToolCall is a call of a tool by the model, with its outcome stored on it
// once known.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Arguments is the JSON value the model passed.
	Arguments json.RawMessage `json:"arguments,omitempty"`
	// Result is the JSON value the tool returned; nil until then.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the failure message of a failed call.
	Error  string     `json:"error,omitempty"`
	Status ToolStatus `json:"status"`
}

// Object is a structured output: a value of a protocol type.
type Object struct {
	// TypeName is the protocol type, the responseType of next-message.
	TypeName string `json:"typeName"`
	// Value is the JSON value.
	Value json.RawMessage `json:"value,omitempty"`
}

// FileReference points to a file attached to a message.
type FileReference struct {
	ID        string `json:"id"`
	MediaType string `json:"mediaType"`
	URL       string `json:"url"`
	// Filename is the file's name, when known.
	Filename string `json:"filename,omitempty"`
	// Size is the size in bytes, when known.
	Size int64 `json:"size,omitempty"`
}
