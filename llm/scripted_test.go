package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
)

func scripted(t *testing.T, script string) *llm.Scripted {
	t.Helper()
	s, err := llm.ParseScript([]byte(script))
	require.NoError(t, err)
	return llm.NewScripted(s)
}

func TestScriptedAnswersInOrder(t *testing.T) {
	c := scripted(t, `
# Responses are used in order, one per model call.
responses:
  - text: "Hello there"
  - reasoning: "Let me think"
    text: "Sunny."
    usage: {input: 12, output: 3}
    finishReason: length
  - toolCalls:
      - name: web-search
        arguments: {query: tides, when: [today, 2]}
      - name: get-weather
        arguments: '{"city": "Brest"}'
        id: weather-1
  - toolCalls: [{name: web-search}]
`)
	deltas, resp, err := generate(t, c, llm.Request{Model: "openai/gpt-4o", Messages: []llm.Message{{Role: llm.RoleUser, Content: "12345678"}}})
	require.NoError(t, err)
	assert.Equal(t, []llm.Delta{{Kind: llm.TextDelta, Text: "Hello"}, {Kind: llm.TextDelta, Text: " there"}}, deltas)
	assert.Equal(t, &llm.Response{Text: "Hello there", FinishReason: "stop", Usage: llm.Usage{InputTokens: 2, OutputTokens: 3, TotalTokens: 5}}, resp)

	deltas, resp, err = generate(t, c, userSays("x"))
	require.NoError(t, err)
	assert.Equal(t, []string{"Let", " me", " think"}, texts(deltas, llm.ReasoningDelta))
	assert.Equal(t, llm.ReasoningDelta, deltas[0].Kind, "reasoning first")
	assert.Equal(t, &llm.Response{Text: "Sunny.", Reasoning: "Let me think", FinishReason: "length",
		Usage: llm.Usage{InputTokens: 12, OutputTokens: 3, TotalTokens: 15}}, resp)

	deltas, resp, err = generate(t, c, userSays("x"))
	require.NoError(t, err)
	assert.Equal(t, []llm.Delta{
		{Kind: llm.ToolCallStart, ToolIndex: 0, ToolID: "call_1", ToolName: "web-search"},
		{Kind: llm.ToolCallArgs, ToolIndex: 0, ToolID: "call_1", ToolName: "web-search", Text: `{"query":"tides","when":["today",2]}`},
		{Kind: llm.ToolCallStart, ToolIndex: 1, ToolID: "weather-1", ToolName: "get-weather"},
		{Kind: llm.ToolCallArgs, ToolIndex: 1, ToolID: "weather-1", ToolName: "get-weather", Text: `{"city": "Brest"}`},
	}, deltas)
	assert.Equal(t, "tool-calls", resp.FinishReason)
	assert.Len(t, resp.ToolCalls, 2)

	_, resp, err = generate(t, c, userSays("x"))
	require.NoError(t, err)
	assert.Equal(t, []llm.ToolCall{{ID: "call_3", Name: "web-search", Arguments: "{}"}}, resp.ToolCalls,
		"default ids number the script's tool calls")

	_, _, err = generate(t, c, llm.Request{Model: "anthropic/claude"})
	require.EqualError(t, err, "scripted model: the script has 4 responses and call 5 was made (model anthropic/claude)")

	reqs := c.Requests()
	require.Len(t, reqs, 5)
	assert.Equal(t, "openai/gpt-4o", reqs[0].Model)
	assert.Equal(t, "12345678", reqs[0].Messages[0].Content)
}

func TestScriptedModelMismatch(t *testing.T) {
	c := scripted(t, "responses:\n  - text: a\n  - text: b\n    model: openai/gpt-4o\n")
	_, _, err := generate(t, c, llm.Request{Model: "openai/gpt-4o-mini"})
	require.NoError(t, err, "no model given: any model")
	_, _, err = generate(t, c, llm.Request{Model: "openai/gpt-4o-mini"})
	require.EqualError(t, err, "scripted model: response 2 (line 3) expects model openai/gpt-4o, but call 2 was for openai/gpt-4o-mini")
}

func TestScriptedErrors(t *testing.T) {
	c := scripted(t, `responses: [{error: {status: 429, message: "slow down", retryAfter: 1.5}}, {error: {status: 500}}]`)
	_, _, err := generate(t, c, llm.Request{Model: "openai/gpt-4o"})
	e, ok := errors.AsType[*llm.Error](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, llm.Error{Type: llm.TypeRateLimit, Message: "slow down", StatusCode: 429, Retryable: true,
		RetryAfter: 1500 * time.Millisecond, Provider: "openai", Model: "gpt-4o"}, *e)

	_, _, err = generate(t, c, llm.Request{Model: "openai/gpt-4o"})
	assert.EqualError(t, err, "openai/gpt-4o: provider_error (HTTP 500): Internal Server Error")
}

func TestScriptedCancellation(t *testing.T) {
	c := scripted(t, `responses: [{text: "a b c"}]`)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n := 0
	_, err := c.Generate(ctx, userSays("x"), func(llm.Delta) error {
		n++
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, n)
}

func TestScriptedConcurrentCallsTakeEachResponseOnce(t *testing.T) {
	s := &llm.Script{}
	for i := range 50 {
		s.Responses = append(s.Responses, llm.ScriptResponse{Text: string(rune('A' + i%26))})
	}
	c := llm.NewScripted(s)
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, resp, err := generate(t, c, userSays("x"))
			if assert.NoError(t, err) {
				mu.Lock()
				counts[resp.Text]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 2, counts["A"])
	assert.Equal(t, 1, counts["Z"])
	assert.Len(t, c.Requests(), 50)
}

func TestScriptFileErrorsHavePositions(t *testing.T) {
	cases := []struct{ name, script, want string }{
		{"syntax", "responses:\n\t- text: a\n", "2:1: invalid YAML: found character that cannot start any token; YAML indents with spaces: replace the tab"},
		{"empty", "", "1:1: the script is empty; it needs a responses list"},
		{"no responses", "answers: []\n", "1:1: unknown key \"answers\" in the script (known: responses, tools)\n1:1: the script needs responses"},
		{"responses not a list", "responses: {text: a}\n", "1:12: responses must be a list, got a mapping"},
		{"unknown key", "responses:\n  - txt: hi\n", "2:5: unknown key \"txt\" in a response (known: text, reasoning, toolCalls, error, model, usage, finishReason, fault, image, audio, transcript)\n2:5: a response needs text, reasoning, toolCalls, image, audio, transcript or error"},
		{"error with text", "responses:\n  - text: hi\n    error: {status: 500}\n", "3:12: a response with an error cannot also have text"},
		{"bad status", "responses:\n  - error: {status: 200}\n", "2:21: status must be an HTTP error status (400 to 599), got 200"},
		{"missing status", "responses:\n  - error: {message: x}\n", "2:12: error needs status"},
		{"tool call without name", "responses:\n  - toolCalls: [{arguments: {}}]\n", "2:17: a tool call needs name"},
		{"bad finish reason", "responses:\n  - text: a\n    finishReason: done\n", "3:19: finishReason \"done\" is not one of stop, tool-calls, length, content-filter, other"},
		{"bad usage", "responses:\n  - text: a\n    usage: {input: many}\n", "3:20: usage input must be a whole number of tokens, got many"},
		{"duplicate key", "responses:\n  - text: a\n    text: b\n", "3:5: text appears twice in a response"},
		{"list text", "responses:\n  - text: [a]\n", "2:11: text must be text, got a list"},
		{"two faults", "responses:\n  - text: a\n    fault: {cutAfter: 1, stallAfter: 2}\n", "3:38: a fault has one of cutAfter, malformedAfter or stallAfter, not several"},
		{"negative count", "responses:\n  - text: a\n    fault: {cutAfter: -1}\n", "3:23: cutAfter must be a whole number of deltas, got \"-1\""},
		{"fractional count", "responses:\n  - text: a\n    fault: {malformedAfter: 1.5}\n", "3:29: malformedAfter must be a whole number of deltas, got \"1.5\""},
		{"missing count", "responses:\n  - text: a\n    fault: {stallAfter: }\n", "3:25: stallAfter must be a whole number of deltas, got nothing"},
		{"bad delay", "responses:\n  - text: a\n    fault: {delay: soon}\n", "3:20: delay must be a duration such as 200ms or 1.5s, or a number of seconds, got \"soon\""},
		{"negative delay", "responses:\n  - text: a\n    fault: {delay: -2}\n", "3:20: delay must be a duration such as 200ms or 1.5s, or a number of seconds, got \"-2\""},
		{"empty fault", "responses:\n  - text: a\n    fault: {}\n", "3:12: fault needs cutAfter, malformedAfter, stallAfter or delay"},
		{"fault not a mapping", "responses:\n  - text: a\n    fault: cut\n", "3:12: fault must be a mapping, got \"cut\""},
		{"fault with error", "responses:\n  - error: {status: 500}\n    fault: {cutAfter: 0}\n", "2:12: a response with an error cannot also have fault"},
		{"fault alone", "responses:\n  - fault: {cutAfter: 0}\n", "2:5: a response needs text, reasoning, toolCalls, image, audio, transcript or error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := llm.ParseScript([]byte(tc.script))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestScriptFaults(t *testing.T) {
	s, err := llm.ParseScript([]byte(`responses:
  - {text: a, fault: {delay: 200ms, cutAfter: 3}}
  - {text: b, fault: {delay: 1.5, malformedAfter: 0}}
  - {text: c, fault: {stallAfter: 2}}
  - {text: d}
`))
	require.NoError(t, err)
	var faults []llm.Fault
	for _, r := range s.Responses {
		faults = append(faults, r.Fault)
	}
	assert.Equal(t, []llm.Fault{
		{Kind: llm.FaultCut, After: 3, Delay: 200 * time.Millisecond},
		{Kind: llm.FaultMalformed, After: 0, Delay: 1500 * time.Millisecond},
		{Kind: llm.FaultStall, After: 2},
		{},
	}, faults)
}

func TestFaultDue(t *testing.T) {
	f := llm.Fault{Kind: llm.FaultCut, After: 2}
	assert.False(t, f.Due(1, false))
	assert.True(t, f.Due(2, false))
	assert.False(t, f.Due(3, false))
	assert.False(t, f.Due(3, true), "already happened")
	f.After = 9
	assert.True(t, f.Due(3, true), "beyond the deltas: at the end")
	assert.False(t, llm.Fault{Delay: time.Second}.Due(0, true), "a delay alone breaks nothing")
}

func TestLoadScriptNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mock.yaml")
	require.NoError(t, os.WriteFile(path, []byte("responses:\n  - text: a\n  - {}\n"), 0o600))
	_, err := llm.LoadScript(path)
	require.EqualError(t, err, path+":3:5: a response needs text, reasoning, toolCalls, image, audio, transcript or error")

	require.NoError(t, os.WriteFile(path, []byte(`{"responses": [{"text": "json works"}]}`), 0o600))
	s, err := llm.LoadScript(path)
	require.NoError(t, err)
	assert.Equal(t, "json works", s.Responses[0].Text)
	assert.Equal(t, 1, s.Responses[0].Line)

	_, err = llm.LoadScript(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestScriptTools(t *testing.T) {
	s, err := llm.ParseScript([]byte(`responses:
  - text: hi
tools:
  lookup:
    result: {plan: pro, seats: 3}
  fetch:
    error: timeout
`))
	require.NoError(t, err)
	assert.Equal(t, map[string]llm.ScriptTool{
		"lookup": {Result: map[string]any{"plan": "pro", "seats": json.Number("3")}},
		"fetch":  {Error: "timeout"},
	}, s.Tools)

	_, err = llm.ParseScript([]byte("responses:\n  - text: hi\ntools:\n  a: {result: 1, error: x}\n  b: {}\n  c: [1]\n"))
	require.Error(t, err)
	assert.Equal(t, "4:6: tool \"a\" needs exactly one of result or error\n5:6: tool \"b\" needs exactly one of result or error\n6:6: tool \"c\" must be a mapping, got a list", err.Error())
}

// A hostile script (an alias bomb) is refused, not expanded.
func TestScriptAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &a0 [t, t, t, t, t, t, t, t, t, t]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for range 10 {
			fmt.Fprintf(&b, "*a%d, ", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("responses:\n  - text: hi\n")
	_, err := llm.ParseScript([]byte(b.String()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expands to more than")
}

func TestScriptedFrom(t *testing.T) {
	s := &llm.Script{Responses: []llm.ScriptResponse{{Text: "one"}, {Text: "two"}}}
	c := llm.NewScriptedFrom(s, 1)
	resp, err := c.Generate(context.Background(), llm.Request{Model: "m/x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "two", resp.Text)
	_, err = c.Generate(context.Background(), llm.Request{Model: "m/x"}, nil)
	assert.ErrorContains(t, err, "the script has 2 responses and call 3 was made")
}
