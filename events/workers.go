package events

import "encoding/json"

// WorkerStart announces a worker run. WorkerID is its identity, unique per
// invocation.
type WorkerStart struct {
	WorkerID    string `json:"workerId"`
	WorkerSlug  string `json:"workerSlug"`
	Description string `json:"description,omitempty"`
	// Input is the worker's input object; only stream display mode shows it.
	Input json.RawMessage `json:"input,omitempty"`
	// Warnings are octrun's warnings about the input, such as a name the
	// worker does not declare, which the run ignores (rule D18); they go
	// where the input goes. The TypeScript SDK's schema strips them.
	Warnings []string `json:"warnings,omitempty"`
}

// WorkerResult ends a worker run; it is emitted on every run's end (rule D6).
type WorkerResult struct {
	WorkerID string `json:"workerId"`
	// Output is the worker's output as JSON: nil omits it (the protocol has
	// no output), while "null", "false" or "0" are written as they are.
	Output json.RawMessage `json:"output,omitempty"`
	// Error is the message of a failed run.
	Error string `json:"error,omitempty"`
	// Cancelled marks a cancelled, not failed, run. The TypeScript SDK's
	// schema strips it.
	Cancelled bool `json:"cancelled,omitempty"`
}

// WorkerInputStart opens the streaming of the input of a worker that a model
// called as a tool (stream display mode only).
type WorkerInputStart struct {
	WorkerID    string `json:"workerId"`
	WorkerSlug  string `json:"workerSlug"`
	Description string `json:"description,omitempty"`
}

// WorkerInputDelta is a JSON fragment of a worker's input object.
type WorkerInputDelta struct {
	WorkerID string `json:"workerId"`
	Delta    string `json:"delta"`
}

// WorkerInputReady carries a worker's complete input object.
type WorkerInputReady struct {
	WorkerID string `json:"workerId"`
	// Input is the input object; nil is written as {}.
	Input json.RawMessage `json:"input"`
}
