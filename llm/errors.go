package llm

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error types (rule §7.1 errorType) that model calls produce.
const (
	TypeAuthentication     = "authentication_error"
	TypePermission         = "permission_error"
	TypeValidation         = "validation_error"
	TypeNotFound           = "not_found_error"
	TypeRateLimit          = "rate_limit_error"
	TypeQuotaExceeded      = "quota_exceeded_error"
	TypeProvider           = "provider_error"
	TypeProviderOverloaded = "provider_overloaded"
	TypeProviderTimeout    = "provider_timeout"
)

// Error is a failed model call, classified for retries and for the error
// event of the stream. Cancellation of the caller's context is never an
// *Error: Generate returns the context's error instead.
type Error struct {
	// Type is an errorType of rule §7.1, one of the Type* constants.
	Type    string
	Message string
	// StatusCode is the provider's HTTP status, 0 when there was none
	// (connection failure, error inside the stream, invalid request).
	StatusCode int
	// Retryable is true for failures worth trying again: timeouts, rate
	// limits, provider outages and broken connections.
	Retryable bool
	// RetryAfter is how long the provider asked to wait, 0 when it did not.
	RetryAfter time.Duration
	// Provider and Model name the call: the provider prefix of the model id
	// (openai, anthropic, ...) and the model id after it. The Router and the
	// scripted client set Provider; a bare OpenAI client leaves it empty.
	Provider, Model string
	// Attempts is how many calls a retrying client (WithRetry) made before
	// it gave up with this error, 0 when no retrying client was involved.
	Attempts int
	// Unsupported is true when the endpoint, the provider or the client
	// does not offer the API called (a media API); the error then matches
	// errors.ErrUnsupported.
	Unsupported bool
}

// Is reports whether target is errors.ErrUnsupported and e says so.
func (e *Error) Is(target error) bool {
	return e.Unsupported && target == errors.ErrUnsupported
}

// Error returns "provider/model: type (HTTP status): message", followed by
// "(after n attempts)" when there were several.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Provider != "" && e.Model != "":
		b.WriteString(e.Provider + "/" + e.Model + ": ")
	case e.Model != "":
		b.WriteString(e.Model + ": ")
	}
	b.WriteString(e.Type)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// ErrorForStatus classifies a non-2xx HTTP status of a provider: 400
// validation_error, 401 authentication_error, 402 quota_exceeded_error, 403
// permission_error, 404 not_found_error, 408 and 504 provider_timeout, 429
// rate_limit_error, 503 and 529 provider_overloaded, any other status of 500
// or more provider_error, anything else validation_error. 408, 429 and
// every status of 500 or more are retryable. An empty message becomes the
// status text.
func ErrorForStatus(status int, message string) *Error {
	if message == "" {
		message = http.StatusText(status)
	}
	e := &Error{Message: message, StatusCode: status}
	switch status {
	case http.StatusBadRequest:
		e.Type = TypeValidation
	case http.StatusUnauthorized:
		e.Type = TypeAuthentication
	case http.StatusPaymentRequired:
		e.Type = TypeQuotaExceeded
	case http.StatusForbidden:
		e.Type = TypePermission
	case http.StatusNotFound:
		e.Type = TypeNotFound
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		e.Type = TypeProviderTimeout
	case http.StatusTooManyRequests:
		e.Type = TypeRateLimit
	case http.StatusServiceUnavailable, 529:
		e.Type = TypeProviderOverloaded
	default:
		e.Type = TypeValidation
		if status >= 500 {
			e.Type = TypeProvider
		}
	}
	e.Retryable = status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
	return e
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
