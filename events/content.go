package events

import "encoding/json"

// TextStart opens a text part; its deltas and end share its ID.
type TextStart struct {
	ID string `json:"id"`
	// ResponseType names the protocol type when the text is structured JSON.
	ResponseType string `json:"responseType,omitempty"`
	WorkerID     string `json:"workerId,omitempty"`
}

// EventType returns "text-start".
func (TextStart) EventType() string { return "text-start" }

// EventWorkerID returns the workerId.
func (e TextStart) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e TextStart) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e TextStart) MarshalJSON() ([]byte, error) {
	type plain TextStart
	return marshal(e.EventType(), plain(e))
}

// TextDelta is a fragment of a text part.
type TextDelta struct {
	ID       string `json:"id"`
	Delta    string `json:"delta"`
	WorkerID string `json:"workerId,omitempty"`
}

// EventType returns "text-delta".
func (TextDelta) EventType() string { return "text-delta" }

// EventWorkerID returns the workerId.
func (e TextDelta) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e TextDelta) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e TextDelta) MarshalJSON() ([]byte, error) {
	type plain TextDelta
	return marshal(e.EventType(), plain(e))
}

// TextEnd closes a text part.
type TextEnd struct {
	ID       string `json:"id"`
	WorkerID string `json:"workerId,omitempty"`
}

// EventType returns "text-end".
func (TextEnd) EventType() string { return "text-end" }

// EventWorkerID returns the workerId.
func (e TextEnd) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e TextEnd) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e TextEnd) MarshalJSON() ([]byte, error) {
	type plain TextEnd
	return marshal(e.EventType(), plain(e))
}

// ReasoningStart opens a reasoning part; its deltas and end share its ID.
type ReasoningStart struct {
	ID       string `json:"id"`
	WorkerID string `json:"workerId,omitempty"`
}

// EventType returns "reasoning-start".
func (ReasoningStart) EventType() string { return "reasoning-start" }

// EventWorkerID returns the workerId.
func (e ReasoningStart) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ReasoningStart) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ReasoningStart) MarshalJSON() ([]byte, error) {
	type plain ReasoningStart
	return marshal(e.EventType(), plain(e))
}

// ReasoningDelta is a fragment of a reasoning part.
type ReasoningDelta struct {
	ID       string `json:"id"`
	Delta    string `json:"delta"`
	WorkerID string `json:"workerId,omitempty"`
}

// EventType returns "reasoning-delta".
func (ReasoningDelta) EventType() string { return "reasoning-delta" }

// EventWorkerID returns the workerId.
func (e ReasoningDelta) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ReasoningDelta) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ReasoningDelta) MarshalJSON() ([]byte, error) {
	type plain ReasoningDelta
	return marshal(e.EventType(), plain(e))
}

// ReasoningEnd closes a reasoning part.
type ReasoningEnd struct {
	ID       string `json:"id"`
	WorkerID string `json:"workerId,omitempty"`
}

// EventType returns "reasoning-end".
func (ReasoningEnd) EventType() string { return "reasoning-end" }

// EventWorkerID returns the workerId.
func (e ReasoningEnd) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ReasoningEnd) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ReasoningEnd) MarshalJSON() ([]byte, error) {
	type plain ReasoningEnd
	return marshal(e.EventType(), plain(e))
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

// EventType returns "tool-input-start".
func (ToolInputStart) EventType() string { return "tool-input-start" }

// EventWorkerID returns the workerId.
func (e ToolInputStart) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ToolInputStart) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ToolInputStart) MarshalJSON() ([]byte, error) {
	type plain ToolInputStart
	return marshal(e.EventType(), plain(e))
}

// ToolInputDelta is a raw JSON fragment of a tool call's arguments.
type ToolInputDelta struct {
	ToolCallID     string `json:"toolCallId"`
	InputTextDelta string `json:"inputTextDelta"`
	WorkerID       string `json:"workerId,omitempty"`
}

// EventType returns "tool-input-delta".
func (ToolInputDelta) EventType() string { return "tool-input-delta" }

// EventWorkerID returns the workerId.
func (e ToolInputDelta) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ToolInputDelta) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ToolInputDelta) MarshalJSON() ([]byte, error) {
	type plain ToolInputDelta
	return marshal(e.EventType(), plain(e))
}

// ToolInputEnd ends the streaming of a tool call's arguments.
type ToolInputEnd struct {
	ToolCallID string `json:"toolCallId"`
	WorkerID   string `json:"workerId,omitempty"`
}

// EventType returns "tool-input-end".
func (ToolInputEnd) EventType() string { return "tool-input-end" }

// EventWorkerID returns the workerId.
func (e ToolInputEnd) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ToolInputEnd) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ToolInputEnd) MarshalJSON() ([]byte, error) {
	type plain ToolInputEnd
	return marshal(e.EventType(), plain(e))
}

// ToolInputAvailable carries the parsed arguments of a tool call.
type ToolInputAvailable struct {
	ToolCallID string `json:"toolCallId"`
	ToolName   string `json:"toolName"`
	// Input is the arguments as JSON; nil is written as null.
	Input    json.RawMessage `json:"input"`
	WorkerID string          `json:"workerId,omitempty"`
}

// EventType returns "tool-input-available".
func (ToolInputAvailable) EventType() string { return "tool-input-available" }

// EventWorkerID returns the workerId.
func (e ToolInputAvailable) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ToolInputAvailable) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ToolInputAvailable) MarshalJSON() ([]byte, error) {
	type plain ToolInputAvailable
	return marshal(e.EventType(), plain(e))
}

// ToolOutputAvailable carries the result of a tool call.
type ToolOutputAvailable struct {
	ToolCallID string `json:"toolCallId"`
	// Output is the result as JSON; nil is written as null.
	Output   json.RawMessage `json:"output"`
	WorkerID string          `json:"workerId,omitempty"`
}

// EventType returns "tool-output-available".
func (ToolOutputAvailable) EventType() string { return "tool-output-available" }

// EventWorkerID returns the workerId.
func (e ToolOutputAvailable) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ToolOutputAvailable) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ToolOutputAvailable) MarshalJSON() ([]byte, error) {
	type plain ToolOutputAvailable
	return marshal(e.EventType(), plain(e))
}

// ToolOutputError reports that a tool call failed.
type ToolOutputError struct {
	ToolCallID string `json:"toolCallId"`
	Error      string `json:"error"`
	WorkerID   string `json:"workerId,omitempty"`
}

// EventType returns "tool-output-error".
func (ToolOutputError) EventType() string { return "tool-output-error" }

// EventWorkerID returns the workerId.
func (e ToolOutputError) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ToolOutputError) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e ToolOutputError) MarshalJSON() ([]byte, error) {
	type plain ToolOutputError
	return marshal(e.EventType(), plain(e))
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

// EventType returns "tool-request".
func (ToolRequest) EventType() string { return "tool-request" }

// EventWorkerID returns the workerId.
func (e ToolRequest) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e ToolRequest) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form, with nil ToolCalls as [].
func (e ToolRequest) MarshalJSON() ([]byte, error) {
	type plain ToolRequest
	if e.ToolCalls == nil {
		e.ToolCalls = []PendingToolCall{}
	}
	return marshal(e.EventType(), plain(e))
}

// ClientToolRequest asks a client to run tools that have no server handler.
type ClientToolRequest struct {
	ExecutionID string            `json:"executionId"`
	ToolCalls   []PendingToolCall `json:"toolCalls"`
	// ServerToolResults are the results of the server tools of the same round.
	ServerToolResults []ToolResult `json:"serverToolResults,omitempty"`
}

// EventType returns "client-tool-request".
func (ClientToolRequest) EventType() string { return "client-tool-request" }

// EventWorkerID returns "": client-tool-request has no workerId.
func (ClientToolRequest) EventWorkerID() string { return "" }

// WithWorkerID returns e unchanged: client-tool-request has no workerId.
func (e ClientToolRequest) WithWorkerID(string) Event { return e }

// MarshalJSON writes the wire form, with nil ToolCalls as [].
func (e ClientToolRequest) MarshalJSON() ([]byte, error) {
	type plain ClientToolRequest
	if e.ToolCalls == nil {
		e.ToolCalls = []PendingToolCall{}
	}
	return marshal(e.EventType(), plain(e))
}
