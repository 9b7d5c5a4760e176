package octrun_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// The support-triage example runs through the real go-openai client over
// HTTP against the fake OpenAI server, driven by the example's own mock
// script; the requests the server received are checked.
func TestSupportTriageOverHTTP(t *testing.T) {
	script, err := llm.LoadScript("examples/support-triage/mock.yaml")
	require.NoError(t, err)
	server := fakeopenai.New(script)
	defer server.Close()
	env := map[string]string{"OPENAI_BASE_URL": server.URL(), "OPENAI_API_KEY": "sk-test"}
	router := llm.NewRouter(func(k string) string { return env[k] })

	p, err := octrun.Load("examples/support-triage")
	require.NoError(t, err)
	var collected events.Collector
	res, err := octrun.RunWorker(context.Background(), p,
		map[string]any{"TICKET": "My order A-1042 never arrived.", "TIER": "enterprise"},
		octrun.WithLLM(router), octrun.WithExecutionID("http"), octrun.WithEventSink(collected.Send),
		octrun.WithTool("lookup-order", func(_ context.Context, args map[string]any) (any, error) {
			return map[string]any{"orderId": args["orderId"], "status": "lost in transit"}, nil
		}))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"category": "shipping", "priority": "urgent", "orderId": "A-1042",
		"summary": "The customer's order A-1042 was lost by the carrier after shipping. They need a replacement or a refund.",
	}, jsonValue(t, res.Output))
	assert.Positive(t, res.Usage.TotalTokens)

	reqs := server.Requests()
	require.Len(t, reqs, 4, "investigate (2 steps), the nested summarizer, classify")
	for _, r := range reqs {
		assert.Equal(t, "Bearer sk-test", r.Authorization)
		assert.Equal(t, "gpt-4o-mini", r.Chat.Model, "the provider prefix is stripped")
		assert.True(t, r.Chat.Stream)
		require.NotNil(t, r.Chat.StreamOptions)
		assert.True(t, r.Chat.StreamOptions.IncludeUsage)
	}

	// Step 1: the rendered system prompt (enterprise branch), the ticket, the tool.
	first := reqs[0].Chat
	require.Len(t, first.Messages, 2)
	assert.Equal(t, openai.ChatMessageRoleSystem, first.Messages[0].Role)
	assert.Contains(t, first.Messages[0].Content, "look it up with lookup-order")
	assert.Contains(t, first.Messages[0].Content, "The customer is on the enterprise plan")
	assert.NotContains(t, first.Messages[0].Content, "{{")
	assert.Equal(t, "New ticket:\n\nMy order A-1042 never arrived.\n\nWhat happened? Investigate, then explain in two or three sentences.", first.Messages[1].Content)
	require.Len(t, first.Tools, 1)
	assert.Equal(t, "lookup-order", first.Tools[0].Function.Name)
	assert.JSONEq(t, `{"type":"object","properties":{"orderId":{"type":"string","description":"The order id, like A-1042"}},"required":["orderId"],"additionalProperties":false}`,
		mustJSON(t, first.Tools[0].Function.Parameters))

	// Step 2: the assistant's tool call and the tool result follow, in order.
	second := reqs[1].Chat
	require.Len(t, second.Messages, 4)
	assert.Equal(t, []string{"system", "user", "assistant", "tool"}, roles(second.Messages))
	require.Len(t, second.Messages[2].ToolCalls, 1)
	call := second.Messages[2].ToolCalls[0]
	assert.Equal(t, "lookup-order", call.Function.Name)
	assert.JSONEq(t, `{"orderId":"A-1042"}`, call.Function.Arguments)
	assert.Equal(t, call.ID, second.Messages[3].ToolCallID)
	assert.JSONEq(t, `{"orderId":"A-1042","status":"lost in transit"}`, second.Messages[3].Content)

	// The nested worker's own thread: its system prompt and the serialized transcript.
	nested := reqs[2].Chat
	assert.Equal(t, []string{"system", "user"}, roles(nested.Messages))
	assert.Contains(t, nested.Messages[0].Content, "You summarize support conversations")
	assert.Contains(t, nested.Messages[1].Content, "**Tool call** `lookup-order`")
	require.NotNil(t, nested.Temperature)

	// Classify: the whole triage thread so far and the structured-output schema.
	classify := reqs[3].Chat
	assert.Equal(t, []string{"system", "user", "assistant", "tool", "assistant", "user"}, roles(classify.Messages))
	assert.True(t, strings.HasPrefix(classify.Messages[5].Content, "File the triage record."))
	require.NotNil(t, classify.ResponseFormat)
	assert.Equal(t, openai.ChatCompletionResponseFormatTypeJSONSchema, classify.ResponseFormat.Type)
	assert.Equal(t, "Triage", classify.ResponseFormat.JSONSchema.Name)
	assert.False(t, classify.ResponseFormat.JSONSchema.Strict, "Triage has an optional property, which strict mode cannot express")

	// The stream the consumer saw ends as rule §7.6 says.
	evs := collected.Events()
	require.GreaterOrEqual(t, len(evs), 4)
	tail := []string{}
	for _, ev := range evs[len(evs)-3:] {
		tail = append(tail, ev.EventType())
	}
	assert.Equal(t, []string{"worker-result", "finish", "usage"}, tail)
	assert.Equal(t, "start", evs[0].EventType())
}

func roles(msgs []openai.ChatCompletionMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Role
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// jsonValue normalises a value through JSON (json.Number becomes float64).
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	var out any
	require.NoError(t, json.Unmarshal([]byte(mustJSON(t, v)), &out))
	return out
}

// The library's short path pauses for a client tool and continues.
func TestRunWorkerPausesAndContinues(t *testing.T) {
	p, err := octrun.Load("examples/trip-planner")
	require.NoError(t, err)
	script, err := llm.LoadScript("examples/trip-planner/mock.yaml")
	require.NoError(t, err)
	client := llm.NewScripted(script)
	store := octrun.NewMemoryStore()
	opts := []octrun.Option{octrun.WithLLM(client), octrun.WithStore(store), octrun.WithTool("lookup", func(context.Context, map[string]any) (any, error) {
		return []string{"9:02"}, nil
	})}
	_, err = octrun.RunWorker(context.Background(), p, nil, opts...)
	var pause *octrun.PauseError
	require.ErrorAs(t, err, &pause)
	require.Len(t, pause.Calls, 1)
	res, err := octrun.Continue(context.Background(), pause.ExecutionID,
		[]events.ToolResult{{ToolCallID: pause.Calls[0].ToolCallID, Result: json.RawMessage(`"Brest"`)}},
		append(opts, octrun.WithTool("approve", octrun.CommandTool(`echo '{"approved": true}'`, time.Second)))...)
	require.NoError(t, err)
	assert.Equal(t, "Approved: the 9:02 train to Brest.", res.Output)
	last := client.Requests()[len(client.Requests())-1].Messages
	assert.Equal(t, `The manager answered: {
  "approved": true
}`, last[len(last)-1].Content, "the command's JSON result reached the prompt")
}
