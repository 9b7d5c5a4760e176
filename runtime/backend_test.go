package runtime_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// A Backend is plain JSON, its tool timeout a Go duration, and reads back
// the same.
func TestBackendJSON(t *testing.T) {
	b := runtime.Backend{
		LLMBaseURL:  "http://127.0.0.1:4000/v1",
		Mock:        "/tmp/mock.yaml",
		Tools:       []runtime.ToolCommand{{Name: "ask-user", Command: `echo '"Brest"'`}, {Name: "approve", Command: "cat"}},
		ToolTimeout: 90 * time.Second,
	}
	data, err := json.Marshal(b)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"llmBaseUrl": "http://127.0.0.1:4000/v1",
		"mock": "/tmp/mock.yaml",
		"tools": [{"name": "ask-user", "command": "echo '\"Brest\"'"}, {"name": "approve", "command": "cat"}],
		"toolTimeout": "1m30s"
	}`, string(data))
	var back runtime.Backend
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, b, back)

	data, err = json.Marshal(runtime.Backend{})
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(data))

	var bad runtime.Backend
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"toolTimeout": "soon"}`), &bad), "toolTimeout:")
	assert.Error(t, json.Unmarshal([]byte(`{"toolTimeout": 5}`), &bad))

	// Within a snapshot, through a store.
	store := runtime.DirStore{Dir: t.TempDir()}
	require.NoError(t, store.Save(context.Background(), &runtime.Snapshot{Version: runtime.SnapshotVersion, ExecutionID: "exec_1", Backend: &b}))
	snap, err := store.Load(context.Background(), "exec_1")
	require.NoError(t, err)
	assert.Equal(t, &b, snap.Backend)
}

func TestParseToolCommand(t *testing.T) {
	tc, err := runtime.ParseToolCommand("approve=echo a=b")
	require.NoError(t, err)
	assert.Equal(t, runtime.ToolCommand{Name: "approve", Command: "echo a=b"}, tc)
	for _, s := range []string{"approve", "=cat", "approve="} {
		_, err := runtime.ParseToolCommand(s)
		assert.EqualError(t, err, "write NAME=COMMAND", s)
	}
}

// writeMock writes a mock script answering like askScript.
func writeMock(t *testing.T, dir string) string {
	writeFile(t, dir, "mock.yaml", `responses:
  - toolCalls:
      - name: ask-user
        arguments: {question: "Which city?"}
  - text: Brest it is.
`)
	return filepath.Join(dir, "mock.yaml")
}

// Options refuses a backend that does not fit the protocol: a tool command
// for an undeclared tool (with a "did you mean"), a mock that does not
// load, a model without its key.
func TestBackendOptionsRefusals(t *testing.T) {
	p, err := protocol.Load(pausingAgent(t))
	require.NoError(t, err)
	mock := writeMock(t, t.TempDir())

	_, err = runtime.Backend{Mock: mock, Tools: []runtime.ToolCommand{{Name: "aks-user", Command: "true"}}}.Options(p, nil, 0)
	var be *runtime.BackendError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, runtime.BackendTools, be.Field)
	assert.Equal(t, "aks-user", be.Tool)
	assert.EqualError(t, err, `tool aks-user: the worker has no tool aks-user (did you mean "ask-user"?); its tools are ask-user`)

	_, err = runtime.Backend{Mock: mock, Tools: []runtime.ToolCommand{{Name: "ask-user"}}}.Options(p, nil, 0)
	assert.EqualError(t, err, "tool ask-user: no command")

	_, err = runtime.Backend{Mock: filepath.Join(t.TempDir(), "none.yaml")}.Options(p, nil, 0)
	require.ErrorAs(t, err, &be)
	assert.Equal(t, runtime.BackendMock, be.Field)
	assert.ErrorContains(t, err, "mock: ")

	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv(llm.EnvBaseURL, "")
	_, err = runtime.Backend{}.Options(p, nil, 0)
	require.ErrorAs(t, err, &be)
	assert.Equal(t, runtime.BackendLLM, be.Field)
	assert.ErrorContains(t, err, "model openai/gpt-4o-mini needs OPENAI_API_KEY")

	_, err = runtime.Backend{LLMBaseURL: "http://127.0.0.1:1/v1"}.Options(p, nil, 0)
	assert.NoError(t, err, "one endpoint for every model needs no provider key")
	t.Setenv("OPENAI_API_KEY", "sk-test")
	_, err = runtime.Backend{Tools: []runtime.ToolCommand{{Name: "ask-user", Command: "true"}}}.Options(p, nil, 0)
	assert.NoError(t, err)
}

// A run given a backend records it in its snapshot when it pauses, the
// mock's path made absolute; the continued run rebuilds the backend from
// the snapshot alone and its mock skips the calls already made.
func TestBackendRecordedInSnapshot(t *testing.T) {
	p, err := protocol.Load(pausingAgent(t))
	require.NoError(t, err)
	work := t.TempDir()
	writeMock(t, work)
	t.Chdir(work)
	ctx := context.Background()
	store := runtime.DirStore{Dir: filepath.Join(work, "state")}

	b := runtime.Backend{Mock: "mock.yaml", ToolTimeout: 5 * time.Second}
	opts, err := b.Options(p, nil, 0)
	require.NoError(t, err)
	_, err = runtime.Run(ctx, p, nil, append(opts, runtime.WithStore(store))...)
	var pe *runtime.PauseError
	require.ErrorAs(t, err, &pe)

	snap, err := store.Load(ctx, pe.ExecutionID)
	require.NoError(t, err)
	require.NotNil(t, snap.Backend)
	assert.Equal(t, runtime.Backend{Mock: filepath.Join(work, "mock.yaml"), ToolTimeout: 5 * time.Second}, *snap.Backend)
	assert.Equal(t, 1, snap.ModelCalls())

	t.Chdir(t.TempDir()) // the mock is found from anywhere
	opts, err = snap.Backend.Options(p, snap.Input, snap.ModelCalls())
	require.NoError(t, err)
	res, err := runtime.Continue(ctx, pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: pe.Calls[0].ToolCallID, Result: json.RawMessage(`"Brest"`)}},
		append(opts, runtime.WithStore(store))...)
	require.NoError(t, err)
	assert.Equal(t, "Brest it is.", res.Output)
}

// A run without a backend records none, and Continue without WithBackend
// keeps the one the snapshot holds.
func TestBackendOptional(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.NewMemoryStore()
	ctx := context.Background()
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	snap, err := store.Load(ctx, pe.ExecutionID)
	require.NoError(t, err)
	assert.Nil(t, snap.Backend)

	p, err := protocol.Load(dir)
	require.NoError(t, err)
	twice := &llm.Script{Responses: []llm.ScriptResponse{askScript.Responses[0], askScript.Responses[0]}}
	b := runtime.Backend{LLMBaseURL: "http://127.0.0.1:1/v1"}
	_, err = runtime.Run(ctx, p, nil, runtime.WithLLM(llm.NewScripted(twice)), runtime.WithStore(store), runtime.WithBackend(b))
	require.ErrorAs(t, err, &pe)
	_, err = runtime.Continue(ctx, pe.ExecutionID, []events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(llm.NewScripted(twice)), runtime.WithStore(store))
	require.ErrorAs(t, err, &pe, "the model asks again: the run pauses a second time")
	snap, err = store.Load(ctx, pe.ExecutionID)
	require.NoError(t, err)
	assert.Equal(t, &b, snap.Backend)
	assert.Equal(t, 2, snap.ModelCalls())
}
