package llm

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryOption configures WithRetry.
type RetryOption func(*retrier)

// WithAttempts sets how many calls a generation may take in all, the first
// included (default 3). A value below 1 counts as 1: no retry.
func WithAttempts(n int) RetryOption {
	return func(r *retrier) { r.attempts = max(n, 1) }
}

// WithBackoff sets the wait before retry n (n counts from 0): base·2ⁿ, at
// most maxWait, then ±25% jitter (default 1s and 8s).
func WithBackoff(base, maxWait time.Duration) RetryOption {
	return func(r *retrier) { r.base, r.maxBackoff = base, maxWait }
}

// WithMaxRetryAfter caps the wait a provider asks for in Retry-After
// (Error.RetryAfter; default 30s). A longer request is shortened to d.
func WithMaxRetryAfter(d time.Duration) RetryOption {
	return func(r *retrier) { r.maxRetryAfter = d }
}

// WithSleep replaces how the client waits between attempts, for tests:
// sleep returns nil after d, or ctx's error as soon as ctx ends.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) RetryOption {
	return func(r *retrier) { r.sleep = sleep }
}

// WithRandom sets the source of the jitter, a function returning numbers
// in [0, 1) and safe for concurrent use (default math/rand/v2's Float64):
// 0 waits 25% less than the backoff, 0.5 exactly the backoff.
func WithRandom(random func() float64) RetryOption {
	return func(r *retrier) { r.random = random }
}

// WithCallTimeout bounds each call: one that has not finished after d
// fails with a retryable provider_timeout *Error, so it is retried when it
// had delivered no delta. 0, the default, sets no bound.
func WithCallTimeout(d time.Duration) RetryOption {
	return func(r *retrier) { r.callTimeout = d }
}

// WithIdleTimeout bounds the silence of a stream: a call whose first delta
// does not come within d of the request, or whose next delta does not come
// within d of the previous one, fails with a retryable provider_timeout
// *Error. The timer covers the wait for the response headers, headers
// without a body, and chunks that carry nothing (a first chunk with the
// role only): none of them is progress. A keep-alive of the provider (an
// SSE comment line, which gateways such as OpenRouter send while a model
// thinks) restarts it: a model may think long before it writes, as long as
// the call timeout allows. 0, the default, sets no bound.
func WithIdleTimeout(d time.Duration) RetryOption {
	return func(r *retrier) { r.idleTimeout = d }
}

// WithRetry returns a Client that calls c again when a call fails with an
// *Error whose Retryable is true (a timeout, rate limit, provider outage or
// broken connection) before any delta was delivered to onDelta. Once a
// delta was delivered the error is returned as it is: the consumer saw
// text that a new call would not repeat. With a nil onDelta every
// retryable failure is retried. The client waits between calls for the
// provider's Retry-After when there is one, else for an exponential
// backoff with jitter, and returns ctx's error as soon as ctx ends. It
// sets Error.Attempts on the *Error it returns: when it gives up, the last
// one. Other errors are returned at once. By default a generation gets 3
// attempts, waits 1s then 2s (±25%), a Retry-After is capped at 30s and
// calls have no timeout. The client is a MediaClient too, retrying the
// media calls of c (see MediaOf) the same way. It is safe for concurrent
// use when c is.
func WithRetry(c Client, opts ...RetryOption) Client {
	r := &retrier{
		client:        c,
		attempts:      3,
		base:          time.Second,
		maxBackoff:    8 * time.Second,
		maxRetryAfter: 30 * time.Second,
		sleep:         sleep,
		random:        rand.Float64,
	}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// retrier is the Client of WithRetry.
type retrier struct {
	client                   Client
	attempts                 int
	base, maxBackoff         time.Duration
	maxRetryAfter            time.Duration
	callTimeout, idleTimeout time.Duration
	sleep                    func(context.Context, time.Duration) error
	random                   func() float64
}

// Generate calls the wrapped client until it succeeds, fails in a way not
// worth retrying, or has used every attempt.
func (r *retrier) Generate(ctx context.Context, req Request, onDelta func(Delta) error) (*Response, error) {
	return retry(ctx, r, func() (*Response, bool, error) { return r.call(ctx, req, onDelta) })
}

// retry makes call until it succeeds, fails in a way not worth retrying
// (call reports whether it delivered a delta), or has used every attempt.
func retry[T any](ctx context.Context, r *retrier, call func() (T, bool, error)) (T, error) {
	var zero T
	for attempt := 1; ; attempt++ {
		v, delivered, err := call()
		e, ok := errors.AsType[*Error](err)
		if !ok {
			return v, err
		}
		e.Attempts = attempt
		if !e.Retryable || delivered || attempt == r.attempts {
			return zero, err
		}
		wait := r.wait(attempt-1, e)
		LoggerFrom(ctx).WarnContext(ctx, "model call failed; retrying", "attempt", attempt, "of", r.attempts,
			"wait", wait, "errorType", e.Type, "status", e.StatusCode, "model", e.Model, "error", e.Message)
		if err := r.sleep(ctx, wait); err != nil {
			return zero, err
		}
	}
}

// GenerateImage implements MediaClient: the wrapped client's media calls
// are retried like generations, each bounded by the call timeout (a media
// call delivers no delta, so the idle timeout does not apply).
func (r *retrier) GenerateImage(ctx context.Context, req ImageRequest) (*Media, error) {
	return retryMedia(ctx, r, req.Model, func(ctx context.Context) (*Media, error) {
		return MediaOf(r.client).GenerateImage(ctx, req)
	})
}

// GenerateSpeech implements MediaClient like GenerateImage.
func (r *retrier) GenerateSpeech(ctx context.Context, req SpeechRequest) (*Media, error) {
	return retryMedia(ctx, r, req.Model, func(ctx context.Context) (*Media, error) {
		return MediaOf(r.client).GenerateSpeech(ctx, req)
	})
}

// Transcribe implements MediaClient like GenerateImage.
func (r *retrier) Transcribe(ctx context.Context, req TranscriptionRequest) (*Transcript, error) {
	return retryMedia(ctx, r, req.Model, func(ctx context.Context) (*Transcript, error) {
		return MediaOf(r.client).Transcribe(ctx, req)
	})
}

// retryMedia retries a media call, each attempt under the call timeout.
func retryMedia[T any](ctx context.Context, r *retrier, model string, call func(context.Context) (T, error)) (T, error) {
	return retry(ctx, r, func() (T, bool, error) {
		if r.callTimeout <= 0 {
			v, err := call(ctx)
			return v, false, err
		}
		cctx, cancel := context.WithTimeoutCause(ctx, r.callTimeout, errCallTimeout)
		defer cancel()
		v, err := call(cctx)
		if err != nil && ctx.Err() == nil && context.Cause(cctx) == errCallTimeout {
			err = &Error{Type: TypeProviderTimeout, Retryable: true, Model: model,
				Message: fmt.Sprintf("the call did not finish within %v", r.callTimeout)}
		}
		return v, false, err
	})
}

// Causes of a call's end that become provider_timeout errors.
var (
	errCallTimeout = errors.New("call timeout")
	errIdleTimeout = errors.New("idle timeout")
)

// call makes one call under the call and idle timeouts, and reports
// whether it delivered a delta.
func (r *retrier) call(ctx context.Context, req Request, onDelta func(Delta) error) (resp *Response, delivered bool, err error) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if r.callTimeout > 0 {
		t := time.AfterFunc(r.callTimeout, func() { cancel(errCallTimeout) })
		defer t.Stop()
	}
	// The idle timer starts with the request; each delta and each
	// keep-alive restarts it.
	active := func() {}
	if r.idleTimeout > 0 {
		idle := time.AfterFunc(r.idleTimeout, func() { cancel(errIdleTimeout) })
		defer idle.Stop()
		active = func() { idle.Reset(r.idleTimeout) }
		cctx = contextWithKeepAlive(cctx, active)
	}
	output := false
	resp, err = r.client.Generate(cctx, req, func(d Delta) error {
		active()
		output = true
		if onDelta == nil {
			return nil
		}
		delivered = true
		return onDelta(d)
	})
	if err == nil || ctx.Err() != nil {
		return resp, delivered, err
	}
	switch context.Cause(cctx) {
	case errCallTimeout:
		err = &Error{Type: TypeProviderTimeout, Retryable: true, Model: req.Model,
			Message: fmt.Sprintf("the call did not finish within %v", r.callTimeout)}
	case errIdleTimeout:
		msg := fmt.Sprintf("the provider sent no output for %v", r.idleTimeout)
		if output {
			msg = fmt.Sprintf("the stream stalled: no output for %v", r.idleTimeout)
		}
		err = &Error{Type: TypeProviderTimeout, Retryable: true, Model: req.Model, Message: msg}
	}
	return resp, delivered, err
}

type keepAliveKey struct{}

// contextWithKeepAlive returns ctx carrying f, which a Client calls when
// the provider shows it is alive without sending output (see
// keepAliveOf).
func contextWithKeepAlive(ctx context.Context, f func()) context.Context {
	return context.WithValue(ctx, keepAliveKey{}, f)
}

// keepAliveOf returns the keep-alive function of ctx, nil if it has none.
func keepAliveOf(ctx context.Context) func() {
	f, _ := ctx.Value(keepAliveKey{}).(func())
	return f
}

// wait returns how long to wait before retry n (from 0) after e.
func (r *retrier) wait(n int, e *Error) time.Duration {
	if e.RetryAfter > 0 {
		return min(e.RetryAfter, r.maxRetryAfter)
	}
	d := r.base
	for i := 0; i < n && d < r.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.maxBackoff)
	return time.Duration(float64(d) * (0.75 + 0.5*r.random()))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
