package temporal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"golang.org/x/tools/txtar"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/goldenrun"
	"github.com/octrun/octrun/internal/servicetest"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/relay"
	"github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/runtime/temporal"
)

func TestMain(m *testing.M) {
	if os.Getenv("OCTRUN_BENCH_WORKER") != "" {
		os.Exit(serveBenchWorker())
	}
	code := m.Run()
	servicetest.Stop()
	os.Exit(code)
}

// env is a Temporal client and a relay of the test's own.
type env struct {
	c     client.Client
	relay *relay.Relay
	// prefix is the relay's key prefix.
	prefix string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	r, prefix := servicetest.Relay(t)
	return &env{c: servicetest.TemporalClient(t), relay: r, prefix: prefix}
}

// worker starts a worker on its own task queue and returns the queue.
func (e *env) worker(t testing.TB, agents []*protocol.Protocol, opts temporal.WorkerOptions) string {
	t.Helper()
	if opts.TaskQueue == "" {
		opts.TaskQueue = "q-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	}
	if opts.Relay == nil {
		opts.Relay = e.relay
	}
	w, err := temporal.NewWorker(e.c, agents, opts)
	require.NoError(t, err)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return opts.TaskQueue
}

// goldenCase is a run archive of testdata/runs, written out.
type goldenCase struct {
	p       *protocol.Protocol
	input   map[string]any
	script  *llm.Script
	options []string
	results map[string][]byte
	want    []string
	result  string
}

func readCase(t *testing.T, file string) goldenCase {
	ar, err := txtar.ParseFile(file)
	require.NoError(t, err)
	dir := t.TempDir()
	agent := dir
	gc := goldenCase{input: map[string]any{}, results: map[string][]byte{}}
	for _, f := range ar.Files {
		switch {
		case f.Name == "want-events.jsonl":
			gc.want = strings.Split(strings.TrimSpace(string(f.Data)), "\n")
		case f.Name == "want-result":
			gc.result = string(f.Data)
		case strings.HasPrefix(f.Name, "want-"):
		case f.Name == "input.json":
			dec := json.NewDecoder(bytes.NewReader(f.Data))
			dec.UseNumber()
			require.NoError(t, dec.Decode(&gc.input))
		case f.Name == "mock.yaml":
			gc.script, err = llm.ParseScript(f.Data)
			require.NoError(t, err)
		case f.Name == "options":
			gc.options = strings.Split(strings.TrimSpace(string(f.Data)), "\n")
		case strings.HasPrefix(f.Name, "results-"):
			gc.results[f.Name] = f.Data
		default:
			if strings.HasPrefix(f.Name, "main/") {
				agent = filepath.Join(dir, "main")
			}
			path := filepath.Join(dir, filepath.FromSlash(f.Name))
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, f.Data, 0o644))
		}
	}
	gc.p, err = protocol.Load(agent)
	require.NoError(t, err)
	return gc
}

// Every golden run that a worker process can serve gives, through
// Temporal, exactly the events and the result it gives in process: the
// same interpreter, its effects as activities, its nested workers as child
// workflows, its pauses as durable waits continued by an update.
func TestGoldenRunsOnTemporal(t *testing.T) {
	e := newEnv(t)
	files, err := filepath.Glob("../../testdata/runs/*.txtar")
	require.NoError(t, err)
	ran := 0
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			gc := readCase(t, file)
			got, outcome := runGolden(t, e, gc, "exec-"+name)
			assert.Equal(t, gc.want, got)
			assert.Equal(t, gc.result, outcome)
			ran++
		})
	}
	assert.Greater(t, ran, 40, "most golden runs run on Temporal")
}

// runGolden runs a golden case through a worker of its own under the
// execution id id, continuing its pauses with the case's results, and
// returns its events and outcome with id written as the golden "exec".
func runGolden(t *testing.T, e *env, gc goldenCase, id string) ([]string, string) {
	t.Helper()
	tools := map[string]runtime.ToolHandler{}
	for name, st := range gc.script.Tools {
		tools[name] = func(context.Context, map[string]any) (any, error) {
			if st.Error != "" {
				return nil, errors.New(st.Error)
			}
			return st.Result, nil
		}
	}
	all := false
	for _, o := range gc.options {
		verb, arg, _ := strings.Cut(o, " ")
		switch verb {
		case "all-events":
			all = true
		case "panic":
			tools[arg] = func(context.Context, map[string]any) (any, error) { panic("the tool fell over") }
		default:
			t.Skipf("option %q is tested on its own", o)
		}
	}
	if len(gc.p.MCPServers) > 0 {
		t.Skip("MCP servers are tested on their own")
	}
	queue := e.worker(t, []*protocol.Protocol{gc.p}, temporal.WorkerOptions{LLM: llm.NewScripted(gc.script), Tools: tools})
	sub := temporal.NewClient(e.c, temporal.ClientOptions{TaskQueue: queue, Relay: e.relay})
	var got []string
	sink := func(ev events.Event) error {
		data, err := ev.MarshalJSON()
		require.NoError(t, err)
		got = append(got, strings.ReplaceAll(string(data), id, "exec"))
		return nil
	}
	ctx := context.Background()
	res, err := sub.Run(ctx, gc.p, gc.input, temporal.RunOptions{ExecutionID: id, AllEvents: all, Sink: sink})
	var outcome strings.Builder
	for leg := 1; ; leg++ {
		var pause *runtime.PauseError
		if !errors.As(err, &pause) {
			break
		}
		var ids []string
		for _, c := range pause.Calls {
			ids = append(ids, c.ToolName+" "+strings.ReplaceAll(c.ToolCallID, id, "exec"))
		}
		fmt.Fprintf(&outcome, "paused for %s\n", strings.Join(ids, ", "))
		var results []events.ToolResult
		require.NoError(t, json.Unmarshal(gc.results[fmt.Sprintf("results-%d.json", leg)], &results))
		for i := range results {
			results[i].ToolCallID = strings.ReplaceAll(results[i].ToolCallID, "exec", id)
		}
		res, err = sub.Continue(ctx, id, results, temporal.RunOptions{Sink: sink})
	}
	outcome.WriteString(goldenrun.Result(res, err))
	return got, strings.ReplaceAll(outcome.String(), id, "exec")
}
