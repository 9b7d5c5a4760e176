package runtime_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/runtime"
)

// idlessClient streams a call of ask-user without an id, before its text,
// then answers with text.
type idlessClient struct {
	calls    int
	requests []llm.Request
}

func (c *idlessClient) Generate(_ context.Context, req llm.Request, onDelta func(llm.Delta) error) (*llm.Response, error) {
	c.calls++
	c.requests = append(c.requests, req)
	if c.calls > 1 {
		_ = onDelta(llm.Delta{Kind: llm.TextDelta, Text: "Brest it is."})
		return &llm.Response{Text: "Brest it is.", FinishReason: "stop"}, nil
	}
	args := `{"question":"Which city?"}`
	for _, d := range []llm.Delta{
		{Kind: llm.ToolCallStart, ToolIndex: 0, ToolName: "ask-user"},
		{Kind: llm.ToolCallArgs, ToolIndex: 0, ToolName: "ask-user", Text: args},
		{Kind: llm.TextDelta, Text: "Let me ask."},
	} {
		if err := onDelta(d); err != nil {
			return nil, err
		}
	}
	return &llm.Response{Text: "Let me ask.", ToolCalls: []llm.ToolCall{{Name: "ask-user", Arguments: args}}, FinishReason: "tool-calls"}, nil
}

// A model that sends a tool call without an id: the id octrun gives it is
// recorded with the generation, so the continued run hands the caller's
// result to the model under the same id, and nothing is lost.
func TestContinueAfterToolCallWithoutID(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, &idlessClient{})
	require.Len(t, pe.Calls, 1)
	id := pe.Calls[0].ToolCallID
	assert.Regexp(t, `^exec_[0-9a-f]+-call\d+$`, id)

	client := &idlessClient{calls: 1}
	var got events.Collector
	res, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: id, Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(client), runtime.WithStore(store), runtime.WithEventSink(got.Send))
	require.NoError(t, err)
	assert.Equal(t, "Brest it is.", res.Output)
	require.Len(t, client.requests, 1, "the first generation is replayed from the journal")
	msgs := client.requests[0].Messages
	assert.Equal(t, []llm.ToolCall{{ID: id, Name: "ask-user", Arguments: `{"question":"Which city?"}`}}, msgs[len(msgs)-2].ToolCalls)
	assert.Equal(t, llm.Message{Role: llm.RoleTool, ToolCallID: id, Content: "Brest"}, msgs[len(msgs)-1])
	var outputs []events.ToolOutputAvailable
	for _, ev := range got.Events() {
		if o, ok := ev.(events.ToolOutputAvailable); ok {
			outputs = append(outputs, o)
		}
	}
	assert.Equal(t, []events.ToolOutputAvailable{{ToolCallID: id, Output: json.RawMessage(`"Brest"`)}}, outputs)
}

// editSnapshot rewrites a stored snapshot with edit.
func editSnapshot(t *testing.T, store runtime.DirStore, id string, edit func(s *runtime.Snapshot)) {
	t.Helper()
	path := filepath.Join(store.Dir, id+".json")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var snap runtime.Snapshot
	require.NoError(t, json.Unmarshal(data, &snap))
	edit(&snap)
	data, err = json.Marshal(&snap)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

// A replay that does not ask for the effects the journal recorded fails
// the run with the divergence error, naming the step and the effect; it
// never goes on with results that belong to another run.
func TestReplayDivergence(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(s *runtime.Snapshot)
		reason string
	}{
		{"another request", func(s *runtime.Snapshot) { s.Journal.Entries[0].Hash = "0000" }, "its request differs from the recorded one"},
		{"another kind", func(s *runtime.Snapshot) { s.Journal.Entries[0].Kind = effect.KindTool }, "a tool effect was recorded under this key"},
		{"an effect not recorded", func(s *runtime.Snapshot) { s.Journal.Entries[0].Key.ID = "elsewhere#1" }, "it was never recorded, while 3 recorded effect(s) were never asked for, the first elsewhere#1 (generate)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := pausingAgent(t)
			store := runtime.DirStore{Dir: t.TempDir()}
			pe := pause(t, dir, store, llm.NewScripted(askScript))
			editSnapshot(t, store, pe.ExecutionID, tc.edit)
			var got events.Collector
			_, err := runtime.Continue(context.Background(), pe.ExecutionID,
				[]events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}},
				runtime.WithLLM(llm.NewScripted(askScript)), runtime.WithStore(store), runtime.WithEventSink(got.Send))
			var diverged *effect.DivergedError
			require.ErrorAs(t, err, &diverged)
			assert.Contains(t, err.Error(), `replay diverged at step 2 (block "Answer"), effect `)
			assert.Contains(t, err.Error(), tc.reason)
			var re *runtime.Error
			require.ErrorAs(t, err, &re)
			assert.Equal(t, events.ErrorTypeExecution, re.Type)
			evs := got.Events()
			require.GreaterOrEqual(t, len(evs), 4)
			assert.Equal(t, "start", evs[0].EventType())
			assert.Equal(t, []string{"worker-result", "error", "finish", "usage"}, []string{
				evs[len(evs)-4].EventType(), evs[len(evs)-3].EventType(), evs[len(evs)-2].EventType(), evs[len(evs)-1].EventType()})
		})
	}
}

// An old snapshot without a format version, or one of an unknown
// version, is refused with a message, never misread.
func TestSnapshotVersionIsChecked(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	for version, want := range map[int]string{
		0: "written by an older octrun, before snapshots had a format version",
		9: "the snapshot has format version 9 and this octrun reads version 2",
	} {
		editSnapshot(t, store, pe.ExecutionID, func(s *runtime.Snapshot) { s.Version = version })
		_, err := runtime.Continue(context.Background(), pe.ExecutionID, nil, runtime.WithStore(store))
		assert.ErrorContains(t, err, want)
	}
}

// A replay that ends while recorded effects were never asked for fails,
// and its worker-result says so instead of carrying an output.
func TestReplayThatEndsEarlyDiverges(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "settings.json", `{"slug": "approver", "name": "Approver", "format": "worker"}`)
	writeFile(t, dir, "protocol.yaml", `tools:
  approve:
    description: Ask for approval
variables:
  APPROVAL: { type: unknown }
steps:
  Approve:
    block: tool-call
    tool: approve
    output: APPROVAL
output: APPROVAL
`)
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, llm.NewScripted(&llm.Script{}))
	editSnapshot(t, store, pe.ExecutionID, func(s *runtime.Snapshot) {
		extra := s.Journal.Entries[0]
		extra.Key.ID = pe.ExecutionID + "#99"
		s.Journal.Entries = append(s.Journal.Entries, extra)
	})
	var got events.Collector
	_, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: pe.Calls[0].ToolCallID, Result: json.RawMessage(`true`)}},
		runtime.WithStore(store), runtime.WithEventSink(got.Send))
	var diverged *effect.DivergedError
	require.ErrorAs(t, err, &diverged)
	assert.Contains(t, err.Error(), "the run ended without asking for it (1 recorded effect(s) never asked for)")
	var result events.WorkerResult
	for _, ev := range got.Events() {
		if r, ok := ev.(events.WorkerResult); ok {
			result = r
		}
	}
	assert.Nil(t, result.Output, "no output from a diverged replay")
	assert.Contains(t, result.Error, "replay diverged")
}

// A continued leg that fails keeps the paused run: it can be continued
// again, and is gone once a leg finishes.
func TestFailedContinueKeepsThePausedRun(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	results := []events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}}

	overloaded := &llm.Script{Responses: []llm.ScriptResponse{{Error: &llm.Error{Type: llm.TypeProviderOverloaded, Message: "busy", StatusCode: 503, Retryable: true}}}}
	_, err := runtime.Continue(context.Background(), pe.ExecutionID, results, runtime.WithLLM(llm.NewScripted(overloaded)), runtime.WithStore(store))
	var re *runtime.Error
	require.ErrorAs(t, err, &re)
	assert.Equal(t, events.ErrorTypeProviderOverloaded, re.Type)
	_, err = store.Load(context.Background(), pe.ExecutionID)
	require.NoError(t, err, "the paused run is still there")

	res, err := runtime.Continue(context.Background(), pe.ExecutionID, results,
		runtime.WithLLM(llm.NewScripted(&llm.Script{Responses: askScript.Responses[1:]})), runtime.WithStore(store))
	require.NoError(t, err)
	assert.Equal(t, "Brest it is.", res.Output)
	_, err = store.Load(context.Background(), pe.ExecutionID)
	assert.ErrorIs(t, err, runtime.ErrNotFound, "a finished run leaves nothing behind")
}

// A generation the backup model answered made two model calls: a paused
// run counts both, so a scripted client continuing it skips both answers.
func TestModelCallsCountTheBackup(t *testing.T) {
	dir := pausingAgent(t)
	protocolYAML, err := os.ReadFile(filepath.Join(dir, "protocol.yaml"))
	require.NoError(t, err)
	writeFile(t, dir, "protocol.yaml", strings.Replace(string(protocolYAML), "    model: openai/gpt-4o-mini\n", "    model: openai/gpt-4o-mini\n    backupModel: openai/gpt-4o\n", 1))
	script := &llm.Script{Responses: append([]llm.ScriptResponse{
		{Error: &llm.Error{Type: llm.TypeRateLimit, Message: "slow down", StatusCode: 429, Retryable: true}},
	}, askScript.Responses...)}
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, llm.NewScripted(script))
	snap, err := store.Load(context.Background(), pe.ExecutionID)
	require.NoError(t, err)
	assert.Equal(t, 2, snap.ModelCalls())

	client := llm.NewScriptedFrom(script, snap.ModelCalls())
	res, err := runtime.Continue(context.Background(), pe.ExecutionID, []events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(client), runtime.WithStore(store))
	require.NoError(t, err)
	assert.Equal(t, "Brest it is.", res.Output)
}
