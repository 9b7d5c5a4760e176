package runtime

import (
	"context"
	"errors"
	"strings"

	"github.com/octrun/octrun/blocks"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

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

// errorEvent classifies a failure into the error event of rule §7.1.
func errorEvent(err error) events.Error {
	ev := events.Error{ErrorType: events.ErrorTypeExecution, Source: events.ErrorSourcePlatform, Message: err.Error()}
	var inputErr *protocol.InputError
	var llmErr *llm.Error
	var blockErr *blocks.Error
	switch {
	case errors.As(err, &inputErr):
		ev.ErrorType = events.ErrorTypeValidation
	case errors.As(err, &llmErr):
		ev.ErrorType = events.ErrorType(llmErr.Type)
		ev.Source = events.ErrorSourceProvider
		ev.Retryable = llmErr.Retryable
		if llmErr.RetryAfter > 0 {
			secs := llmErr.RetryAfter.Seconds()
			ev.RetryAfter = &secs
		}
		ev.Provider = &events.ProviderErrorInfo{Name: provider(llmErr), Model: llmErr.Model, StatusCode: llmErr.StatusCode}
	case errors.As(err, &blockErr):
		ev.ErrorType = blockErr.Type
		if blockErr.Source != "" {
			ev.Source = blockErr.Source
		}
		if blockErr.Tool != "" {
			ev.Tool = &events.ToolErrorInfo{Name: blockErr.Tool, CallID: blockErr.CallID}
		}
	}
	return ev
}

// provider names the provider of a model error.
func provider(e *llm.Error) string {
	if e.Provider != "" {
		return e.Provider
	}
	name, _, _ := strings.Cut(e.Model, "/")
	return name
}

func isCancel(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
