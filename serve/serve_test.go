package serve_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	octrt "github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/serve"
)

// backends are the runners every behaviour test runs against; the
// Temporal one is added by temporal_test.go.
var backends = map[string]backend{"in-process": inProcess}

// forEach runs a test against every backend.
func forEach(t *testing.T, test func(t *testing.T, b backend)) {
	for name, b := range backends {
		t.Run(name, func(t *testing.T) { test(t, b) })
	}
}

// The SDK's flow: the trip planner pauses twice for client tools; the SDK
// swallows each tool-request and finish{tool-calls}, runs its handlers and
// continues; every leg starts with start{executionId}; the outputs of the
// tools the SDK ran are not sent back to it; the run's output comes from
// its last worker-result.
func TestSDKRunsAWorkerWithClientTools(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, script(t, "trip-planner"), nil, serve.Options{})
		c := sdk{a: a, handlers: map[string]func(map[string]any) any{
			"ask-user": func(args map[string]any) any { return "Brest, tomorrow morning" },
			"approve":  func(args map[string]any) any { return map[string]any{"approved": true} },
		}}
		run := c.generate(t, "trip-planner", map[string]any{})
		assert.Equal(t, "Approved: the 9:02 train to Brest.", run.output)
		assert.Equal(t, 3, run.legs)
		starts, outputs := 0, map[string]int{}
		for _, ev := range run.events {
			switch ev.kind {
			case "start":
				starts++
				assert.Equal(t, run.executionID, field(t, ev.data, "executionId"))
			case "tool-output-available", "tool-output-error":
				outputs[field(t, ev.data, "toolCallId").(string)]++
			case "client-tool-request":
				t.Errorf("over HTTP a pause is a tool-request, not %s", ev.data)
			}
		}
		assert.Equal(t, 3, starts, "every leg starts with start")
		assert.Len(t, outputs, 1, "only the server's own tool (lookup) has its output streamed: %v", outputs)
		ids := map[string]bool{}
		for _, ev := range run.events {
			assert.False(t, ids[ev.id], "event id %s twice", ev.id)
			ids[ev.id] = true
		}
	})
}

// A run without client tools is one leg: start ... worker-result, finish,
// usage, [DONE]; ids count from 1.
func TestOneLegRun(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, script(t, "support-triage"), nil, serve.Options{})
		resp := a.post(t, "/api/agents/support-triage/execute", map[string]any{"type": "start", "input": map[string]any{"TICKET": "My order A-1042 never arrived"}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		evs, done, _ := readStream(t, resp.Body)
		require.True(t, done)
		ks := kinds(evs)
		assert.Equal(t, "start", ks[0])
		assert.Equal(t, []string{"worker-result", "finish", "usage"}, ks[len(ks)-3:])
		for i, ev := range evs {
			assert.Equal(t, strconv.Itoa(i+1), ev.id)
		}
		out := field(t, evs[len(evs)-3].data, "output").(map[string]any)
		assert.Equal(t, "shipping", out["category"])
	})
}

// An input the worker does not declare is accepted (rule D18): the run
// goes on without it, and its worker-start carries the warning.
func TestUnknownInputIsAWarning(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, script(t, "support-triage"), nil, serve.Options{})
		resp := a.post(t, "/api/agents/support-triage/execute", map[string]any{"type": "start", "input": map[string]any{"TICKET": "My order A-1042 never arrived", "TIKET": "x"}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		evs, done, _ := readStream(t, resp.Body)
		require.True(t, done)
		require.Equal(t, "worker-start", evs[1].kind)
		assert.Equal(t, []any{`unknown input TIKET (did you mean "TICKET"?) is ignored; the worker's inputs are TICKET or TIER`}, field(t, evs[1].data, "warnings"))
		assert.Equal(t, "finish", evs[len(evs)-2].kind)
		assert.Equal(t, "stop", field(t, evs[len(evs)-2].data, "finishReason"))
	})
}

// Requests refused before a run starts are JSON errors with the status
// and code the SDK maps to its error types.
func TestRefusals(t *testing.T) {
	a := newAPI(t, inProcess, script(t, "support-triage"), nil, serve.Options{APIKeys: []string{"k-one", "k-two"}})
	start := map[string]any{"type": "start", "input": map[string]any{"TICKET": "hi"}}

	t.Run("no key", func(t *testing.T) {
		b := *a
		b.key = ""
		resp := b.post(t, "/api/agents/support-triage/execute", start)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		_, code := errorBody(t, resp)
		assert.Equal(t, "authentication_error", code)
	})
	t.Run("wrong key", func(t *testing.T) {
		b := *a
		b.key = "k-one-but-longer"
		resp := b.do(t, http.MethodGet, "/api/agents", nil, nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("second key", func(t *testing.T) {
		b := *a
		b.key = "k-two"
		resp := b.do(t, http.MethodGet, "/api/agents", nil, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("scheme in any case", func(t *testing.T) {
		b := *a
		b.key = ""
		resp := b.do(t, http.MethodGet, "/api/agents", nil, http.Header{"Authorization": {"bearer k-one"}})
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		resp = b.do(t, http.MethodGet, "/api/agents", nil, http.Header{"Authorization": {"Basic k-one"}})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("key in the query of a GET", func(t *testing.T) {
		b := *a
		b.key = ""
		resp := b.do(t, http.MethodGet, "/api/agents?access_token=k-two", nil, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "an EventSource cannot send headers")
		resp = b.do(t, http.MethodGet, "/api/agents?access_token=nope", nil, nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp = b.post(t, "/api/agents/support-triage/execute?access_token=k-two", start)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "only a GET may carry the key in its URL")
	})
	t.Run("unknown agent", func(t *testing.T) {
		for _, path := range []string{"/api/agents/nobody/execute", "/api/agents/..%2Fsupport-triage/execute", "/api/agents/SUPPORT-TRIAGE/execute"} {
			resp := a.post(t, path, start)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
			_, code := errorBody(t, resp)
			assert.Equal(t, "not_found_error", code)
		}
	})
	t.Run("every input problem", func(t *testing.T) {
		resp := a.post(t, "/api/agents/support-triage/execute", map[string]any{"type": "start", "input": map[string]any{"TIKET": "hi", "TIER": "gold"}})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		var body struct {
			Error, Code string
			Problems    []string
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		assert.Equal(t, "validation_error", body.Code)
		require.Len(t, body.Problems, 2, "%v", body.Problems)
		assert.Contains(t, body.Error, "missing input TICKET")
		assert.Contains(t, body.Error, "TIER")
		assert.NotContains(t, body.Error, "TIKET", "a name the worker does not declare is not a problem (rule D18)")
	})
	t.Run("body too large", func(t *testing.T) {
		big := map[string]any{"type": "start", "input": map[string]any{"TICKET": strings.Repeat("x", 5<<20)}}
		resp := a.post(t, "/api/agents/support-triage/execute", big)
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	})
	t.Run("too deep", func(t *testing.T) {
		deep := `{"type":"start","input":{"TICKET":"x","X":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`
		resp := a.do(t, http.MethodPost, "/api/agents/support-triage/execute", strings.NewReader(deep), nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		msg, _ := errorBody(t, resp)
		assert.Contains(t, msg, "deeper than 64")
	})
	t.Run("a stray brace after the JSON", func(t *testing.T) {
		resp := a.do(t, http.MethodPost, "/api/agents/support-triage/execute", strings.NewReader(`{"type":"start","input":{"TICKET":"hi"}}}`), nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		msg, _ := errorBody(t, resp)
		assert.Contains(t, msg, "unexpected text after the JSON value")
	})
	t.Run("not JSON", func(t *testing.T) {
		resp := a.do(t, http.MethodPost, "/api/agents/support-triage/execute", strings.NewReader("type=start"), nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("unknown request type", func(t *testing.T) {
		resp := a.post(t, "/api/agents/support-triage/execute", map[string]any{"type": "begin"})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("continue of an unknown execution", func(t *testing.T) {
		resp := a.post(t, "/api/agents/support-triage/execute", map[string]any{"type": "continue", "executionId": "exec_nope", "toolResults": []any{}})
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

// Continuing is refused while a leg runs, once the run ended, and with
// results that do not answer the pending calls; the execution keeps
// waiting after a refusal. Results of calls the server answered itself are
// accepted and ignored.
func TestContinueRefusals(t *testing.T) {
	s := script(t, "trip-planner")
	s.Responses[1].Fault.Delay = 40 * time.Millisecond // the leg after the first continue takes a while
	forEach(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, s, nil, serve.Options{})
		resp := a.post(t, "/api/agents/trip-planner/execute", map[string]any{"type": "start", "input": map[string]any{}})
		evs, _, _ := readStream(t, resp.Body)
		id := field(t, evs[0].data, "executionId").(string)
		var lookupID string
		for _, ev := range evs {
			if ev.kind == "tool-input-available" && field(t, ev.data, "toolName") == "lookup" {
				lookupID = field(t, ev.data, "toolCallId").(string)
			}
		}
		last := evs[len(evs)-2]
		require.Equal(t, "tool-request", last.kind)
		call := field(t, last.data, "toolCalls").([]any)[0].(map[string]any)
		cont := func(results ...map[string]any) *http.Response {
			return a.post(t, "/api/agents/trip-planner/execute", map[string]any{"type": "continue", "executionId": id, "toolResults": results})
		}

		resp = cont(map[string]any{"toolCallId": "call_nope", "result": 1})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		resp = cont()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "no result for the pending call")
		msg, code := errorBody(t, resp)
		assert.Equal(t, "validation_error", code)
		assert.Contains(t, msg, call["toolCallId"])

		// The SDK's continue of a client-tool-request sends the server's
		// results too: they are ignored.
		resp = cont(map[string]any{"toolCallId": call["toolCallId"], "result": "Brest"}, map[string]any{"toolCallId": lookupID, "result": "ignored"})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		second := cont(map[string]any{"toolCallId": call["toolCallId"], "result": "Brest"})
		assert.Equal(t, http.StatusConflict, second.StatusCode, "a second continue while the leg runs")
		rest, _, _ := readStream(t, resp.Body)
		require.Equal(t, "tool-request", rest[len(rest)-2].kind, "the run paused again, for approve")
	})
}

// A quiet stream gets a heartbeat comment every interval: a model that
// takes long to answer keeps the SDK's 60 s read timeout from firing.
func TestHeartbeat(t *testing.T) {
	slow := &llm.Script{Responses: []llm.ScriptResponse{{Text: "The Tides of Brest", Fault: llm.Fault{Delay: 150 * time.Millisecond}}}}
	forEach(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, slow, nil, serve.Options{Heartbeat: 40 * time.Millisecond})
		resp := a.post(t, "/api/agents/title-generator/execute", map[string]any{"type": "start", "input": map[string]any{"SUMMARY": "The moon and the sea"}})
		evs, done, heartbeats := readStream(t, resp.Body)
		assert.True(t, done)
		assert.GreaterOrEqual(t, heartbeats, 3, "heartbeats while the model was slow")
		assert.Equal(t, "usage", evs[len(evs)-1].kind)
	})
}

// Re-reading an execution's events: from Last-Event-ID or ?after=N, the
// events after it, the same ids and data; an unknown execution is 404.
func TestRereadFromLastEventID(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, script(t, "support-triage"), nil, serve.Options{})
		resp := a.post(t, "/api/agents/support-triage/execute", map[string]any{"type": "start", "input": map[string]any{"TICKET": "Lost order"}})
		all, _, _ := readStream(t, resp.Body)
		id := field(t, all[0].data, "executionId").(string)

		resp = a.do(t, http.MethodGet, "/api/executions/"+id+"/events", nil, http.Header{"Last-Event-Id": {"5"}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		again, done, _ := readStream(t, resp.Body)
		assert.True(t, done)
		assert.Equal(t, all[5:], again)

		resp = a.do(t, http.MethodGet, "/api/executions/"+id+"/events?after=0", nil, nil)
		again, _, _ = readStream(t, resp.Body)
		assert.Equal(t, all, again)

		resp = a.do(t, http.MethodGet, "/api/executions/exec_nope/events", nil, nil)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		resp = a.do(t, http.MethodGet, "/api/executions/"+id+"/events?after=x", nil, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

// A reader attached while the run goes on reads it live, to its end.
func TestRereadLive(t *testing.T) {
	slow := &llm.Script{Responses: []llm.ScriptResponse{{Text: "The Tides of Brest and the moon", Fault: llm.Fault{Delay: 60 * time.Millisecond}}}}
	forEach(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, slow, nil, serve.Options{})
		resp := a.post(t, "/api/agents/title-generator/execute", map[string]any{"type": "start", "input": map[string]any{"SUMMARY": "The moon"}})
		id := resp.Header.Get("X-Execution-Id")
		require.NotEmpty(t, id)
		live := a.do(t, http.MethodGet, "/api/executions/"+id+"/events", nil, nil)
		mine, _, _ := readStream(t, resp.Body)
		theirs, done, _ := readStream(t, live.Body)
		assert.True(t, done)
		assert.Equal(t, mine, theirs)
	})
}

// 429 with Retry-After once --max-runs executions run.
func TestMaxRuns(t *testing.T) {
	slow := &llm.Script{Responses: []llm.ScriptResponse{{Text: "one two three four", Fault: llm.Fault{Delay: 100 * time.Millisecond}}}}
	a := newAPI(t, inProcess, slow, nil, serve.Options{MaxRuns: 1})
	first := a.post(t, "/api/agents/title-generator/execute", map[string]any{"type": "start", "input": map[string]any{"SUMMARY": "x"}})
	require.Equal(t, http.StatusOK, first.StatusCode)
	second := a.post(t, "/api/agents/title-generator/execute", map[string]any{"type": "start", "input": map[string]any{"SUMMARY": "y"}})
	assert.Equal(t, http.StatusTooManyRequests, second.StatusCode)
	assert.Equal(t, "1", second.Header.Get("Retry-After"))
	_, code := errorBody(t, second)
	assert.Equal(t, "rate_limit_error", code)
	_, done, _ := readStream(t, first.Body)
	assert.True(t, done)
	third := a.post(t, "/api/agents/title-generator/execute", map[string]any{"type": "start", "input": map[string]any{"SUMMARY": "z"}})
	assert.Equal(t, http.StatusOK, third.StatusCode, "room again once the first run ended")
}

// A client that goes away cancels its run in process: the execution's
// events end as a cancelled run's.
func TestDisconnectCancels(t *testing.T) {
	slow := &llm.Script{Responses: []llm.ScriptResponse{{Text: strings.Repeat("wave ", 100), Fault: llm.Fault{Delay: 50 * time.Millisecond}}}}
	a := newAPI(t, inProcess, slow, nil, serve.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	body := strings.NewReader(`{"type":"start","input":{"SUMMARY":"x"}}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/api/agents/title-generator/execute", body)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	id := resp.Header.Get("X-Execution-Id")
	buf := make([]byte, 512)
	_, err = io.ReadAtLeast(resp.Body, buf, 100)
	require.NoError(t, err)
	cancel()
	_ = resp.Body.Close()

	start := time.Now()
	events := a.do(t, http.MethodGet, "/api/executions/"+id+"/events", nil, nil)
	evs, done, _ := readStream(t, events.Body)
	assert.True(t, done)
	assert.Less(t, time.Since(start), 3*time.Second, "the run stopped soon after")
	assertCancelled(t, evs)
}

// assertCancelled checks that a stream ends as a cancelled run's:
// worker-result{cancelled}, finish{stop}, usage.
func assertCancelled(t *testing.T, evs []sseEvent) {
	t.Helper()
	ks := kinds(evs)
	require.GreaterOrEqual(t, len(ks), 3)
	assert.Equal(t, []string{"worker-result", "finish", "usage"}, ks[len(ks)-3:])
	assert.Equal(t, true, field(t, evs[len(evs)-3].data, "cancelled"))
	assert.Equal(t, "stop", field(t, evs[len(evs)-2].data, "finishReason"))
}

// A client that connects and never reads does not keep a goroutine once
// the write timeout dropped it and its run ended.
func TestClientThatNeverReads(t *testing.T) {
	long := &llm.Script{Responses: []llm.ScriptResponse{{Text: strings.Repeat("tide and moon and sea ", 20000)}}}
	a := newAPI(t, inProcess, long, nil, serve.Options{WriteTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.url, "http://"))
	require.NoError(t, err)
	body := `{"type":"start","input":{"SUMMARY":"x"}}`
	_, err = conn.Write([]byte("POST /api/agents/title-generator/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	require.NoError(t, err)
	defer conn.Close()
	streaming := func() bool {
		buf := make([]byte, 1<<20)
		return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "serve.(*Server).stream")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !streaming() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	require.True(t, streaming(), "the stream started")
	for streaming() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assert.False(t, streaming(), "the stream's goroutine ended while the client still holds its connection")
}

// The agents served, with their input as JSON Schema and the type of
// their output.
func TestAgents(t *testing.T) {
	a := newAPI(t, inProcess, script(t, "support-triage"), nil, serve.Options{})
	resp := a.do(t, http.MethodGet, "/api/agents", nil, nil)
	var list struct{ Agents []map[string]any }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	var slugs []string
	for _, ag := range list.Agents {
		slugs = append(slugs, ag["slug"].(string))
	}
	assert.Equal(t, []string{"research-pipeline", "support-triage", "ticket-summarizer", "title-generator", "trip-planner"}, slugs)

	resp = a.do(t, http.MethodGet, "/api/agents/support-triage", nil, nil)
	var one map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&one))
	assert.Equal(t, "Triage", one["output"])
	input := one["input"].(map[string]any)
	assert.Equal(t, []any{"TICKET"}, input["required"])
	tier := input["properties"].(map[string]any)["TIER"].(map[string]any)
	assert.Equal(t, []any{"free", "pro", "enterprise"}, tier["enum"])
}

// /metrics counts runs, outcomes, tokens, tool calls and request latency
// in the Prometheus text format; /healthz answers without a key.
func TestMetricsAndHealth(t *testing.T) {
	a := newAPI(t, inProcess, script(t, "support-triage"), nil, serve.Options{APIKeys: []string{"k"}})
	resp := a.post(t, "/api/agents/support-triage/execute", map[string]any{"type": "start", "input": map[string]any{"TICKET": "Lost"}})
	_, _, _ = readStream(t, resp.Body)
	resp = a.do(t, http.MethodGet, "/metrics", nil, nil)
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(data)
	for _, line := range []string{
		"octrun_runs_started_total 1",
		`octrun_runs_finished_total{outcome="completed"} 1`,
		"octrun_runs_in_flight 0",
		"octrun_tool_calls_total 1",
		`octrun_http_request_duration_seconds_count{route="/api/agents/{agentId}/execute"} 1`,
	} {
		assert.Contains(t, text, line+"\n")
	}
	assert.NotContains(t, text, "octrun_model_input_tokens_total 0\n", "the scripted model counts tokens")

	b := *a
	b.key = ""
	resp = b.do(t, http.MethodGet, "/healthz", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp = b.do(t, http.MethodGet, "/metrics", nil, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// Drain lets running executions finish and refuses new ones with 503;
// CancelRuns ends the rest as cancelled runs.
func TestDrainAndCancel(t *testing.T) {
	slow := &llm.Script{Responses: []llm.ScriptResponse{{Text: "one two three four five", Fault: llm.Fault{Delay: 60 * time.Millisecond}}}}
	a := newAPI(t, inProcess, slow, nil, serve.Options{})
	first := a.post(t, "/api/agents/title-generator/execute", map[string]any{"type": "start", "input": map[string]any{"SUMMARY": "x"}})
	drained := make(chan bool)
	go func() { drained <- a.srv.Drain(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	refused := a.post(t, "/api/agents/title-generator/execute", map[string]any{"type": "start", "input": map[string]any{"SUMMARY": "y"}})
	assert.Equal(t, http.StatusServiceUnavailable, refused.StatusCode)
	evs, done, _ := readStream(t, first.Body)
	assert.True(t, done)
	assert.Equal(t, "usage", evs[len(evs)-1].kind, "the running execution finished")
	assert.True(t, <-drained)

	long := &llm.Script{Responses: []llm.ScriptResponse{{Text: strings.Repeat("wave ", 200), Fault: llm.Fault{Delay: 50 * time.Millisecond}}}}
	b := newAPI(t, inProcess, long, nil, serve.Options{})
	run := b.post(t, "/api/agents/title-generator/execute", map[string]any{"type": "start", "input": map[string]any{"SUMMARY": "x"}})
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.False(t, b.srv.Drain(ctx), "the long run did not end in the grace period")
	assert.True(t, b.srv.CancelRuns(context.Background()))
	evs, done, _ = readStream(t, run.Body)
	assert.True(t, done)
	assertCancelled(t, evs)
}

// browserAgent is an agent whose thread lists an MCP server declared
// without a connection: the caller's.
const browserAgent = `mcpServers:
  browser:
    description: The user's browser
    source: consumer
variables:
  ANSWER: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    mcpServers: [browser]
    maxSteps: 3
  Answer:
    block: next-message
    output: ANSWER
output: ANSWER
`

var browserScript = &llm.Script{Responses: []llm.ScriptResponse{
	{ToolCalls: []llm.ToolCall{{Name: "browser__title", Arguments: `{}`}}},
	{Text: "The page is Tides."},
}}

// dynamicStart is a start request declaring the caller's tools.
var dynamicStart = map[string]any{"type": "start", "input": map[string]any{},
	"dynamicToolSchemas": []any{
		map[string]any{"name": "browser__title", "description": "The page's title", "inputSchema": map[string]any{"type": "object", "properties": map[string]any{}}},
		map[string]any{"name": "other__thing", "description": "Not the browser's", "inputSchema": map[string]any{"type": "object"}},
	}}

// Tools the caller declares in dynamicToolSchemas serve a thread that
// lists an MCP server declared without a connection: a call of one pauses
// for the caller, and its result reaches the model.
func TestDynamicToolSchemas(t *testing.T) {
	dir := t.TempDir()
	writeAgent(t, dir, "browser-helper", browserAgent)
	agents := loadDir(t, dir)
	forEach(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, browserScript, nil, serve.Options{Agents: agents})
		c := sdk{a: a, schemas: dynamicStart["dynamicToolSchemas"],
			handlers: map[string]func(map[string]any) any{"browser__title": func(map[string]any) any { return "Tides" }}}
		run := c.generate(t, "browser-helper", nil)
		assert.Equal(t, "The page is Tides.", run.output)
		assert.Equal(t, 2, run.legs, "the call paused the run for the caller")
	})
}

// The model is offered exactly the caller's tools of the server's
// namespace, and reads the caller's result.
func TestDynamicToolsOffered(t *testing.T) {
	dir := t.TempDir()
	writeAgent(t, dir, "browser-helper", browserAgent)
	model := llm.NewScripted(browserScript)
	a := newAPI(t, nil, nil, nil, serve.Options{Agents: loadDir(t, dir), Runner: &serve.InProcess{Model: func(int) llm.Client { return model }}})
	resp := a.post(t, "/api/agents/browser-helper/execute", dynamicStart)
	evs, _, _ := readStream(t, resp.Body)
	require.Equal(t, "tool-request", evs[len(evs)-2].kind)
	call := field(t, evs[len(evs)-2].data, "toolCalls").([]any)[0].(map[string]any)
	assert.Equal(t, "browser__title", call["toolName"])
	reqs := model.Requests()
	require.Len(t, reqs, 1)
	require.Len(t, reqs[0].Tools, 1)
	assert.Equal(t, "browser__title", reqs[0].Tools[0].Name)

	id := field(t, evs[0].data, "executionId")
	resp = a.post(t, "/api/agents/browser-helper/execute", map[string]any{"type": "continue", "executionId": id,
		"toolResults": []any{map[string]any{"toolCallId": call["toolCallId"], "result": "Tides"}}})
	evs, _, _ = readStream(t, resp.Body)
	assert.Equal(t, "The page is Tides.", field(t, evs[len(evs)-3].data, "output"))
	last := model.Requests()[1].Messages
	assert.Equal(t, "Tides", last[len(last)-1].Content)
}

// flakyRunner refuses the first continue, as a runner does whose store
// cannot be claimed or whose Temporal update failed before the run went
// on.
type flakyRunner struct {
	serve.Runner
	refused atomic.Bool
}

func (f *flakyRunner) Continue(ctx context.Context, p *protocol.Protocol, results []events.ToolResult, leg serve.Leg) (*octrt.Result, error) {
	if f.refused.CompareAndSwap(false, true) {
		return nil, &octrt.Error{Type: events.ErrorTypeValidation, Refused: true, ExecutionID: leg.ExecutionID, Message: "the store is busy"}
	}
	return f.Runner.Continue(ctx, p, results, leg)
}

// A continue the runner turns away before the run goes on leaves the
// execution waiting for the same calls: its stream says why, and the
// same continue succeeds when sent again.
func TestRefusedContinueKeepsTheExecutionWaiting(t *testing.T) {
	s := script(t, "trip-planner")
	runner := &flakyRunner{Runner: inProcess(t, nil, s, nil)}
	a := newAPI(t, nil, s, nil, serve.Options{Runner: runner})
	resp := a.post(t, "/api/agents/trip-planner/execute", map[string]any{"type": "start", "input": map[string]any{}})
	evs, _, _ := readStream(t, resp.Body)
	id := field(t, evs[0].data, "executionId")
	call := field(t, evs[len(evs)-2].data, "toolCalls").([]any)[0].(map[string]any)
	cont := map[string]any{"type": "continue", "executionId": id, "toolResults": []any{map[string]any{"toolCallId": call["toolCallId"], "result": "Brest"}}}

	resp = a.post(t, "/api/agents/trip-planner/execute", cont)
	evs, done, _ := readStream(t, resp.Body)
	assert.True(t, done)
	require.Equal(t, []string{"error", "finish"}, kinds(evs))
	assert.Equal(t, "validation_error", field(t, evs[0].data, "errorType"))
	assert.Equal(t, "the store is busy", field(t, evs[0].data, "message"))

	resp = a.post(t, "/api/agents/trip-planner/execute", cont)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the execution still waits")
	evs, _, _ = readStream(t, resp.Body)
	assert.Equal(t, "start", evs[0].kind)
	assert.Equal(t, "tool-request", evs[len(evs)-2].kind, "the run went on to its second pause")
}

// Ended executions are forgotten after the retention and paused ones
// after theirs, with the paused run's snapshot in the runner's store,
// even when only starts arrive.
func TestExecutionsAreForgotten(t *testing.T) {
	store := octrt.NewMemoryStore()
	s := script(t, "trip-planner")
	runner := &serve.InProcess{Model: func(first int) llm.Client { return llm.NewScriptedFrom(s, first) }, Tools: withScripted(s, nil), Store: store}
	a := newAPI(t, nil, s, nil, serve.Options{Runner: runner, Retention: 20 * time.Millisecond, PausedRetention: time.Second})
	start := func(agent string, input map[string]any) string {
		resp := a.post(t, "/api/agents/"+agent+"/execute", map[string]any{"type": "start", "input": input})
		evs, _, _ := readStream(t, resp.Body)
		return field(t, evs[0].data, "executionId").(string)
	}
	paused := start("trip-planner", map[string]any{})
	_, err := store.Load(t.Context(), paused)
	require.NoError(t, err, "the paused run's snapshot is kept")
	ended := start("title-generator", map[string]any{"SUMMARY": "x"})

	known := func(id string) bool {
		return a.do(t, http.MethodGet, "/api/executions/"+id+"/events", nil, nil).StatusCode == http.StatusOK
	}
	time.Sleep(30 * time.Millisecond)
	start("title-generator", map[string]any{"SUMMARY": "y"})
	assert.False(t, known(ended), "an ended execution is forgotten after the retention")
	assert.True(t, known(paused), "a paused one waits longer")
	time.Sleep(time.Second)
	start("title-generator", map[string]any{"SUMMARY": "z"})
	assert.False(t, known(paused), "and is forgotten after its own retention")
	_, err = store.Load(t.Context(), paused)
	assert.ErrorIs(t, err, octrt.ErrNotFound, "with its snapshot")
}

// A large event after a quiet spell longer than the write timeout still
// goes out: each batch gets a fresh write deadline, not the one of the
// last flush.
func TestLargeEventAfterAQuietSpell(t *testing.T) {
	s := &llm.Script{Responses: []llm.ScriptResponse{
		{ToolCalls: []llm.ToolCall{{Name: "lookup-order", Arguments: `{"orderId":"A-1"}`}}},
		{Text: "done"},
		{Text: "a summary"},
		{Text: `{"category": "shipping", "priority": "low", "summary": "s"}`},
	}}
	slowBig := map[string]octrt.ToolHandler{"lookup-order": func(context.Context, map[string]any) (any, error) {
		time.Sleep(600 * time.Millisecond)
		return strings.Repeat("x", 40<<10), nil
	}}
	a := newAPI(t, inProcess, s, slowBig, serve.Options{Heartbeat: 5 * time.Second, WriteTimeout: 200 * time.Millisecond})
	resp := a.post(t, "/api/agents/support-triage/execute", map[string]any{"type": "start", "input": map[string]any{"TICKET": "Lost"}})
	evs, done, _ := readStream(t, resp.Body)
	assert.True(t, done, "the stream reached its end")
	assert.Equal(t, "usage", evs[len(evs)-1].kind)
}
