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
	Err       error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause (context.Canceled for a cancelled run).
func (e *Error) Unwrap() error { return e.Err }
