package llm

import (
	"context"
	"log/slog"
)

// loggerKey is the context key of ContextWithLogger.
type loggerKey struct{}

// ContextWithLogger returns a context whose model calls log to logger:
// the retries of a retrying client (WithRetry), with the attempt, the wait
// and the error. The caller of a call decides where its logs go, so the
// same client serves runs that log differently.
func ContextWithLogger(ctx context.Context, logger *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, logger)
}

// LoggerFrom returns the logger of ContextWithLogger, or one that logs
// nothing.
func LoggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return discard
}

var discard = slog.New(slog.DiscardHandler)
