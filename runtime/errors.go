package runtime

import "github.com/octrun/octrun/events"

// Error is a failed or cancelled run.
type Error struct {
	// Type is the errorType of the run's error event ("" when cancelled).
	Type    events.ErrorType
	Message string
	// ExecutionID identifies the run.
	ExecutionID string
	// Cancelled is true when the context ended the run.
	Cancelled bool
	// Refused is true when the run was refused before it started: nothing
	// ran and it emitted no event (a protocol that did not load cleanly;
	// a continue whose results do not answer the pending calls, or whose
	// protocol changed since the pause). Type is validation_error then. A
	// run that started and failed, whatever its Type, is not refused.
	Refused bool
	Err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause (context.Canceled for a cancelled run).
func (e *Error) Unwrap() error { return e.Err }
