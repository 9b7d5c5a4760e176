package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// streamed reads the events the command wrote on standard output in the
// format of --events (jsonl, or sse, which must end with [DONE]).
func streamed(t *testing.T, format, out string) []events.Event {
	t.Helper()
	var evs []events.Event
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if format == "sse" {
		var data []string
		for _, l := range lines {
			if d, ok := strings.CutPrefix(l, "data: "); ok {
				data = append(data, d)
			}
		}
		require.NotEmpty(t, data, out)
		require.Equal(t, "[DONE]", data[len(data)-1], "an SSE stream ends with [DONE]")
		lines = data[:len(data)-1]
	}
	for _, l := range lines {
		if l == "" {
			continue
		}
		ev, err := events.Parse([]byte(l))
		require.NoError(t, err, l)
		evs = append(evs, ev)
	}
	return evs
}

// writeFiles writes files (by slash-separated path) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
}

// With --events, a run refused before it starts (invalid, missing,
// unknown or out-of-enum input; an unknown execution id on continue)
// still tells the consumer of the stream why: an error event of
// validation_error listing every problem, then finish. The exit code is 2
// (rule C3).
func TestRefusalIsAnErrorEvent(t *testing.T) {
	work := t.TempDir()
	agent := copyAgent(t, "title-generator", work)
	broken := copyAgent(t, "title-generator", filepath.Join(work, "broken"))
	require.NoError(t, os.Remove(filepath.Join(broken, "prompts", "title-system.md")))
	trip := copyAgent(t, "trip-planner", work)
	t.Chdir(work)
	writeFiles(t, work, map[string]string{
		"misspelt.json": `{"SUMARY": "tides", "STYLE": "loud"}`,
		"wrong.json":    `{"SUMMARY": 3}`,
	})
	mock := filepath.Join(agent, "mock.yaml")
	code, out, errOut := octrunIn(t, "", trip, "--mock", filepath.Join(trip, "mock.yaml"))
	require.Equal(t, exitPaused, code, errOut)
	var paused pending
	require.NoError(t, json.Unmarshal([]byte(out), &paused), out)
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"missing", []string{agent, "--mock", mock}, []string{"invalid input:", "missing input SUMMARY (string)"}},
		// The misspelt SUMARY is only a warning (rule D18); the missing
		// SUMMARY and the value out of the enum refuse the run.
		{"missing and out of enum", []string{agent, "--mock", mock, "--input-file", "misspelt.json"},
			[]string{"missing input SUMMARY (string)", `"loud"`}},
		{"wrong type", []string{agent, "--mock", mock, "--input-file", "wrong.json"}, []string{"input SUMMARY", "string"}},
		{"not NAME=VALUE", []string{agent, "--mock", mock, "-i", "SUMMARY"}, []string{"write NAME=VALUE"}},
		{"unknown execution id", []string{"continue", "exec_nope", "--results", "-"}, []string{"exec_nope"}},
		{"results that answer nothing", []string{"continue", paused.ExecutionID, "--results", "-"},
			[]string{"no result for the pending tool call " + paused.ToolCalls[0].ToolCallID}},
		{"invalid protocol", []string{broken, "--mock", mock, "-i", "SUMMARY=tides"},
			[]string{"is not a valid worker; nothing was run", `prompt "title-system" not found`}},
	}
	for _, tc := range cases {
		for _, format := range []string{"jsonl", "sse"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				code, out, errOut := octrunIn(t, "[]", append(tc.args, "--events", format)...)
				assert.Equal(t, exitUsage, code, errOut)
				evs := streamed(t, format, out)
				require.Len(t, evs, 2, out)
				failure, ok := evs[0].(events.Error)
				require.True(t, ok, "the first event is the error: %s", out)
				assert.Equal(t, events.ErrorTypeValidation, failure.ErrorType)
				assert.False(t, failure.Retryable)
				for _, w := range tc.want {
					assert.Contains(t, failure.Message, w)
					assert.Contains(t, errOut, w, "standard error says it too")
				}
				assert.NotContains(t, errOut, "the worker failed")
				assert.Equal(t, events.Finish{FinishReason: events.FinishError}, evs[1])
			})
		}
	}

	// Without --events, nothing is written on standard output.
	code, out, errOut = octrunIn(t, "", agent, "--mock", mock)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "missing input SUMMARY")
}

// A provider that refuses the call with 400 ("model does not exist")
// fails a run that had started: exit 1, not the 2 of "nothing was run"
// (rule C3), whatever the errorType (here validation_error).
func TestProviderRefusalWhileRunningExits1(t *testing.T) {
	refusal := llm.ScriptResponse{Error: &llm.Error{StatusCode: 400, Message: "The model `claude-nope` does not exist"}}
	server := fakeopenai.New(&llm.Script{Responses: []llm.ScriptResponse{refusal, refusal}})
	defer server.Close()
	work := t.TempDir()
	agent := copyAgent(t, "title-generator", work)

	code, out, errOut := octrunIn(t, "", agent, "-i", "SUMMARY=tides", "--llm-base-url", server.URL(), "--events", "jsonl")
	assert.Equal(t, exitFailed, code, errOut)
	evs := streamed(t, "jsonl", out)
	require.NotEmpty(t, evs)
	assert.IsType(t, events.Start{}, evs[0], "the run had started")
	var failure *events.Error
	for _, ev := range evs {
		if e, ok := ev.(events.Error); ok {
			failure = &e
		}
	}
	require.NotNil(t, failure, out)
	assert.Equal(t, events.ErrorTypeValidation, failure.ErrorType)
	assert.Contains(t, failure.Message, "does not exist")
	assert.Contains(t, errOut, "octrun: the worker failed")

	code, _, errOut = octrunIn(t, "", agent, "-i", "SUMMARY=tides", "--llm-base-url", server.URL())
	assert.Equal(t, exitFailed, code, errOut)
	assert.Contains(t, errOut, "does not exist")
}

// A nested worker that receives a value of the wrong type at run time
// fails the run with validation_error once it is running: exit 1 (rule
// C3).
func TestNestedInputErrorWhileRunningExits1(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"caller/settings.json": `{"slug": "caller", "name": "Caller", "format": "worker"}`,
		"caller/protocol.yaml": `
workers:
  counter: {}
variables:
  COUNT: { type: unknown }
  RESULT: { type: unknown }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
  Guess:
    block: next-message
    output: COUNT
  Count:
    block: run-worker
    worker: counter
    input:
      N: COUNT
    output: RESULT
output: RESULT
`,
		"caller/prompts/system.md": "Guess a number.\n",
		"counter/settings.json":    `{"slug": "counter", "name": "Counter", "format": "worker"}`,
		"counter/protocol.yaml":    "input:\n  N: { type: integer }\nvariables:\n  M: { type: integer }\nsteps: {}\noutput: M\n",
		"mock.yaml":                "responses:\n  - text: many\n",
	})
	code, out, errOut := octrunIn(t, "", filepath.Join(work, "caller"), "--mock", filepath.Join(work, "mock.yaml"), "--events", "jsonl")
	assert.Equal(t, exitFailed, code, errOut)
	assert.Contains(t, out, `"errorType":"validation_error"`)
	assert.Contains(t, errOut, "octrun: the worker failed")
}

// A malformed --llm-base-url is a usage error before the run (exit 2),
// naming the flag and how to write it, instead of a provider error retried
// for seconds.
func TestMalformedLLMBaseURLIsUsageError(t *testing.T) {
	work := t.TempDir()
	agent := copyAgent(t, "title-generator", work)
	for _, tc := range []struct{ url, want string }{
		{"localhost:4000/v1", "http://localhost:4000/v1"},
		{"ftp://example.com/v1", "http or https"},
		{"http://", "host"},
		{"http://exa mple.com", "--llm-base-url"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			start := time.Now()
			code, out, errOut := octrunIn(t, "", agent, "-i", "SUMMARY=tides", "--llm-base-url", tc.url)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "--llm-base-url")
			assert.Contains(t, errOut, tc.want)
			assert.NotContains(t, errOut, "the worker failed")
			assert.Less(t, time.Since(start), time.Second, "no call is tried")
		})
	}

	// The same for the commands that serve agents, before they start.
	examples := filepath.Join("..", "..", "examples")
	for _, args := range [][]string{
		{"serve", "--agents", examples, "--addr", "127.0.0.1:0"},
		{"worker", "--agents", examples, "--temporal", "127.0.0.1:1"},
	} {
		code, _, errOut := octrunIn(t, "", append(args, "--llm-base-url", "localhost:4000/v1")...)
		assert.Equal(t, exitUsage, code, errOut)
		assert.Contains(t, errOut, `--llm-base-url "localhost:4000/v1" has no http:// or https://: write http://localhost:4000/v1 or https://localhost:4000/v1`)
	}

	// From the environment, the message names the variable.
	t.Setenv(llm.EnvBaseURL, "localhost:4000/v1")
	code, _, errOut := octrunIn(t, "", agent, "-i", "SUMMARY=tides")
	assert.Equal(t, exitUsage, code, errOut)
	assert.Contains(t, errOut, llm.EnvBaseURL)
}

// On Temporal the worker processes execute a run, so the flags that say
// how to execute it are refused on the submitter instead of being
// silently ignored (nothing is submitted: the address is never dialled).
func TestExecutionFlagsRefusedWithTemporal(t *testing.T) {
	work := t.TempDir()
	agent := copyAgent(t, "title-generator", work)
	for _, flagArgs := range [][]string{{"--mock", "mock.yaml"}, {"--tool", "x=echo"}, {"--mcp-config", "mcp.json"}, {"--llm-base-url", "http://127.0.0.1:1/v1"}} {
		t.Run(flagArgs[0], func(t *testing.T) {
			args := append([]string{agent, "-i", "SUMMARY=tides", "--temporal", "127.0.0.1:1"}, flagArgs...)
			code, _, errOut := octrunIn(t, "", args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Contains(t, errOut, flagArgs[0]+" does nothing with --temporal")
			assert.Contains(t, errOut, "octrun worker")
		})
	}
}
