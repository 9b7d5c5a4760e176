// Package llm is octrun's provider-neutral view of a language model: a
// streamed generation with tools, reasoning, structured output and usage.
// It knows nothing about protocols. It holds the OpenAI-compatible client
// (go-openai), routing of provider/model ids to endpoints, a scripted
// client for tests and offline runs, and a fake OpenAI server for tests.
package llm

import "context"

// Role is the author of a message.
type Role string

// Roles of a conversation.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one message sent to the model.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content,omitempty"`
	// ToolCalls are the calls an assistant message asked for.
	ToolCalls []ToolCall `json:"toolCalls,omitempty"`
	// ToolCallID ties a tool message to the call it answers.
	ToolCallID string `json:"toolCallId,omitempty"`
	// Files are the files attached to a user message, after its text.
	Files []File `json:"files,omitempty"`
}

// File is a file attached to a message: its URL (data: or http(s)), media
// type and name. The OpenAI-compatible client sends images as image parts,
// WAV and MP3 audio as input_audio parts and other files as file parts; it
// refuses video and other audio (CheckFiles).
type File struct {
	URL       string `json:"url"`
	MediaType string `json:"mediaType"`
	Filename  string `json:"filename,omitempty"`
}

// ToolCall is one call of a tool by the model.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Arguments is the JSON text of the arguments as the model wrote it.
	Arguments string `json:"arguments"`
}

// Tool is a tool offered to the model.
type Tool struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Parameters is the JSON Schema of the arguments object.
	Parameters map[string]any `json:"parameters"`
}

// ResponseFormat asks for structured output matching a JSON Schema.
type ResponseFormat struct {
	Name   string         `json:"name"`
	Schema map[string]any `json:"schema"`
	Strict bool           `json:"strict,omitempty"`
}

// Request is one generation.
type Request struct {
	// Model is the model id as the protocol writes it: provider/model-id.
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`
	Tools    []Tool    `json:"tools,omitempty"`
	// Temperature is nil when the provider's default applies.
	Temperature *float64 `json:"temperature,omitempty"`
	// Thinking is "", low, medium, high, max or off.
	Thinking string `json:"thinking,omitempty"`
	// MaxOutputTokens caps the generation; 0 means the provider default.
	MaxOutputTokens int             `json:"maxOutputTokens,omitempty"`
	ResponseFormat  *ResponseFormat `json:"responseFormat,omitempty"`
	// MaxImageDimension, when above 0, scales attached images down so
	// that neither side exceeds it (the aspect ratio kept).
	MaxImageDimension int `json:"maxImageDimension,omitempty"`
}

// DeltaKind tells what a Delta carries.
type DeltaKind int

// Kinds of streamed fragments.
const (
	// TextDelta is a fragment of the answer's text.
	TextDelta DeltaKind = iota
	// ReasoningDelta is a fragment of the model's reasoning.
	ReasoningDelta
	// ToolCallStart opens tool call number ToolIndex with its id and name.
	ToolCallStart
	// ToolCallArgs is a fragment (Text) of the JSON arguments of call
	// ToolIndex; ToolID and ToolName repeat those of its start.
	ToolCallArgs
)

// Delta is one streamed fragment of a generation.
type Delta struct {
	Kind DeltaKind
	// Text is the fragment of text, reasoning or tool arguments.
	Text string
	// ToolIndex numbers the tool calls of a generation from 0 in the order
	// they start: it is the call's position in Response.ToolCalls.
	ToolIndex int
	ToolID    string
	ToolName  string
}

// Usage counts the tokens of a generation.
type Usage struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
	TotalTokens  int `json:"totalTokens"`
}

// Add returns the sum of two usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{u.InputTokens + o.InputTokens, u.OutputTokens + o.OutputTokens, u.TotalTokens + o.TotalTokens}
}

// Response is a finished generation.
type Response struct {
	Text      string `json:"text"`
	Reasoning string `json:"reasoning,omitempty"`
	// ToolCalls are the calls asked for, assembled from their fragments,
	// in the order they started (Delta.ToolIndex).
	ToolCalls []ToolCall `json:"toolCalls,omitempty"`
	// FinishReason is stop, tool-calls, length, content-filter or other.
	FinishReason string `json:"finishReason"`
	Usage        Usage  `json:"usage"`
}

// Client generates model responses. Generate streams every fragment to
// onDelta as it arrives (an error from onDelta aborts the generation and is
// returned; onDelta may be nil) and returns the assembled response. A
// provider failure is an *Error; a cancelled ctx gives ctx's error.
// Generate reads req and never changes what its slices, maps and pointers
// hold: they are shared with the caller, which keeps a thread's messages
// and records the request rather than copying them for every call.
type Client interface {
	Generate(ctx context.Context, req Request, onDelta func(Delta) error) (*Response, error)
}
