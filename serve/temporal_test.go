package serve_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/internal/servicetest"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/runtime/temporal"
	"github.com/octrun/octrun/serve"
)

func init() { backends["temporal"] = onTemporal }

func TestMain(m *testing.M) {
	code := m.Run()
	servicetest.Stop()
	os.Exit(code)
}

// onTemporal runs executions on the Temporal dev server: a worker of the
// test's own task queue executes them, the model answering from s, and
// their events come through Redis.
func onTemporal(t testing.TB, agents []*protocol.Protocol, s *llm.Script, tools map[string]runtime.ToolHandler) serve.Runner {
	t.Helper()
	c := servicetest.TemporalClient(t)
	r, _ := servicetest.Relay(t)
	queue := "serve-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	w, err := temporal.NewWorker(c, agents, temporal.WorkerOptions{TaskQueue: queue, Relay: r, Tools: withScripted(s, tools),
		LLMPerRun: func(first int) llm.Client { return llm.NewScriptedFrom(s, first) }})
	require.NoError(t, err)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return &serve.OnTemporal{Client: temporal.NewClient(c, temporal.ClientOptions{TaskQueue: queue, Relay: r})}
}

// On Temporal a client that disconnects leaves its run going: it
// re-attaches with GET /api/executions/{id}/events and reads the whole
// run, to its normal end.
func TestDisconnectLeavesTemporalRunsGoing(t *testing.T) {
	slow := &llm.Script{Responses: []llm.ScriptResponse{{Text: strings.Repeat("wave ", 30), Fault: llm.Fault{Delay: 20 * time.Millisecond}}}}
	a := newAPI(t, onTemporal, slow, nil, serve.Options{})
	req, err := http.NewRequest(http.MethodPost, a.url+"/api/agents/title-generator/execute", strings.NewReader(`{"type":"start","input":{"SUMMARY":"x"}}`))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	id := resp.Header.Get("X-Execution-Id")
	require.NoError(t, resp.Body.Close(), "the client goes away at once")

	again := a.do(t, http.MethodGet, "/api/executions/"+id+"/events", nil, nil)
	evs, done, _ := readStream(t, again.Body)
	assert.True(t, done)
	ks := kinds(evs)
	assert.Equal(t, "start", ks[0])
	assert.Equal(t, []string{"worker-result", "finish", "usage"}, ks[len(ks)-3:])
	assert.Nil(t, field(t, evs[len(evs)-3].data, "cancelled"))
	assert.Equal(t, "stop", field(t, evs[len(evs)-2].data, "finishReason"))
}
