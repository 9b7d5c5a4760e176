package serve_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events/eventschema"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/serve"
)

// examples loads the agents of the examples folder.
func examples(t testing.TB) []*protocol.Protocol {
	return loadDir(t, "../examples")
}

// script loads an example's mock script.
func script(t testing.TB, example string) *llm.Script {
	t.Helper()
	s, err := llm.LoadScript("../examples/" + example + "/mock.yaml")
	require.NoError(t, err)
	return s
}

// backend makes the Runner of a test: in process, or on Temporal.
type backend func(t testing.TB, agents []*protocol.Protocol, s *llm.Script, tools map[string]runtime.ToolHandler) serve.Runner

// inProcess runs executions in the test process, the model answering
// from s.
func inProcess(t testing.TB, _ []*protocol.Protocol, s *llm.Script, tools map[string]runtime.ToolHandler) serve.Runner {
	return &serve.InProcess{Model: func(first int) llm.Client { return llm.NewScriptedFrom(s, first) }, Tools: withScripted(s, tools)}
}

// withScripted adds the answers of the script's tools section to tools.
func withScripted(s *llm.Script, tools map[string]runtime.ToolHandler) map[string]runtime.ToolHandler {
	all := runtime.ScriptedTools(s)
	maps.Copy(all, tools)
	return all
}

// api is a server under test over real HTTP.
type api struct {
	url, key string
	srv      *serve.Server
	hs       *httptest.Server
}

// newAPI serves the examples over HTTP on 127.0.0.1 with opts (Agents and
// Runner filled in when empty).
func newAPI(t testing.TB, b backend, s *llm.Script, tools map[string]runtime.ToolHandler, opts serve.Options) *api {
	t.Helper()
	if opts.Agents == nil {
		opts.Agents = examples(t)
	}
	if opts.Runner == nil {
		opts.Runner = b(t, opts.Agents, s, tools)
	}
	srv, err := serve.New(opts)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.CancelRuns(ctx)
		hs.Close()
	})
	a := &api{url: hs.URL, srv: srv, hs: hs}
	if len(opts.APIKeys) > 0 {
		a.key = opts.APIKeys[0]
	}
	return a
}

// post sends a JSON body to path.
func (a *api) post(t testing.TB, path string, body any) *http.Response {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	return a.do(t, http.MethodPost, path, bytes.NewReader(data), nil)
}

// do sends a request with the API key, as the SDK does.
func (a *api) do(t testing.TB, method, path string, body io.Reader, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Octavus-Sdk-Version", "4")
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// sseEvent is one server-sent event of a stream.
type sseEvent struct {
	id   string
	data string
	// kind is the event's type ("" for [DONE]).
	kind string
}

// readStream reads a whole event stream: the events, then whether it
// ended with [DONE], and the heartbeats seen.
func readStream(t testing.TB, r io.Reader) (evs []sseEvent, done bool, heartbeats int) {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == ": heartbeat":
			heartbeats++
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case line == "data: [DONE]":
			done = true
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
			var head struct{ Type string }
			require.NoError(t, json.Unmarshal([]byte(cur.data), &head), cur.data)
			cur.kind = head.Type
			checkEvent(t, cur.data)
			evs = append(evs, cur)
			cur = sseEvent{}
		case line == "":
		default:
			t.Errorf("unexpected line in the stream: %q", line)
		}
	}
	return evs, done, heartbeats
}

// field reads a top-level field of an event's JSON.
func field(t testing.TB, data, name string) any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(data), &m))
	return m[name]
}

// sdk plays the Octavus server SDK's part as rule H3 describes it: it
// swallows tool-request and the finish{tool-calls} after it, runs its
// handlers, posts continue, and returns every event it yielded and the
// output of the run's last worker-result.
type sdk struct {
	a        *api
	handlers map[string]func(args map[string]any) any
	// schemas are the dynamicToolSchemas sent on start.
	schemas any
}

type sdkRun struct {
	events      []sseEvent
	output      any
	executionID string
	legs        int
}

func (c sdk) generate(t testing.TB, agent string, input map[string]any) sdkRun {
	t.Helper()
	var run sdkRun
	body := map[string]any{"type": "start", "input": input}
	if c.schemas != nil {
		body["dynamicToolSchemas"] = c.schemas
	}
	for {
		resp := c.a.post(t, "/api/agents/"+agent+"/execute", body)
		require.Equal(t, http.StatusOK, resp.StatusCode, "leg %d", run.legs+1)
		evs, done, _ := readStream(t, resp.Body)
		require.True(t, done, "the leg ends with [DONE]")
		run.legs++
		var pending []map[string]any
		for _, ev := range evs {
			switch ev.kind {
			case "start":
				run.executionID = field(t, ev.data, "executionId").(string)
			case "tool-request":
				for _, c := range field(t, ev.data, "toolCalls").([]any) {
					pending = append(pending, c.(map[string]any))
				}
				continue
			case "finish":
				if field(t, ev.data, "finishReason") == "tool-calls" {
					continue
				}
			case "worker-result":
				if field(t, ev.data, "workerId") == run.executionID {
					run.output = field(t, ev.data, "output")
				}
			}
			run.events = append(run.events, ev)
		}
		if pending == nil {
			return run
		}
		var results []map[string]any
		for _, call := range pending {
			h := c.handlers[call["toolName"].(string)]
			require.NotNil(t, h, "a handler for %v", call["toolName"])
			res := map[string]any{"toolCallId": call["toolCallId"], "toolName": call["toolName"], "result": h(call["args"].(map[string]any))}
			for _, k := range []string{"outputVariable", "blockIndex", "thread", "workerId"} {
				if v, ok := call[k]; ok {
					res[k] = v
				}
			}
			results = append(results, res)
		}
		body = map[string]any{"type": "continue", "executionId": run.executionID, "toolResults": results}
	}
}

// kinds lists the types of events.
func kinds(evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.kind
	}
	return out
}

// errorBody reads an error response's JSON body.
func errorBody(t testing.TB, resp *http.Response) (msg, code string) {
	t.Helper()
	var body struct{ Error, Code string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	return body.Error, body.Code
}

func (e sseEvent) String() string { return fmt.Sprintf("%s %s", e.id, e.data) }

// checkEvent checks an event against the Octavus stream event schema: an
// event that fails it is one the SDK drops without a word.
func checkEvent(t testing.TB, data string) {
	t.Helper()
	if err := eventschema.Validate([]byte(data)); err != nil {
		t.Errorf("event %s: %v", data, err)
	}
}

// writeAgent writes an agent folder slug under dir with protocol text.
func writeAgent(t testing.TB, dir, slug, protocolYAML string) {
	t.Helper()
	files := map[string]string{
		"settings.json":     `{"slug": "` + slug + `", "name": "` + slug + `", "format": "worker"}`,
		"protocol.yaml":     protocolYAML,
		"prompts/system.md": "You help.\n",
	}
	for name, text := range files {
		path := filepath.Join(dir, slug, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
}

// loadDir loads every agent folder of dir.
func loadDir(t testing.TB, dir string) []*protocol.Protocol {
	t.Helper()
	cat, err := protocol.NewCatalogDir(dir)
	require.NoError(t, err)
	var agents []*protocol.Protocol
	for _, slug := range cat.Slugs() {
		p, err := cat.Load(slug)
		require.NoError(t, err)
		agents = append(agents, p)
	}
	return agents
}
