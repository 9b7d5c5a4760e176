package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// generate runs one generation and collects its deltas.
func generate(t *testing.T, c llm.Client, req llm.Request) ([]llm.Delta, *llm.Response, error) {
	t.Helper()
	var deltas []llm.Delta
	resp, err := c.Generate(t.Context(), req, func(d llm.Delta) error {
		deltas = append(deltas, d)
		return nil
	})
	return deltas, resp, err
}

// fake starts a fake server answering from the script text.
func fake(t *testing.T, script string, opts ...fakeopenai.Option) *fakeopenai.Server {
	t.Helper()
	s, err := llm.ParseScript([]byte(script))
	require.NoError(t, err)
	srv := fakeopenai.New(s, opts...)
	t.Cleanup(srv.Close)
	return srv
}

func userSays(text string) llm.Request {
	return llm.Request{Model: "gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: text}}}
}

func texts(deltas []llm.Delta, kind llm.DeltaKind) []string {
	var out []string
	for _, d := range deltas {
		if d.Kind == kind {
			out = append(out, d.Text)
		}
	}
	return out
}

// body decodes the JSON body of request i as a generic map.
func body(t *testing.T, srv *fakeopenai.Server, i int) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(srv.Requests()[i].Body, &m))
	return m
}

func TestOpenAIStreamsTextInOrder(t *testing.T) {
	srv := fake(t, `responses: [{text: "Hello there, brave new world"}]`)
	deltas, resp, err := generate(t, llm.NewOpenAI(srv.URL(), "sk-test"), userSays("hi"))
	require.NoError(t, err)

	assert.Equal(t, []string{"Hello", " there,", " brave", " new", " world"}, texts(deltas, llm.TextDelta))
	assert.Len(t, deltas, 5, "only text deltas")
	assert.Equal(t, "Hello there, brave new world", resp.Text)
	assert.Equal(t, "stop", resp.FinishReason)
	assert.Empty(t, resp.ToolCalls)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "Bearer sk-test", reqs[0].Authorization)
	assert.Equal(t, "/chat/completions", reqs[0].Path)
	assert.Equal(t, "gpt-4o", reqs[0].Chat.Model, "model sent unchanged")
	m := body(t, srv, 0)
	assert.Equal(t, true, m["stream"])
	assert.Equal(t, map[string]any{"include_usage": true}, m["stream_options"])
}

func TestOpenAIReasoningStreamsBeforeText(t *testing.T) {
	srv := fake(t, `responses: [{reasoning: "Let me think", text: "Done."}]`)
	deltas, resp, err := generate(t, llm.NewOpenAI(srv.URL(), "k"), userSays("hi"))
	require.NoError(t, err)

	require.Len(t, deltas, 4)
	assert.Equal(t, llm.Delta{Kind: llm.ReasoningDelta, Text: "Let"}, deltas[0])
	assert.Equal(t, llm.Delta{Kind: llm.TextDelta, Text: "Done."}, deltas[3])
	assert.Equal(t, "Let me think", resp.Reasoning)
	assert.Equal(t, "Done.", resp.Text)
}

func TestOpenAIReasoningFieldOfOpenRouter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"hmm\"}}]}\n\n",
			"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\n",
			"data: [DONE]\n\n")
	}))
	defer srv.Close()
	_, resp, err := generate(t, llm.NewOpenAI(srv.URL, ""), userSays("hi"))
	require.NoError(t, err)
	assert.Equal(t, "hmm", resp.Reasoning)
	assert.Equal(t, "ok", resp.Text)
}

const twoToolCalls = `
responses:
  - toolCalls:
      - name: web-search
        arguments: {query: "tides at Brest", limit: 3}
      - name: get-weather
        id: call_w
        arguments: '{"city":"Brest"}'
`

func TestOpenAIAssemblesInterleavedToolCalls(t *testing.T) {
	for _, interleaved := range []bool{false, true} {
		t.Run(fmt.Sprint("interleaved=", interleaved), func(t *testing.T) {
			var opts []fakeopenai.Option
			if interleaved {
				opts = append(opts, fakeopenai.WithInterleavedToolCalls())
			}
			srv := fake(t, twoToolCalls, opts...)
			deltas, resp, err := generate(t, llm.NewOpenAI(srv.URL(), "k"), userSays("tides?"))
			require.NoError(t, err)

			want := []llm.ToolCall{
				{ID: "call_1", Name: "web-search", Arguments: `{"query":"tides at Brest","limit":3}`},
				{ID: "call_w", Name: "get-weather", Arguments: `{"city":"Brest"}`},
			}
			assert.Equal(t, want, resp.ToolCalls)
			assert.Equal(t, "tool-calls", resp.FinishReason)

			var starts []llm.Delta
			args := make([]string, 2)
			fragments := make([]int, 2)
			for _, d := range deltas {
				switch d.Kind {
				case llm.ToolCallStart:
					starts = append(starts, d)
				case llm.ToolCallArgs:
					require.Greater(t, len(starts), d.ToolIndex, "arguments come after their start")
					assert.Equal(t, want[d.ToolIndex].ID, d.ToolID)
					args[d.ToolIndex] += d.Text
					fragments[d.ToolIndex]++
				}
			}
			assert.Equal(t, []llm.Delta{
				{Kind: llm.ToolCallStart, ToolIndex: 0, ToolID: "call_1", ToolName: "web-search"},
				{Kind: llm.ToolCallStart, ToolIndex: 1, ToolID: "call_w", ToolName: "get-weather"},
			}, starts)
			assert.Equal(t, []string{want[0].Arguments, want[1].Arguments}, args)
			assert.Greater(t, fragments[0], 2, "arguments arrive in several fragments")
			if interleaved {
				assert.Equal(t, llm.ToolCallStart, deltas[1].Kind, "second call opens before the first's arguments")
			}
		})
	}
}

func TestOpenAIUsage(t *testing.T) {
	srv := fake(t, `responses: [{text: "hi", usage: {input: 12, output: 3}}, {text: "abcdefgh"}]`)
	c := llm.NewOpenAI(srv.URL(), "k")
	_, resp, err := generate(t, c, userSays("hello"))
	require.NoError(t, err)
	assert.Equal(t, llm.Usage{InputTokens: 12, OutputTokens: 3, TotalTokens: 15}, resp.Usage)

	_, resp, err = generate(t, c, userSays("hello"))
	require.NoError(t, err)
	assert.Equal(t, llm.Usage{InputTokens: 2, OutputTokens: 2, TotalTokens: 4}, resp.Usage, "rough counts of the fake server")
}

func TestOpenAIFinishReasons(t *testing.T) {
	srv := fake(t, `
responses:
  - {text: a}
  - {text: a, finishReason: length}
  - {text: a, finishReason: content-filter}
  - {text: a, finishReason: other}
  - {toolCalls: [{name: t}], finishReason: stop}
`)
	c := llm.NewOpenAI(srv.URL(), "k")
	for _, want := range []string{"stop", "length", "content-filter", "other", "tool-calls"} {
		_, resp, err := generate(t, c, userSays("x"))
		require.NoError(t, err)
		assert.Equal(t, want, resp.FinishReason)
	}
}

func TestOpenAIRequestMapping(t *testing.T) {
	srv := fake(t, `responses: [{text: ok}]`, fakeopenai.WithLoop())
	c := llm.NewOpenAI(srv.URL(), "k")
	temp := 0.3
	req := llm.Request{
		Model: "gpt-4o",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Be brief."},
			{Role: llm.RoleUser, Content: "Tides?"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "web-search", Arguments: `{"q":"tides"}`}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: `{"high":"6:12"}`},
		},
		Tools: []llm.Tool{{Name: "web-search", Description: "Search the web.", Parameters: map[string]any{
			"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}, "required": []any{"q"},
		}}},
		Temperature:     &temp,
		Thinking:        "medium",
		MaxOutputTokens: 500,
		ResponseFormat: &llm.ResponseFormat{Name: "Answer", Strict: true, Schema: map[string]any{
			"type": "object", "properties": map[string]any{"high": map[string]any{"type": "string"}},
		}},
	}
	_, _, err := generate(t, c, req)
	require.NoError(t, err)

	m := body(t, srv, 0)
	assert.InDelta(t, 0.3, m["temperature"], 1e-6)
	assert.Equal(t, 500.0, m["max_completion_tokens"])
	assert.NotContains(t, m, "max_tokens")
	assert.Equal(t, "medium", m["reasoning_effort"])
	assert.Equal(t, map[string]any{"type": "json_schema", "json_schema": map[string]any{
		"name": "Answer", "strict": true,
		"schema": map[string]any{"type": "object", "properties": map[string]any{"high": map[string]any{"type": "string"}}},
	}}, m["response_format"])
	assert.Equal(t, []any{map[string]any{"type": "function", "function": map[string]any{
		"name": "web-search", "description": "Search the web.",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}, "required": []any{"q"}},
	}}}, m["tools"])
	assert.Equal(t, []any{
		map[string]any{"role": "system", "content": "Be brief."},
		map[string]any{"role": "user", "content": "Tides?"},
		map[string]any{"role": "assistant", "tool_calls": []any{map[string]any{
			"id": "call_1", "type": "function", "function": map[string]any{"name": "web-search", "arguments": `{"q":"tides"}`},
		}}},
		map[string]any{"role": "tool", "tool_call_id": "call_1", "content": `{"high":"6:12"}`},
	}, m["messages"])

	// Unset options are not sent; thinking levels map to reasoning_effort.
	zero := 0.0
	for i, tc := range []struct {
		thinking string
		temp     *float64
		effort   any
	}{
		{"", nil, nil},
		{"off", nil, nil}, // a model of no known provider: what its server takes is not known
		{"low", nil, "low"},
		{"high", nil, "high"},
		{"max", &zero, "high"},
	} {
		req := userSays("x")
		req.Thinking, req.Temperature = tc.thinking, tc.temp
		_, _, err := generate(t, c, req)
		require.NoError(t, err)
		m := body(t, srv, i+1)
		assert.Equal(t, tc.effort, m["reasoning_effort"], "thinking %q", tc.thinking)
		for _, key := range []string{"max_completion_tokens", "response_format", "tools"} {
			assert.NotContains(t, m, key)
		}
		if tc.temp == nil {
			assert.NotContains(t, m, "temperature")
		} else {
			assert.InDelta(t, 0, m["temperature"], 1e-30, "temperature 0 is sent, not dropped")
			assert.Contains(t, m, "temperature")
		}
	}
}

func TestOpenAIErrorStatuses(t *testing.T) {
	cases := []struct {
		status    int
		typ       string
		retryable bool
	}{
		{400, llm.TypeValidation, false},
		{401, llm.TypeAuthentication, false},
		{402, llm.TypeQuotaExceeded, false},
		{403, llm.TypePermission, false},
		{404, llm.TypeNotFound, false},
		{408, llm.TypeProviderTimeout, true},
		{422, llm.TypeValidation, false},
		{429, llm.TypeRateLimit, true},
		{500, llm.TypeProvider, true},
		{502, llm.TypeProvider, true},
		{503, llm.TypeProviderOverloaded, true},
		{504, llm.TypeProviderTimeout, true},
		{529, llm.TypeProviderOverloaded, true},
	}
	var script strings.Builder
	script.WriteString("responses:\n")
	for _, c := range cases {
		fmt.Fprintf(&script, "  - error: {status: %d, message: failed with %d, retryAfter: 2}\n", c.status, c.status)
	}
	srv := fake(t, script.String())
	client := llm.NewOpenAI(srv.URL(), "k")
	for _, c := range cases {
		_, resp, err := generate(t, client, userSays("x"))
		assert.Nil(t, resp)
		e, ok := errors.AsType[*llm.Error](err)
		require.True(t, ok, "status %d: %v", c.status, err)
		assert.Equal(t, llm.Error{
			Type: c.typ, Message: fmt.Sprint("failed with ", c.status), StatusCode: c.status,
			Retryable: c.retryable, RetryAfter: 2 * time.Second, Model: "gpt-4o",
		}, *e)
	}
}

func TestOpenAIErrorsWithoutStatus(t *testing.T) {
	handler := func(respond func(w http.ResponseWriter)) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { respond(w) }))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	cases := []struct {
		name, url string
		want      llm.Error
	}{
		{"quota exhausted is not a rate limit", handler(func(w http.ResponseWriter) {
			w.WriteHeader(429)
			fmt.Fprint(w, `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`)
		}), llm.Error{Type: llm.TypeQuotaExceeded, StatusCode: 429, Message: "You exceeded your current quota"}},
		{"body that is not JSON", handler(func(w http.ResponseWriter) {
			w.WriteHeader(502)
			fmt.Fprint(w, "<html>Bad Gateway</html>")
		}), llm.Error{Type: llm.TypeProvider, StatusCode: 502, Retryable: true, Message: "<html>Bad Gateway</html>"}},
		{"error event inside the stream", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
				"data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n")
		}), llm.Error{Type: llm.TypeProvider, Retryable: true, Message: "overloaded"}},
		{"chunk of the wrong shape", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, "data: {\"choices\":{\"index\":0}}\n\n")
		}), llm.Error{Type: llm.TypeProvider, Retryable: true, Message: `the stream was malformed: chunk 1 is not a chat completion chunk: field "choices": expected an array, got an object`}},
		{"error event with a bare message", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, "data: {\"error\":\"upstream timed out\"}\n\n")
		}), llm.Error{Type: llm.TypeProvider, Retryable: true, Message: "upstream timed out"}},
		{"chunk holding an error (OpenRouter)", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
				"data: {\"id\":\"gen-1\",\"error\":{\"code\":502,\"message\":\"Provider disconnected\"},\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n",
				"data: [DONE]\n\n")
		}), llm.Error{Type: llm.TypeProvider, Retryable: true, Message: "Provider disconnected"}},
		{"stream that ends before a finish_reason", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n")
		}), llm.Error{Type: llm.TypeProvider, Retryable: true, Message: "the stream was cut before its end: no finish_reason"}},
		{"empty stream", handler(func(w http.ResponseWriter) {
			fmt.Fprint(w, "data: [DONE]\n\n")
		}), llm.Error{Type: llm.TypeProvider, Retryable: true, Message: "the stream ended without any data"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := generate(t, llm.NewOpenAI(c.url, "k"), userSays("x"))
			e, ok := errors.AsType[*llm.Error](err)
			require.True(t, ok, "%v", err)
			c.want.Model = "gpt-4o"
			assert.Equal(t, c.want, *e)
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		_, _, err := generate(t, llm.NewOpenAI(closed.URL, "k"), userSays("x"))
		e, ok := errors.AsType[*llm.Error](err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, llm.TypeProvider, e.Type)
		assert.True(t, e.Retryable)
		assert.Contains(t, e.Error(), "gpt-4o: provider_error: ")
	})
}

func TestOpenAICancellationMidStream(t *testing.T) {
	srv := fake(t, `responses: [{text: "one two three four five six seven eight nine ten"}]`,
		fakeopenai.WithDelay(400*time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var canceledAt time.Time
	resp, err := llm.NewOpenAI(srv.URL(), "k").Generate(ctx, userSays("x"), func(d llm.Delta) error {
		if canceledAt.IsZero() {
			canceledAt = time.Now()
			cancel()
		}
		return nil
	})
	assert.Nil(t, resp)
	require.ErrorIs(t, err, context.Canceled)
	_, isLLMError := errors.AsType[*llm.Error](err)
	assert.False(t, isLLMError)
	assert.Less(t, time.Since(canceledAt), 300*time.Millisecond, "returns promptly, not at the next chunk")
}

func TestOpenAIDeltaCallbackErrorAborts(t *testing.T) {
	srv := fake(t, `responses: [{text: "one two three"}]`)
	stop := errors.New("stop here")
	calls := 0
	_, err := llm.NewOpenAI(srv.URL(), "k").Generate(t.Context(), userSays("x"), func(llm.Delta) error {
		calls++
		return stop
	})
	assert.Same(t, stop, err)
	assert.Equal(t, 1, calls)
}

func TestOpenAIRefusesInvalidRequestWithoutSending(t *testing.T) {
	srv := fake(t, `responses: [{text: ok}]`)
	temp := 0.5
	// go-openai checks reasoning models' parameters before sending, by
	// their id, with octrun's prefix (through --llm-base-url) or without.
	for _, model := range []string{"o3-mini", "openai/gpt-5"} {
		_, _, err := generate(t, llm.NewOpenAI(srv.URL(), "k"), llm.Request{Model: model, Temperature: &temp})
		e, ok := errors.AsType[*llm.Error](err)
		require.True(t, ok, "%s: %v", model, err)
		assert.Equal(t, llm.TypeValidation, e.Type, model)
		assert.False(t, e.Retryable)
	}
	assert.Empty(t, srv.Requests())
}

// Keep-alive comments, however many, are not messages: go-openai's reader
// counts them and failed after 300.
func TestOpenAIKeepAliveComments(t *testing.T) {
	srv := fake(t, `responses: [{text: "finally"}]`, fakeopenai.WithKeepAlive(1000, 0))
	_, resp, err := generate(t, llm.NewOpenAI(srv.URL(), "k"), userSays("think hard"))
	require.NoError(t, err)
	assert.Equal(t, "finally", resp.Text)
}

// Ollama sends parallel tool calls all at stream index 0: a new id at an
// index starts a new call.
func TestOpenAIToolCallsSharingAnIndex(t *testing.T) {
	srv := fake(t, twoToolCalls, fakeopenai.WithSharedToolCallIndex())
	deltas, resp, err := generate(t, llm.NewOpenAI(srv.URL(), "k"), userSays("tides?"))
	require.NoError(t, err)
	assert.Equal(t, []llm.ToolCall{
		{ID: "call_1", Name: "web-search", Arguments: `{"query":"tides at Brest","limit":3}`},
		{ID: "call_w", Name: "get-weather", Arguments: `{"city":"Brest"}`},
	}, resp.ToolCalls)
	var starts []llm.Delta
	for _, d := range deltas {
		if d.Kind == llm.ToolCallStart {
			starts = append(starts, d)
		}
	}
	assert.Equal(t, []llm.Delta{
		{Kind: llm.ToolCallStart, ToolIndex: 0, ToolID: "call_1", ToolName: "web-search"},
		{Kind: llm.ToolCallStart, ToolIndex: 1, ToolID: "call_w", ToolName: "get-weather"},
	}, starts)
}

// A user, system or tool message goes out with its content even when it
// is empty (the API requires it); only an assistant message that asks for
// tools may go without.
func TestOpenAISendsEmptyContent(t *testing.T) {
	srv := fake(t, `responses: [{text: ok}]`)
	_, _, err := generate(t, llm.NewOpenAI(srv.URL(), "k"), llm.Request{Model: "gpt-4o", Messages: []llm.Message{
		{Role: llm.RoleSystem},
		{Role: llm.RoleUser},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "t", Arguments: "{}"}}},
		{Role: llm.RoleTool, ToolCallID: "c1"},
		{Role: llm.RoleAssistant},
	}})
	require.NoError(t, err)
	msgs := body(t, srv, 0)["messages"].([]any)
	for i, want := range []bool{true, true, false, true, true} {
		_, has := msgs[i].(map[string]any)["content"]
		assert.Equal(t, want, has, "message %d: %v", i, msgs[i])
	}
}
