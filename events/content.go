package events

import "encoding/json"

// TextStart opens a text part; its deltas and end share its ID.
type TextStart struct {
	ID string `json:"id"`
	// ResponseType names the protocol type when the text is structured JSON.
	ResponseType string `json:"responseType,omitempty"`
	WorkerID     string `json:"workerId,omitempty"`
}

// TextDelta is a fragment of a text part.
type TextDelta struct {
	ID       string `json:"id"`
	Delta    string `json:"delta"`
	WorkerID string `json:"workerId,omitempty"`
}

// TextEnd closes a text part.
type TextEnd struct {
	ID       string `json:"id"`
	WorkerID string `json:"workerId,omitempty"`
}

// ReasoningStart opens a reasoning part; its deltas and end share its ID.
type ReasoningStart struct {
	ID       string `json:"id"`
	WorkerID string `json:"workerId,omitempty"`
}

// ReasoningDelta is a fragment of a reasoning part.
type ReasoningDelta struct {
	ID       string `json:"id"`
	Delta    string `json:"delta"`
	WorkerID string `json:"workerId,omitempty"`
}

// ReasoningEnd closes a reasoning part.
type ReasoningEnd struct {
	ID       string `json:"id"`
	WorkerID string `json:"workerId,omitempty"`
}

// ToolInputStart opens a tool call whose arguments stream next.
type ToolInputStart struct {
	ToolCallID string `json:"toolCallId"`
	ToolName   string `json:"toolName"`
	// Title is the human label of the call (the tool's description or title).
	Title string `json:"title,omitempty"`
	// Display is the tool's display mode.
	Display  string `json:"display,omitempty"`
	WorkerID string `json:"workerId,omitempty"`
}

// ToolInputDelta is a raw JSON fragment of a tool call's arguments.
type ToolInputDelta struct {
	ToolCallID     string `json:"toolCallId"`
	InputTextDelta string `json:"inputTextDelta"`
	WorkerID       string `json:"workerId,omitempty"`
}

// ToolInputEnd ends the streaming of a tool call's arguments.
type ToolInputEnd struct {
	ToolCallID string `json:"toolCallId"`
	WorkerID   string `json:"workerId,omitempty"`
}

// ToolInputAvailable carries the parsed arguments of a tool call.
type ToolInputAvailable struct {
	ToolCallID string `json:"toolCallId"`
	ToolName   string `json:"toolName"`
	// Input is the arguments as JSON; nil is written as null.
	Input    json.RawMessage `json:"input"`
	WorkerID string          `json:"workerId,omitempty"`
}

// ToolOutputAvailable carries the result of a tool call.
type ToolOutputAvailable struct {
	ToolCallID string `json:"toolCallId"`
	// Output is the result as JSON; nil is written as null.
	Output   json.RawMessage `json:"output"`
	WorkerID string          `json:"workerId,omitempty"`
}

// ToolOutputError reports that a tool call failed.
type ToolOutputError struct {
	ToolCallID string `json:"toolCallId"`
	Error      string `json:"error"`
	WorkerID   string `json:"workerId,omitempty"`
}

// PendingToolCall is a tool call the consumer must execute before the run
// can continue.
type PendingToolCall struct {
	ToolCallID string `json:"toolCallId"`
	ToolName   string `json:"toolName"`
	// Args is the arguments object; nil is written as {}.
	Args json.RawMessage `json:"args"`
	// Source is ToolSourceLLM or ToolSourceBlock.
	Source string `json:"source"`
	// OutputVariable receives the result of a tool-call block.
	OutputVariable string `json:"outputVariable,omitempty"`
	// BlockIndex is the block a tool-call block resumes from.
	BlockIndex *int   `json:"blockIndex,omitempty"`
	Thread     string `json:"thread,omitempty"`
	WorkerID   string `json:"workerId,omitempty"`
}

// MarshalJSON writes the wire form, with nil Args as {}.
func (c PendingToolCall) MarshalJSON() ([]byte, error) {
	type plain PendingToolCall
	if c.Args == nil {
		c.Args = json.RawMessage("{}")
	}
	return encode(plain(c))
}

// ToolResult is the result of a tool call, as a consumer sends it back.
type ToolResult struct {
	ToolCallID string `json:"toolCallId"`
	ToolName   string `json:"toolName,omitempty"`
	// Result is the result as JSON; nil omits it, "null" writes null.
	Result         json.RawMessage `json:"result,omitempty"`
	Error          string          `json:"error,omitempty"`
	OutputVariable string          `json:"outputVariable,omitempty"`
	BlockIndex     *int            `json:"blockIndex,omitempty"`
	Thread         string          `json:"thread,omitempty"`
	WorkerID       string          `json:"workerId,omitempty"`
}

// ToolRequest pauses the run for tools the engine cannot run itself; the
// consumer runs them and continues the execution.
type ToolRequest struct {
	ToolCalls []PendingToolCall `json:"toolCalls"`
	WorkerID  string            `json:"workerId,omitempty"`
}

// ClientToolRequest asks a client to run tools that have no server handler.
type ClientToolRequest struct {
	ExecutionID string            `json:"executionId"`
	ToolCalls   []PendingToolCall `json:"toolCalls"`
	// ServerToolResults are the results of the server tools of the same round.
	ServerToolResults []ToolResult `json:"serverToolResults,omitempty"`
}
