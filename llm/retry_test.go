package llm_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// waits records the waits of a retrying client instead of sleeping.
type waits struct {
	mu  sync.Mutex
	all []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all = append(w.all, d)
	return ctx.Err()
}

func (w *waits) list() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all
}

// retrying wraps an OpenAI client of srv in WithRetry, with recorded waits
// and no jitter (the random source gives 0.5: the exact backoff).
func retrying(srv *fakeopenai.Server, opts ...llm.RetryOption) (llm.Client, *waits) {
	w := &waits{}
	opts = append([]llm.RetryOption{llm.WithSleep(w.sleep), llm.WithRandom(func() float64 { return 0.5 })}, opts...)
	return llm.WithRetry(llm.NewOpenAI(srv.URL(), "k"), opts...), w
}

func requireError(t *testing.T, err error) *llm.Error {
	t.Helper()
	e, ok := errors.AsType[*llm.Error](err)
	require.True(t, ok, "want an *llm.Error, got %v", err)
	return e
}

func TestRetryRateLimitThenSuccess(t *testing.T) {
	cases := []struct {
		name, error string
		opts        []llm.RetryOption
		wait        time.Duration
	}{
		{"backoff without Retry-After", "{status: 429}", nil, time.Second},
		{"Retry-After honoured", "{status: 429, retryAfter: 3}", nil, 3 * time.Second},
		{"Retry-After clamped to 30s", "{status: 429, retryAfter: 120}", nil, 30 * time.Second},
		{"Retry-After clamped to the option", "{status: 429, retryAfter: 120}", []llm.RetryOption{llm.WithMaxRetryAfter(5 * time.Second)}, 5 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := fake(t, "responses: [{error: "+c.error+"}, {text: hello there}]")
			client, w := retrying(srv, c.opts...)
			deltas, resp, err := generate(t, client, userSays("hi"))
			require.NoError(t, err)
			assert.Equal(t, "hello there", resp.Text)
			assert.Equal(t, []string{"hello", " there"}, texts(deltas, llm.TextDelta))
			assert.Len(t, srv.Requests(), 2)
			assert.Equal(t, []time.Duration{c.wait}, w.list())
		})
	}
}

func TestRetryOverloadedTwiceThenSuccess(t *testing.T) {
	srv := fake(t, "responses: [{error: {status: 503}}, {error: {status: 503}}, {text: ok}]")
	client, w := retrying(srv)
	_, resp, err := generate(t, client, userSays("hi"))
	require.NoError(t, err)
	assert.Equal(t, "ok", resp.Text)
	assert.Len(t, srv.Requests(), 3)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, w.list(), "1s, then 2s")
}

func TestRetryNotForClientErrors(t *testing.T) {
	for _, status := range []string{"400", "401"} {
		t.Run(status, func(t *testing.T) {
			srv := fake(t, "responses: [{error: {status: "+status+"}}, {text: never}]")
			client, w := retrying(srv)
			_, resp, err := generate(t, client, userSays("hi"))
			assert.Nil(t, resp)
			e := requireError(t, err)
			assert.False(t, e.Retryable)
			assert.Equal(t, 1, e.Attempts)
			assert.Len(t, srv.Requests(), 1)
			assert.Empty(t, w.list())
		})
	}
}

func TestRetryAttemptsExhaustedReturnsLastError(t *testing.T) {
	srv := fake(t, `
responses:
  - error: {status: 503, message: first}
  - error: {status: 502, message: second}
  - error: {status: 500, message: third}
  - text: never
`)
	client, w := retrying(srv)
	_, resp, err := generate(t, client, userSays("hi"))
	assert.Nil(t, resp)
	e := requireError(t, err)
	assert.Equal(t, llm.Error{Type: llm.TypeProvider, StatusCode: 500, Message: "third", Retryable: true, Model: "gpt-4o", Attempts: 3}, *e)
	assert.Equal(t, "gpt-4o: provider_error (HTTP 500): third (after 3 attempts)", e.Error())
	assert.Len(t, srv.Requests(), 3)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, w.list())

	srv = fake(t, "responses: [{error: {status: 503}}, {text: never}]")
	client, _ = retrying(srv, llm.WithAttempts(1))
	_, _, err = generate(t, client, userSays("hi"))
	assert.Equal(t, 1, requireError(t, err).Attempts)
	assert.Len(t, srv.Requests(), 1, "one attempt: no retry")
}

func TestRetryNotAfterFirstDelta(t *testing.T) {
	srv := fake(t, "responses: [{text: one two three, fault: {cutAfter: 2}}, {text: never}]")
	client, w := retrying(srv)
	deltas, resp, err := generate(t, client, userSays("hi"))
	assert.Nil(t, resp)
	e := requireError(t, err)
	assert.Equal(t, llm.TypeProvider, e.Type)
	assert.True(t, e.Retryable, "retryable, but the consumer saw text")
	assert.Equal(t, 1, e.Attempts)
	assert.Equal(t, []string{"one", " two"}, texts(deltas, llm.TextDelta))
	assert.Len(t, srv.Requests(), 1)
	assert.Empty(t, w.list())

	// Without a delta callback nobody saw the text: the call is retried.
	srv = fake(t, "responses: [{text: one two three, fault: {cutAfter: 2}}, {text: again}]")
	client, _ = retrying(srv)
	resp, err = client.Generate(t.Context(), userSays("hi"), nil)
	require.NoError(t, err)
	assert.Equal(t, "again", resp.Text)
}

func TestRetryBrokenStreamsBeforeAnyDelta(t *testing.T) {
	for _, fault := range []string{"cutAfter: 0", "malformedAfter: 0"} {
		t.Run(fault, func(t *testing.T) {
			srv := fake(t, "responses: [{text: lost, fault: {"+fault+"}}, {text: second try}]")
			client, w := retrying(srv)
			deltas, resp, err := generate(t, client, userSays("hi"))
			require.NoError(t, err)
			assert.Equal(t, "second try", resp.Text)
			assert.Equal(t, []string{"second", " try"}, texts(deltas, llm.TextDelta), "nothing of the broken stream")
			assert.Len(t, w.list(), 1)
		})
	}
}

func TestRetryContextEndsDuringBackoff(t *testing.T) {
	srv := fake(t, "responses: [{error: {status: 503}}, {text: never}]")
	// The real sleep, with a backoff of a minute.
	client := llm.WithRetry(llm.NewOpenAI(srv.URL(), "k"), llm.WithBackoff(time.Minute, time.Minute))
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	resp, err := client.Generate(ctx, userSays("hi"), nil)
	assert.Nil(t, resp)
	require.ErrorIs(t, err, context.Canceled)
	_, isLLMError := errors.AsType[*llm.Error](err)
	assert.False(t, isLLMError, "ctx's error, not the provider's")
	assert.Less(t, time.Since(start), 5*time.Second, "returns promptly")
	assert.Len(t, srv.Requests(), 1)
}

func TestRetryCallTimeout(t *testing.T) {
	srv := fake(t, "responses: [{text: too slow, fault: {delay: 5s}}, {text: fast}]")
	client, w := retrying(srv, llm.WithCallTimeout(300*time.Millisecond))
	start := time.Now()
	_, resp, err := generate(t, client, userSays("hi"))
	require.NoError(t, err)
	assert.Equal(t, "fast", resp.Text)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Len(t, srv.Requests(), 2)
	assert.Equal(t, []time.Duration{time.Second}, w.list())

	srv = fake(t, "responses: [{text: a, fault: {delay: 5s}}, {text: b, fault: {delay: 5s}}]")
	client, _ = retrying(srv, llm.WithCallTimeout(50*time.Millisecond), llm.WithAttempts(2))
	_, _, err = generate(t, client, userSays("hi"))
	assert.Equal(t, llm.Error{Type: llm.TypeProviderTimeout, Retryable: true, Model: "gpt-4o", Attempts: 2,
		Message: "the call did not finish within 50ms"}, *requireError(t, err))
}

func TestRetryIdleTimeout(t *testing.T) {
	srv := fake(t, "responses: [{text: one two three, fault: {stallAfter: 2}}, {text: never}]")
	client, w := retrying(srv, llm.WithIdleTimeout(50*time.Millisecond))
	deltas, _, err := generate(t, client, userSays("hi"))
	assert.Equal(t, llm.Error{Type: llm.TypeProviderTimeout, Retryable: true, Model: "gpt-4o", Attempts: 1,
		Message: "the stream stalled: no output for 50ms"}, *requireError(t, err))
	assert.Equal(t, []string{"one", " two"}, texts(deltas, llm.TextDelta))
	assert.Empty(t, w.list(), "not retried after deltas")

	// The call timeout bounds the call when the idle timeout is longer.
	srv = fake(t, "responses: [{text: one, fault: {stallAfter: 0}}, {text: two}]")
	client, _ = retrying(srv, llm.WithIdleTimeout(time.Hour), llm.WithCallTimeout(300*time.Millisecond))
	_, resp, err := generate(t, client, userSays("hi"))
	require.NoError(t, err)
	assert.Equal(t, "two", resp.Text)
}

// The idle timeout starts with the request: a provider that accepts it
// and then sends nothing (no headers, headers only, or a first chunk
// without content) fails the attempt after the idle timeout, not the call
// timeout, and the call is retried.
func TestRetryIdleTimeoutFromTheRequest(t *testing.T) {
	points := []struct {
		name  string
		point fakeopenai.StallPoint
	}{
		{"no headers", fakeopenai.StallBeforeHeaders},
		{"headers only", fakeopenai.StallAfterHeaders},
		{"role-only chunk", fakeopenai.StallAfterRole},
	}
	for _, p := range points {
		t.Run(p.name, func(t *testing.T) {
			srv := fake(t, "responses: [{text: one, fault: {stallAfter: 0}}, {text: two}]", fakeopenai.WithStallPoint(p.point))
			client, w := retrying(srv, llm.WithIdleTimeout(50*time.Millisecond), llm.WithCallTimeout(time.Hour))
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			start := time.Now()
			resp, err := client.Generate(ctx, userSays("hi"), func(llm.Delta) error { return nil })
			require.NoError(t, err)
			assert.Equal(t, "two", resp.Text)
			assert.Less(t, time.Since(start), time.Second)
			assert.Len(t, srv.Requests(), 2)
			assert.Equal(t, []time.Duration{time.Second}, w.list())

			srv = fake(t, "responses: [{text: one, fault: {stallAfter: 0}}]", fakeopenai.WithStallPoint(p.point))
			client, _ = retrying(srv, llm.WithIdleTimeout(50*time.Millisecond), llm.WithAttempts(1))
			ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			_, err = client.Generate(ctx, userSays("hi"), nil)
			assert.Equal(t, llm.Error{Type: llm.TypeProviderTimeout, Retryable: true, Model: "gpt-4o", Attempts: 1,
				Message: "the provider sent no output for 50ms"}, *requireError(t, err))
		})
	}
}

// Keep-alive comments (SSE comment lines, sent by gateways while a model
// thinks) show that the provider is alive: they hold off the idle
// timeout, not the call timeout.
func TestRetryKeepAliveCommentsHoldOffTheIdleTimeout(t *testing.T) {
	srv := fake(t, "responses: [{text: thought long}]", fakeopenai.WithKeepAlive(8, 25*time.Millisecond))
	client, w := retrying(srv, llm.WithIdleTimeout(100*time.Millisecond))
	_, resp, err := generate(t, client, userSays("hi"))
	require.NoError(t, err)
	assert.Equal(t, "thought long", resp.Text)
	assert.Len(t, srv.Requests(), 1, "200ms of keep-alives, no retry")
	assert.Empty(t, w.list())

	srv = fake(t, "responses: [{text: never}]", fakeopenai.WithKeepAlive(100, 20*time.Millisecond))
	client, _ = retrying(srv, llm.WithIdleTimeout(time.Hour), llm.WithCallTimeout(100*time.Millisecond), llm.WithAttempts(1))
	_, _, err = generate(t, client, userSays("hi"))
	assert.Equal(t, "the call did not finish within 100ms", requireError(t, err).Message)
}

func TestRetryJitter(t *testing.T) {
	// Every call fails with 503 until the attempts run out.
	backoffs := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	waitsWith := func(random func() float64, opts ...llm.RetryOption) []time.Duration {
		s := &llm.Script{}
		for range len(backoffs) + 1 {
			s.Responses = append(s.Responses, llm.ScriptResponse{Error: llm.ErrorForStatus(503, "")})
		}
		w := &waits{}
		opts = append(opts, llm.WithSleep(w.sleep), llm.WithAttempts(len(backoffs)+1))
		if random != nil {
			opts = append(opts, llm.WithRandom(random))
		}
		_, err := llm.WithRetry(llm.NewScripted(s), opts...).Generate(t.Context(), userSays("x"), nil)
		require.Error(t, err)
		return w.list()
	}

	assert.Equal(t, backoffs, waitsWith(func() float64 { return 0.5 }), "1s doubling, capped at 8s")
	low := waitsWith(func() float64 { return 0 })
	high := waitsWith(func() float64 { return 0.999999 })
	for i, b := range backoffs {
		assert.Equal(t, b*3/4, low[i], "-25%")
		assert.InDelta(t, float64(b*5/4), float64(high[i]), float64(time.Millisecond), "+25%")
	}
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond},
		waitsWith(func() float64 { return 0.5 }, llm.WithBackoff(100*time.Millisecond, 300*time.Millisecond)))

	// The default source stays within ±25% and varies.
	var below, above bool
	for range 50 {
		for i, d := range waitsWith(nil) {
			require.GreaterOrEqual(t, d, backoffs[i]*3/4)
			require.Less(t, d, backoffs[i]*5/4)
			below = below || d < backoffs[i]*9/10
			above = above || d > backoffs[i]*11/10
		}
	}
	assert.True(t, below && above, "jitter goes both ways")
}

func TestRetryOtherErrorsReturnedAtOnce(t *testing.T) {
	c := llm.WithRetry(scripted(t, "responses: [{text: a}]"), llm.WithSleep((&waits{}).sleep))
	_, _, err := generate(t, c, userSays("x"))
	require.NoError(t, err)
	_, _, err = generate(t, c, userSays("x"))
	assert.ErrorContains(t, err, "the script has 1 responses and call 2 was made")

	stop := errors.New("stop")
	c = llm.WithRetry(scripted(t, "responses: [{text: a b}, {text: c}]"))
	_, err = c.Generate(t.Context(), userSays("x"), func(llm.Delta) error { return stop })
	assert.Same(t, stop, err, "the delta callback's error")
}

// A retry is logged to the logger of the call's context, with the attempt,
// the wait and the error; a call without one logs nothing.
func TestRetryIsLogged(t *testing.T) {
	srv := fake(t, "responses: [{error: {status: 503}}, {text: ok}]")
	client, _ := retrying(srv)
	var buf bytes.Buffer
	ctx := llm.ContextWithLogger(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	_, err := client.Generate(ctx, userSays("hi"), nil)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `level=WARN msg="model call failed; retrying" attempt=1 of=3 wait=1s errorType=provider_overloaded status=503`)
}
