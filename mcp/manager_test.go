package mcp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/mcp/internal/testtools"
	"github.com/octrun/octrun/protocol"
)

// serverBin is the testserver program, built once for every test.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "octrun-mcp-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "testserver")
	if runtime.GOOS == "windows" {
		serverBin += ".exe"
	}
	build := exec.Command("go", "build", "-o", serverBin, "./internal/testserver")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// lookup returns a lookup function over env, for WithLookupEnv.
func lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// newManager returns a Manager closed at the end of the test.
func newManager(t *testing.T, configs []mcp.Config, opts ...mcp.Option) *mcp.Manager {
	t.Helper()
	m, err := mcp.New(configs, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// stdio returns the Config of the test server over stdio as namespace calc.
func stdio(args ...string) mcp.Config {
	return mcp.Config{Namespace: "calc", Command: serverBin, Args: args}
}

// pid asks the test server for its process id.
func pid(t *testing.T, m *mcp.Manager) int {
	t.Helper()
	res, err := m.Call(t.Context(), "calc__pid", nil)
	require.NoError(t, err)
	return int(res.(map[string]any)["pid"].(float64))
}

// noLeaks checks that the goroutines started since before have ended.
func noLeaks(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines: %d before, %d now:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestToolsAreNamespaced(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	assert.Equal(t, []string{"calc"}, m.Namespaces())
	tools, err := m.Tools(t.Context(), "calc")
	require.NoError(t, err)
	byName := map[string]mcp.Tool{}
	for _, tool := range tools {
		byName[tool.Name] = tool
	}
	for _, name := range []string{"add", "echo", "lines", "fail", "slow", "header", "picture", "config", "env", "args", "pid", "spawn", "crash"} {
		assert.Contains(t, byName, "calc__"+name)
	}
	add := byName["calc__add"]
	assert.Equal(t, "Adds two numbers", add.Description)
	assert.Equal(t, map[string]any{
		"type": "object",
		"properties": map[string]any{
			"a": map[string]any{"type": "number", "description": "The first number"},
			"b": map[string]any{"type": "number", "description": "The second number"},
		},
		"required": []string{"a", "b"},
	}, add.InputSchema)

	_, err = m.Tools(t.Context(), "files")
	assert.EqualError(t, err, `no MCP server "files" is configured (configured: calc)`)
}

// rule §5.7: object nodes get properties; look-around patterns go.
func TestSchemasAreNormalised(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	tools, err := m.Tools(t.Context(), "calc")
	require.NoError(t, err)
	var schema map[string]any
	for _, tool := range tools {
		if tool.Name == "calc__config" {
			schema = tool.InputSchema
		}
	}
	require.NotNil(t, schema)
	assert.Equal(t, map[string]any{
		"type": "object",
		"properties": map[string]any{
			"options": map[string]any{"type": "object", "description": "Anything", "properties": map[string]any{}},
			"items":   map[string]any{"type": "array", "items": map[string]any{"type": []any{"object", "null"}, "properties": map[string]any{}}},
			"code":    map[string]any{"type": "string"},
			"zip":     map[string]any{"type": "string", "pattern": "^[0-9]{5}$"},
			"default": map[string]any{"type": "object", "properties": map[string]any{}, "default": map[string]any{"type": "object"}},
		},
		"required": []string{"options"},
	}, schema)
}

func TestCallResults(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	ctx := t.Context()
	for _, tc := range []struct {
		tool string
		args map[string]any
		want any
	}{
		{"calc__add", map[string]any{"a": 2, "b": 3.5}, map[string]any{"sum": 5.5}},
		{"calc__echo", map[string]any{"text": "hello"}, "hello"},
		{"calc__lines", nil, "one\ntwo"},
		{"calc__picture", nil, []any{
			map[string]any{"type": "text", "text": "a dot"},
			map[string]any{"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="},
		}},
	} {
		got, err := m.Call(ctx, tc.tool, tc.args)
		require.NoError(t, err, tc.tool)
		assert.Equal(t, tc.want, got, tc.tool)
	}
}

// rule C7: a call made for a tool call of a run carries its idempotency
// key in _meta; a call outside a run carries none.
func TestToolCallKeyInMeta(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	res, err := m.Call(effect.WithToolCallKey(t.Context(), "exec-1/call-7"), "calc__callid", nil)
	require.NoError(t, err)
	assert.Equal(t, "exec-1/call-7", res)
	res, err = m.Call(t.Context(), "calc__callid", nil)
	require.NoError(t, err)
	assert.Equal(t, "", res)
}

func TestToolError(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	_, err := m.Call(t.Context(), "calc__fail", map[string]any{"message": "the disk is full"})
	var te *mcp.ToolError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, &mcp.ToolError{Tool: "calc__fail", Message: "the disk is full"}, te)
	assert.EqualError(t, err, "MCP tool calc__fail failed: the disk is full")

	_, err = m.Call(t.Context(), "calc__fail", nil)
	assert.EqualError(t, err, "MCP tool calc__fail failed: the tool reported an error without a message")
}

func TestBadNames(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	before := pid(t, m)
	_, err := m.Call(t.Context(), "calc__nope", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf(`MCP server "calc" (%s): tool "nope": `, serverBin))
	assert.Equal(t, before, pid(t, m), "an error the server answers with keeps the connection")

	_, err = m.Call(t.Context(), "files__read", nil)
	assert.EqualError(t, err, `MCP tool "files__read": no MCP server "files" is configured (configured: calc)`)
	_, err = m.Call(t.Context(), "read", nil)
	assert.EqualError(t, err, `"read" is not the name of an MCP tool: MCP tools are named namespace__tool`)
}

func TestNewRejectsBadConfigs(t *testing.T) {
	for _, tc := range []struct {
		configs []mcp.Config
		err     string
	}{
		{[]mcp.Config{{Command: "x"}}, `mcp: namespace "" must be a non-empty name without __`},
		{[]mcp.Config{{Namespace: "a__b", Command: "x"}}, `mcp: namespace "a__b" must be a non-empty name without __`},
		{[]mcp.Config{{Namespace: "a", Command: "x"}, {Namespace: "a", URL: "http://x"}}, `mcp: namespace "a" is configured twice`},
		{[]mcp.Config{{Namespace: "a"}}, `mcp: server "a" needs either a command or a url`},
		{[]mcp.Config{{Namespace: "a", Command: "x", URL: "http://x"}}, `mcp: server "a" needs either a command or a url`},
	} {
		_, err := mcp.New(tc.configs)
		assert.EqualError(t, err, tc.err)
	}
}

// A call that outlives the timeout fails, naming the server and the tool;
// the server stays connected.
func TestTimeout(t *testing.T) {
	cfg := stdio()
	cfg.Timeout = 300 * time.Millisecond
	m := newManager(t, []mcp.Config{cfg})
	before := pid(t, m)
	start := time.Now()
	_, err := m.Call(t.Context(), "calc__slow", map[string]any{"ms": 10_000})
	assert.Less(t, time.Since(start), 3*time.Second)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualError(t, err, fmt.Sprintf(`MCP server "calc" (%s): tool "slow" did not answer within 300ms: context deadline exceeded`, serverBin))
	assert.Equal(t, before, pid(t, m), "a timeout keeps the connection")

	got, err := m.Call(t.Context(), "calc__slow", map[string]any{"ms": 10})
	require.NoError(t, err)
	assert.Equal(t, "done", got)
}

// A caller's cancellation is reported as such, not as a timeout.
func TestCancel(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := m.Call(ctx, "calc__slow", map[string]any{"ms": 10_000})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "did not answer")
	assert.Contains(t, err.Error(), `MCP server "calc"`)
}

// A server that crashes fails the call in flight with its exit status and
// standard error; the next call starts it again.
func TestCrashThenRestart(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	first := pid(t, m)
	_, err := m.Call(t.Context(), "calc__crash", nil)
	require.Error(t, err)
	assert.EqualError(t, err, fmt.Sprintf(`MCP server "calc" (%s): the server exited (exit status 3) during tool "crash" (stderr: "testserver: crashing on purpose"); it is restarted on the next use`, serverBin))

	got, err := m.Call(t.Context(), "calc__add", map[string]any{"a": 1, "b": 1})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"sum": 2.0}, got)
	assert.NotEqual(t, first, pid(t, m), "a new process")
}

func TestStartFailures(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio("exit")})
	_, err := m.Tools(t.Context(), "calc")
	assert.EqualError(t, err, fmt.Sprintf(`MCP server "calc" (%s): the server exited (exit status 2) during the MCP handshake (stderr: "testserver: refusing to start"); it is restarted on the next use`, serverBin))

	missing := filepath.Join(t.TempDir(), "no-such-server")
	m = newManager(t, []mcp.Config{{Namespace: "gone", Command: missing}})
	_, err = m.Call(t.Context(), "gone__x", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf(`MCP server "gone" (%[1]s): starting %[1]s: `, missing))
}

// ${NAME} in args and env comes from the lookup function; the server also
// inherits the environment of the process.
func TestEnvironment(t *testing.T) {
	t.Setenv("OCTRUN_MCP_INHERITED", "inherited")
	cfg := stdio("--name", "${WHO}", "$$WHO")
	cfg.Env = map[string]string{"GREETING": "hello ${WHO}", "OCTRUN_MCP_INHERITED": "overridden ${EMPTY}"}
	m := newManager(t, []mcp.Config{cfg}, mcp.WithLookupEnv(lookup(map[string]string{"WHO": "world", "EMPTY": ""})))
	ctx := t.Context()

	got, err := m.Call(ctx, "calc__args", nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"args": []any{"--name", "world", "$WHO"}}, got)
	got, err = m.Call(ctx, "calc__env", map[string]any{"name": "GREETING"})
	require.NoError(t, err)
	assert.Equal(t, "hello world", got)
	got, err = m.Call(ctx, "calc__env", map[string]any{"name": "OCTRUN_MCP_INHERITED"})
	require.NoError(t, err)
	assert.Equal(t, "overridden ", got, "env wins over the inherited environment")
	got, err = m.Call(ctx, "calc__env", map[string]any{"name": "PATH"})
	require.NoError(t, err)
	assert.Equal(t, os.Getenv("PATH"), got, "the process environment is inherited")

	unset := stdio()
	unset.Env = map[string]string{"TOKEN": "${MISSING_TOKEN}"}
	m = newManager(t, []mcp.Config{unset}, mcp.WithLookupEnv(lookup(nil)))
	_, err = m.Tools(ctx, "calc")
	assert.EqualError(t, err, fmt.Sprintf(`MCP server "calc" (%s): env TOKEN: ${MISSING_TOKEN} is not set in the environment`, serverBin))
}

// Concurrent first uses share one connection (and one process).
func TestConcurrentCallsShareOneServer(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	var wg sync.WaitGroup
	pids := make([]int, 8)
	for i := range pids {
		wg.Go(func() {
			res, err := m.Call(t.Context(), "calc__pid", nil)
			if assert.NoError(t, err) {
				pids[i] = int(res.(map[string]any)["pid"].(float64))
			}
		})
	}
	wg.Wait()
	for _, p := range pids {
		assert.Equal(t, pids[0], p)
	}
}

// Close fails the calls in flight and every later call with ErrClosed.
func TestCloseFailsCalls(t *testing.T) {
	before := runtime.NumGoroutine()
	m, err := mcp.New([]mcp.Config{stdio()})
	require.NoError(t, err)
	pid(t, m)
	done := make(chan error, 1)
	go func() {
		_, err := m.Call(context.Background(), "calc__slow", map[string]any{"ms": 10_000})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, m.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, mcp.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("the call in flight did not end")
	}
	_, err = m.Call(t.Context(), "calc__echo", map[string]any{"text": "x"})
	assert.ErrorIs(t, err, mcp.ErrClosed)
	require.NoError(t, m.Close(), "Close twice")
	noLeaks(t, before)
}

// Configs reads the connection mappings of a protocol's consumer servers.
func TestConfigsFromProtocol(t *testing.T) {
	p, err := protocol.Load("../testdata/deprecated/mcp-connection")
	require.NoError(t, err)
	assert.Equal(t, []mcp.Config{
		{
			Namespace: "files", Command: "npx",
			Args:    []string{"-y", "@modelcontextprotocol/server-filesystem", "${PROJECT_DIR}"},
			Env:     map[string]string{"NODE_ENV": "production"},
			Timeout: 30 * time.Second,
		},
		{
			Namespace: "search", URL: "http://127.0.0.1:8931/mcp",
			Headers: map[string]string{"Authorization": "Bearer ${SEARCH_TOKEN}"},
		},
	}, mcp.Configs(p.MCPServers))
}

// flaky is an HTTP handler that answers 503 while down is set.
type flaky struct {
	next http.Handler
	down atomic.Bool
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	f.next.ServeHTTP(w, r)
}

// The same server over streamable HTTP: url and headers with ${NAME}, tools,
// results, errors, timeouts, and a reconnection after a failure.
func TestStreamableHTTP(t *testing.T) {
	before := runtime.NumGoroutine()
	mcpServer := server.NewStreamableHTTPServer(testtools.New())
	handler := &flaky{next: mcpServer}
	srv := httptest.NewServer(handler)

	m, err := mcp.New([]mcp.Config{{
		Namespace: "web",
		URL:       "${BASE_URL}/mcp",
		Headers:   map[string]string{"X-Token": "Bearer ${TOKEN}"},
		Timeout:   300 * time.Millisecond,
	}}, mcp.WithLookupEnv(lookup(map[string]string{"BASE_URL": srv.URL, "TOKEN": "s3cret"})))
	require.NoError(t, err)
	ctx := t.Context()
	where := `MCP server "web" (${BASE_URL}/mcp)`

	tools, err := m.Tools(ctx, "web")
	require.NoError(t, err)
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, []string{"web__add", "web__echo", "web__lines", "web__fail", "web__slow", "web__header", "web__picture", "web__callid", "web__config"}, names)

	got, err := m.Call(ctx, "web__add", map[string]any{"a": 40, "b": 2})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"sum": 42.0}, got)
	got, err = m.Call(ctx, "web__header", map[string]any{"name": "X-Token"})
	require.NoError(t, err)
	assert.Equal(t, "Bearer s3cret", got)

	_, err = m.Call(ctx, "web__fail", map[string]any{"message": "no"})
	assert.EqualError(t, err, "MCP tool web__fail failed: no")

	_, err = m.Call(ctx, "web__slow", map[string]any{"ms": 5_000})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualError(t, err, where+`: tool "slow" did not answer within 300ms: context deadline exceeded`)

	handler.down.Store(true)
	_, err = m.Call(ctx, "web__echo", map[string]any{"text": "x"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), where+`: tool "echo": the connection failed: `)
	assert.Contains(t, err.Error(), "; it is reconnected on the next use")
	handler.down.Store(false)
	got, err = m.Call(ctx, "web__echo", map[string]any{"text": "back"})
	require.NoError(t, err)
	assert.Equal(t, "back", got)

	require.NoError(t, m.Close())
	srv.Close()
	require.NoError(t, mcpServer.Shutdown(context.Background()))
	noLeaks(t, before)
}

// A server that cannot be reached fails each use, naming its URL.
func TestStreamableHTTPUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/mcp"
	srv.Close()
	m := newManager(t, []mcp.Config{{Namespace: "web", URL: url}})
	_, err := m.Tools(t.Context(), "web")
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf(`MCP server "web" (%s): the MCP handshake: the connection failed: `, url))
	_, err = m.Tools(t.Context(), "web")
	require.Error(t, err, "and again on the next use")
}
