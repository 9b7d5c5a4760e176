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
}

// EventType returns "worker-start".
func (WorkerStart) EventType() string { return "worker-start" }

// EventWorkerID returns the worker's identity.
func (e WorkerStart) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e WorkerStart) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e WorkerStart) MarshalJSON() ([]byte, error) {
	type plain WorkerStart
	return marshal(e.EventType(), plain(e))
}

// WorkerResult ends a worker run; it is emitted on every run's end (D6).
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

// EventType returns "worker-result".
func (WorkerResult) EventType() string { return "worker-result" }

// EventWorkerID returns the worker's identity.
func (e WorkerResult) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e WorkerResult) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e WorkerResult) MarshalJSON() ([]byte, error) {
	type plain WorkerResult
	return marshal(e.EventType(), plain(e))
}

// WorkerInputStart opens the streaming of the input of a worker that a model
// called as a tool (stream display mode only).
type WorkerInputStart struct {
	WorkerID    string `json:"workerId"`
	WorkerSlug  string `json:"workerSlug"`
	Description string `json:"description,omitempty"`
}

// EventType returns "worker-input-start".
func (WorkerInputStart) EventType() string { return "worker-input-start" }

// EventWorkerID returns the worker's identity.
func (e WorkerInputStart) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e WorkerInputStart) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e WorkerInputStart) MarshalJSON() ([]byte, error) {
	type plain WorkerInputStart
	return marshal(e.EventType(), plain(e))
}

// WorkerInputDelta is a JSON fragment of a worker's input object.
type WorkerInputDelta struct {
	WorkerID string `json:"workerId"`
	Delta    string `json:"delta"`
}

// EventType returns "worker-input-delta".
func (WorkerInputDelta) EventType() string { return "worker-input-delta" }

// EventWorkerID returns the worker's identity.
func (e WorkerInputDelta) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e WorkerInputDelta) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form.
func (e WorkerInputDelta) MarshalJSON() ([]byte, error) {
	type plain WorkerInputDelta
	return marshal(e.EventType(), plain(e))
}

// WorkerInputReady carries a worker's complete input object.
type WorkerInputReady struct {
	WorkerID string `json:"workerId"`
	// Input is the input object; nil is written as {}.
	Input json.RawMessage `json:"input"`
}

// EventType returns "worker-input-ready".
func (WorkerInputReady) EventType() string { return "worker-input-ready" }

// EventWorkerID returns the worker's identity.
func (e WorkerInputReady) EventWorkerID() string { return e.WorkerID }

// WithWorkerID returns a copy with workerId set to id.
func (e WorkerInputReady) WithWorkerID(id string) Event { e.WorkerID = id; return e }

// MarshalJSON writes the wire form, with nil Input as {}.
func (e WorkerInputReady) MarshalJSON() ([]byte, error) {
	type plain WorkerInputReady
	if e.Input == nil {
		e.Input = json.RawMessage("{}")
	}
	return marshal(e.EventType(), plain(e))
}
