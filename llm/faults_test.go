package llm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// bothClients runs f with the OpenAI client against the fake server and
// with the scripted client, both answering from script.
func bothClients(t *testing.T, script string, f func(t *testing.T, c llm.Client, overHTTP bool)) {
	t.Run("openai", func(t *testing.T) {
		f(t, llm.NewOpenAI(fake(t, script).URL(), "k"), true)
	})
	t.Run("scripted", func(t *testing.T) {
		f(t, scripted(t, script), false)
	})
}

// A broken stream fails with a retryable provider_error, after the deltas
// that came before the break, never with a truncated response.
func TestBrokenStreams(t *testing.T) {
	words := []llm.Delta{{Kind: llm.TextDelta, Text: "one"}, {Kind: llm.TextDelta, Text: " two"}, {Kind: llm.TextDelta, Text: " three"}}
	cut := "the stream was cut before its end: "
	malformed := "the stream was malformed: "
	cases := []struct {
		name, response string
		deltas         []llm.Delta
		// message is the OpenAI client's; the scripted client's starts
		// like it, up to the colon after "end" or "malformed".
		message string
	}{
		{"cut before any delta", `{text: one two three, fault: {cutAfter: 0}}`, nil, cut + "unexpected EOF"},
		{"cut mid-way", `{text: one two three, fault: {cutAfter: 2}}`, words[:2], cut + "unexpected EOF"},
		{"cut before the finish", `{text: one two three, fault: {cutAfter: 99}}`, words, cut + "unexpected EOF"},
		{"cut in a tool call", `{toolCalls: [{name: lookup, arguments: {q: tides}}], fault: {cutAfter: 1}}`,
			[]llm.Delta{{Kind: llm.ToolCallStart, ToolID: "call_1", ToolName: "lookup"}}, cut + "unexpected EOF"},
		{"malformed first chunk", `{text: one two three, fault: {malformedAfter: 0}}`, nil,
			malformed + "chunk 2 is not JSON: unexpected end of JSON input"},
		{"malformed chunk mid-way", `{text: one two three, fault: {malformedAfter: 2}}`, words[:2],
			malformed + "chunk 4 is not JSON: unexpected end of JSON input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bothClients(t, "responses: ["+c.response+"]", func(t *testing.T, client llm.Client, overHTTP bool) {
				deltas, resp, err := generate(t, client, userSays("x"))
				assert.Nil(t, resp)
				assert.Equal(t, c.deltas, deltas)
				e := requireError(t, err)
				assert.Equal(t, llm.TypeProvider, e.Type)
				assert.True(t, e.Retryable)
				assert.Equal(t, "gpt-4o", e.Model)
				if overHTTP {
					assert.Equal(t, c.message, e.Message)
				} else {
					prefix, _, _ := strings.Cut(c.message, ": ")
					assert.True(t, strings.HasPrefix(e.Message, prefix+": "), e.Message)
				}
			})
		})
	}
}

// A stalled stream holds the call until the caller gives up.
func TestStalledStream(t *testing.T) {
	bothClients(t, `responses: [{text: one two three, fault: {stallAfter: 2}}]`, func(t *testing.T, c llm.Client, _ bool) {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		var deltas []string
		resp, err := c.Generate(ctx, userSays("x"), func(d llm.Delta) error {
			deltas = append(deltas, d.Text)
			return nil
		})
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, []string{"one", " two"}, deltas)
	})
}

// A response's delay slows every chunk (every delta of the scripted
// client).
func TestSlowResponse(t *testing.T) {
	bothClients(t, `responses: [{text: one two three, fault: {delay: 30ms}}]`, func(t *testing.T, c llm.Client, _ bool) {
		start := time.Now()
		_, resp, err := generate(t, c, userSays("x"))
		require.NoError(t, err)
		assert.Equal(t, "one two three", resp.Text)
		assert.GreaterOrEqual(t, time.Since(start), 90*time.Millisecond, "3 deltas, 30ms each")
	})
}

// The response's delay replaces the server's.
func TestResponseDelayOverridesServerDelay(t *testing.T) {
	srv := fake(t, `responses: [{text: quick, fault: {delay: 1ms}}]`, fakeopenai.WithDelay(time.Hour))
	_, resp, err := generate(t, llm.NewOpenAI(srv.URL(), "k"), userSays("x"))
	require.NoError(t, err)
	assert.Equal(t, "quick", resp.Text)
}
