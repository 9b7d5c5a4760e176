package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/internal/servicetest"
)

// Process-level tests of `octrun serve` (rules H1-H7): the built command
// listens on a free port of 127.0.0.1 (or 0.0.0.0, for the key checks) and
// is driven over real HTTP; models answer from mock scripts, offline.

// serveExamples is the examples folder, served by every test here.
func serveExamples(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	return dir
}

// freePort returns a port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// lockedBuffer collects a process's standard error while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveProcess is a running `octrun serve`.
type serveProcess struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
	code   int // valid once exited is closed
}

// serveEnv is the test process's environment without the OCTRUN_
// variables (a Temporal address or API keys of the developer's shell would
// change what the server does), plus extra.
func serveEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OCTRUN_") {
			env = append(env, kv)
		}
	}
	return append(append(env, "NO_COLOR=1"), extra...)
}

// startServe starts `octrun serve args...` with env; the process is killed
// when the test ends, if it still runs.
func startServe(t *testing.T, bin string, env []string, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(bin, append([]string{"serve"}, args...)...), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		defer close(p.exited)
		err := p.cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
			p.code = 0
		case errors.As(err, &exit):
			p.code = exit.ExitCode()
		default:
			p.code = -1
		}
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		t.Logf("octrun serve %s: exit %d\n%s", strings.Join(args, " "), p.code, p.stderr.String())
	})
	return p
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *serveProcess) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(d):
		t.Fatalf("octrun serve still runs after %v; standard error:\n%s", d, p.stderr.String())
		return -1
	}
}

// waitLog waits up to 10 s for s on the process's standard error.
func (p *serveProcess) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("octrun serve did not log %q; standard error:\n%s", s, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serveClient talks to the local server only: no proxy, and a bound on
// every request, stream included.
var serveClient = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 60 * time.Second}

// waitHealthy polls GET base/healthz until it answers 200, for up to 10 s,
// and fails the test at once if the process exits.
func (p *serveProcess) waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("octrun serve exited with %d before it was healthy; standard error:\n%s", p.code, p.stderr.String())
		default:
		}
		resp, err := serveClient.Get(base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz did not answer 200 within 10 s (last: %v); standard error:\n%s", err, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serveRequest sends method base+path with body (when not empty) and the
// bearer key (when not empty).
func serveRequest(t *testing.T, method, url, body, key string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := serveClient.Do(req)
	require.NoError(t, err)
	return resp
}

// status sends the request and returns its status and body.
func status(t *testing.T, method, url, body, key string) (int, string) {
	t.Helper()
	resp := serveRequest(t, method, url, body, key)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

// sseEvent is one server-sent event: its id line and its data line.
type sseEvent struct {
	ID   string
	Data string
}

// Type is the event's type, "[DONE]" for the end marker.
func (e sseEvent) Type() string {
	if e.Data == "[DONE]" {
		return e.Data
	}
	var v struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal([]byte(e.Data), &v)
	return v.Type
}

// Fields decodes the event's JSON.
func (e sseEvent) Fields(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(e.Data), &v), e.Data)
	return v
}

// nextEvent reads the next event of an SSE stream, skipping comments
// (heartbeats); io.EOF at the end of the stream.
func nextEvent(r *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	seen := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if err == io.EOF && (seen || line != "") {
				return ev, io.ErrUnexpectedEOF
			}
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if seen {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			ev.ID, seen = strings.TrimPrefix(line, "id: "), true
		case strings.HasPrefix(line, "data: "):
			ev.Data, seen = strings.TrimPrefix(line, "data: "), true
		default:
			return ev, fmt.Errorf("not an SSE line: %q", line)
		}
	}
}

// readEvents reads the rest of an SSE stream.
func readEvents(t *testing.T, r *bufio.Reader) []sseEvent {
	t.Helper()
	var evs []sseEvent
	for {
		ev, err := nextEvent(r)
		if err == io.EOF {
			return evs
		}
		require.NoError(t, err, "after %d events", len(evs))
		evs = append(evs, ev)
	}
}

// types lists the events' types.
func types(evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type()
	}
	return out
}

// lastTypes is the types of the last n events.
func lastTypes(evs []sseEvent, n int) []string {
	if len(evs) < n {
		return types(evs)
	}
	return types(evs[len(evs)-n:])
}

// slowScript writes a mock script whose one response is words words
// streamed with delay before each, and returns its path and the text.
func slowScript(t *testing.T, words int, delay time.Duration) (string, string) {
	t.Helper()
	ws := make([]string, words)
	for i := range ws {
		ws[i] = "tide" + strconv.Itoa(i)
	}
	text := strings.Join(ws, " ")
	path := filepath.Join(t.TempDir(), "slow.yaml")
	script := fmt.Sprintf("responses:\n  - text: %q\n    fault: {delay: %s}\n", text, delay)
	require.NoError(t, os.WriteFile(path, []byte(script), 0o644))
	return path, text
}

// The server answers /healthz, and a start of support-triage streams the
// whole run as SSE: the execution id in X-Execution-Id, start first, ids
// 1..N in order, and worker-result (the triage's output), finish and usage
// last before data: [DONE] (rules H1, H2).
func TestServeStartsAndAnswers(t *testing.T) {
	bin := octrunBinary(t)
	examples := serveExamples(t)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	p := startServe(t, bin, serveEnv(), "--agents", examples, "--mock", filepath.Join(examples, "support-triage", "mock.yaml"),
		"--addr", "127.0.0.1:"+strconv.Itoa(port))
	p.waitHealthy(t, base)

	resp := serveRequest(t, "POST", base+"/api/agents/support-triage/execute",
		`{"type":"start","input":{"TICKET":"My order A-1042 never arrived"}}`, "")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	execID := resp.Header.Get("X-Execution-Id")
	require.NotEmpty(t, execID)
	evs := readEvents(t, bufio.NewReader(resp.Body))
	require.GreaterOrEqual(t, len(evs), 5, "events: %v", types(evs))

	assert.Equal(t, "start", evs[0].Type())
	assert.Equal(t, execID, evs[0].Fields(t)["executionId"])
	for i, ev := range evs[:len(evs)-1] {
		assert.Equal(t, strconv.Itoa(i+1), ev.ID, "the id of event %d (%s)", i, ev.Type())
	}
	done := evs[len(evs)-1]
	assert.Equal(t, "[DONE]", done.Data)
	assert.Empty(t, done.ID, "[DONE] carries no id")
	require.Equal(t, []string{"worker-result", "finish", "usage", "[DONE]"}, lastTypes(evs, 4), "events: %v", types(evs))

	result := evs[len(evs)-4].Fields(t)
	assert.NotContains(t, result, "error")
	output, ok := result["output"].(map[string]any)
	require.True(t, ok, "worker-result without an output object: %s", evs[len(evs)-4].Data)
	assert.Equal(t, "shipping", output["category"])
	assert.Equal(t, "A-1042", output["orderId"])
	finish := evs[len(evs)-3].Fields(t)
	assert.Equal(t, "stop", finish["finishReason"])
	assert.Equal(t, execID, finish["executionId"])
	tokens, _ := evs[len(evs)-2].Fields(t)["tokens"].(map[string]any)
	assert.Greater(t, tokens["totalTokens"], float64(0), "usage: %s", evs[len(evs)-2].Data)
	assert.Contains(t, types(evs), "tool-output-available", "the mock's lookup-order answered on the server")

	// The process is still serving: the agents are listed.
	code, body := status(t, "GET", base+"/api/agents", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"support-triage"`)
}

// Without an API key the server refuses to listen on a non-loopback
// address; with keys from OCTRUN_API_KEYS or --api-key-file it starts
// there, and every endpoint but /healthz needs one of them (rule H1).
func TestServeRefusesAnOpenAddressWithoutKey(t *testing.T) {
	bin := octrunBinary(t)
	examples := serveExamples(t)
	mock := filepath.Join(examples, "title-generator", "mock.yaml")

	t.Run("no key", func(t *testing.T) {
		port := freePort(t)
		p := startServe(t, bin, serveEnv(), "--agents", examples, "--mock", mock, "--addr", "0.0.0.0:"+strconv.Itoa(port))
		assert.Equal(t, exitUsage, p.wait(t, 10*time.Second))
		assert.Contains(t, p.stderr.String(), "octrun serve: no API key")
		assert.Contains(t, p.stderr.String(), "OCTRUN_API_KEYS")
		assert.NotContains(t, p.stderr.String(), "serving")
	})

	// checkKeys checks a server that holds good among its keys and not bad.
	checkKeys := func(t *testing.T, base, good, bad string) {
		t.Helper()
		code, body := status(t, "GET", base+"/api/agents", "", "")
		assert.Equal(t, http.StatusUnauthorized, code, body)
		assert.Contains(t, body, `"code":"authentication_error"`)
		code, body = status(t, "GET", base+"/api/agents", "", bad)
		assert.Equal(t, http.StatusUnauthorized, code, body)
		code, body = status(t, "POST", base+"/api/agents/title-generator/execute", `{"type":"start","input":{"SUMMARY":"tides"}}`, "")
		assert.Equal(t, http.StatusUnauthorized, code, body)
		code, body = status(t, "GET", base+"/api/agents", "", good)
		assert.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, `"title-generator"`)
		code, body = status(t, "POST", base+"/api/agents/title-generator/execute", `{"type":"start","input":{"SUMMARY":"tides"}}`, good)
		assert.Equal(t, http.StatusOK, code, body)
		assert.True(t, strings.HasSuffix(body, "data: [DONE]\n\n"), body)
		assert.Contains(t, body, `"output":"How the Moon Pulls the Tides"`)
	}

	t.Run("OCTRUN_API_KEYS", func(t *testing.T) {
		port := freePort(t)
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		p := startServe(t, bin, serveEnv("OCTRUN_API_KEYS=k1, k2"), "--agents", examples, "--mock", mock, "--addr", "0.0.0.0:"+strconv.Itoa(port))
		p.waitHealthy(t, base) // without a key
		assert.Contains(t, p.stderr.String(), "apiKeys=2")
		checkKeys(t, base, "k2", "k3")
		code, _ := status(t, "GET", base+"/api/agents", "", "k1")
		assert.Equal(t, http.StatusOK, code)
		code, _ = status(t, "GET", base+"/api/agents", "", "k1,k2")
		assert.Equal(t, http.StatusUnauthorized, code, "the whole variable is no key")
	})

	t.Run("--api-key-file", func(t *testing.T) {
		port := freePort(t)
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		file := filepath.Join(t.TempDir(), "keys")
		require.NoError(t, os.WriteFile(file, []byte("# the keys of the app\n\n  file-key-1  \n# retired: old-key\n\nfile-key-2\n"), 0o600))
		p := startServe(t, bin, serveEnv(), "--agents", examples, "--mock", mock, "--addr", "0.0.0.0:"+strconv.Itoa(port), "--api-key-file", file)
		p.waitHealthy(t, base)
		assert.Contains(t, p.stderr.String(), "apiKeys=2", "comments and blank lines are no keys")
		checkKeys(t, base, "file-key-2", "old-key")
		code, _ := status(t, "GET", base+"/api/agents", "", "file-key-1")
		assert.Equal(t, http.StatusOK, code, "a key's surrounding spaces are trimmed")
		code, _ = status(t, "GET", base+"/api/agents", "", "# retired: old-key")
		assert.Equal(t, http.StatusUnauthorized, code, "a comment line is no key")
	})

	for name, content := range map[string]string{"empty key file": "", "key file of comments": "# no key yet\n\n   \n"} {
		t.Run(name, func(t *testing.T) {
			port := freePort(t)
			file := filepath.Join(t.TempDir(), "keys")
			require.NoError(t, os.WriteFile(file, []byte(content), 0o600))
			p := startServe(t, bin, serveEnv(), "--agents", examples, "--mock", mock, "--addr", "127.0.0.1:"+strconv.Itoa(port), "--api-key-file", file)
			assert.Equal(t, exitUsage, p.wait(t, 10*time.Second))
			assert.Contains(t, p.stderr.String(), "--api-key-file "+file+" holds no key")
		})
	}

	t.Run("missing key file", func(t *testing.T) {
		p := startServe(t, bin, serveEnv(), "--agents", examples, "--mock", mock, "--addr", "127.0.0.1:"+strconv.Itoa(freePort(t)),
			"--api-key-file", filepath.Join(t.TempDir(), "absent"))
		assert.Equal(t, exitUsage, p.wait(t, 10*time.Second))
		assert.Contains(t, p.stderr.String(), "--api-key-file")
	})
}

// startSlowRun starts a title-generator run on the server and reads its
// stream up to the first text delta: the model is streaming then.
func startSlowRun(t *testing.T, base string) (*http.Response, *bufio.Reader, []sseEvent) {
	t.Helper()
	resp := serveRequest(t, "POST", base+"/api/agents/title-generator/execute", `{"type":"start","input":{"SUMMARY":"tides"}}`, "")
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	r := bufio.NewReader(resp.Body)
	var seen []sseEvent
	for {
		ev, err := nextEvent(r)
		require.NoError(t, err, "events so far: %v", types(seen))
		seen = append(seen, ev)
		if ev.Type() == "text-delta" {
			return resp, r, seen
		}
	}
}

// On SIGTERM the server takes no new run (503 with Retry-After) while the
// running one streams to its normal end, then exits 0 (rule H6).
func TestServeDrainsOnSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM is unix only")
	}
	bin := octrunBinary(t)
	examples := serveExamples(t)
	mock, text := slowScript(t, 40, 50*time.Millisecond) // about 2 s
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	p := startServe(t, bin, serveEnv(), "--agents", examples, "--mock", mock, "--addr", "127.0.0.1:"+strconv.Itoa(port))
	p.waitHealthy(t, base)

	_, stream, first := startSlowRun(t, base)
	assert.Equal(t, "start", first[0].Type())
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	p.waitLog(t, "shutting down")

	resp := serveRequest(t, "POST", base+"/api/agents/title-generator/execute", `{"type":"start","input":{"SUMMARY":"more tides"}}`, "")
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a start while draining: %.300s", body)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.Contains(t, string(body), `"code":"provider_overloaded"`)
	assert.Contains(t, string(body), "shutting down")
	select {
	case <-p.exited:
		t.Fatalf("the server exited (%d) while a run was going", p.code)
	default:
	}

	rest := readEvents(t, stream)
	evs := append(first, rest...)
	require.Equal(t, []string{"worker-result", "finish", "usage", "[DONE]"}, lastTypes(evs, 4), "events: %v", types(evs))
	result := evs[len(evs)-4].Fields(t)
	assert.NotContains(t, result, "cancelled", evs[len(evs)-4].Data)
	assert.NotContains(t, result, "error", evs[len(evs)-4].Data)
	assert.Equal(t, text, result["output"], "the whole title streamed")
	assert.Equal(t, "stop", evs[len(evs)-3].Fields(t)["finishReason"])
	deltas := 0
	for _, ev := range evs {
		if ev.Type() == "text-delta" {
			deltas++
		}
	}
	assert.Equal(t, 40, deltas)

	assert.Equal(t, exitOK, p.wait(t, 10*time.Second))
	assert.NotContains(t, p.stderr.String(), "cancelling")
	assert.Contains(t, p.stderr.String(), "stopped")
	_, err = serveClient.Get(base + "/healthz")
	assert.Error(t, err, "nothing listens once the server exited")
}

// A run that outlasts --shutdown-timeout is cancelled cleanly after it:
// worker-result{cancelled}, finish{stop}, usage, [DONE]; the process exits
// 0 soon after (rule H6).
func TestServeCancelsAfterShutdownTimeout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM is unix only")
	}
	bin := octrunBinary(t)
	examples := serveExamples(t)
	mock, _ := slowScript(t, 600, 50*time.Millisecond) // about 30 s
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	p := startServe(t, bin, serveEnv(), "--agents", examples, "--mock", mock, "--addr", "127.0.0.1:"+strconv.Itoa(port),
		"--shutdown-timeout", "300ms")
	p.waitHealthy(t, base)

	_, stream, first := startSlowRun(t, base)
	signalled := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))

	var evs []sseEvent
	var resultAt time.Time
	for {
		ev, err := nextEvent(stream)
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "events: %v", types(evs))
		if ev.Type() == "worker-result" {
			resultAt = time.Now()
		}
		evs = append(evs, ev)
	}
	evs = append(first, evs...)
	require.Equal(t, []string{"worker-result", "finish", "usage", "[DONE]"}, lastTypes(evs, 4), "events: %v", types(evs))
	result := evs[len(evs)-4].Fields(t)
	assert.Equal(t, true, result["cancelled"], evs[len(evs)-4].Data)
	assert.NotContains(t, result, "output")
	assert.Equal(t, "stop", evs[len(evs)-3].Fields(t)["finishReason"])
	assert.GreaterOrEqual(t, resultAt.Sub(signalled), 250*time.Millisecond, "the run was given the grace period")
	assert.Less(t, resultAt.Sub(signalled), 5*time.Second, "the run was cancelled after the grace period")
	assert.NotContains(t, types(evs), "error", "a cancelled run is no failure")

	assert.Equal(t, exitOK, p.wait(t, 5*time.Second))
	assert.Less(t, time.Since(signalled), 5*time.Second)
	assert.Contains(t, p.stderr.String(), "the grace period is over")
}

// `octrun serve --help` prints the usage and exits 0; without --agents, or
// with an argument, it exits 2 with the usage.
func TestServeUsage(t *testing.T) {
	bin := octrunBinary(t)
	dir := t.TempDir()

	serve := func(args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
		cmd.Dir = dir
		cmd.Env = serveEnv()
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		done := make(chan error, 1)
		require.NoError(t, cmd.Start())
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("octrun serve %s still ran after 10 s", strings.Join(args, " "))
		}
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		t.Logf("octrun serve %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
		return code, out.String() + errOut.String()
	}

	code, out := serve("--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "usage: octrun serve --agents DIR [flags]")
	assert.Contains(t, out, "--shutdown-timeout D")
	assert.Contains(t, out, "OCTRUN_API_KEYS")

	code, out = serve()
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, out, "--agents DIR is required")
	assert.Contains(t, out, "usage: octrun serve")

	code, out = serve("--agents", serveExamples(t), "extra")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, out, `unexpected argument "extra"`)

	code, out = serve("--agents", filepath.Join(dir, "absent"), "--addr", "127.0.0.1:"+strconv.Itoa(freePort(t)))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, out, "--agents")

	// An address without a port is a usage error that says so, not a
	// non-loopback address to refuse, nor a failure to listen.
	code, out = serve("--agents", serveExamples(t), "--addr", "127.0.0.1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, out, "--addr 127.0.0.1: want HOST:PORT")
	assert.NotContains(t, out, "no API key")
}

// `octrun serve --temporal` hands the runs to an `octrun worker` process
// and streams them as it streams local ones: the same events, with the
// same ids, as a local `octrun serve` (pauses and continues on Temporal
// are tested in the serve package).
func TestServeOnTemporal(t *testing.T) {
	addr := servicetest.Temporal(t)
	redisURL := servicetest.RedisURL(t)
	bin := octrunBinary(t)
	examples := serveExamples(t)
	queue := "serve-" + time.Now().Format("150405.000")
	mock := filepath.Join(examples, "support-triage", "mock.yaml")
	startWorker(t, bin, "--agents", examples, "--temporal", addr, "--task-queue", queue, "--redis", redisURL, "--mock", mock)

	localPort, remotePort := freePort(t), freePort(t)
	local := "http://127.0.0.1:" + strconv.Itoa(localPort)
	remote := "http://127.0.0.1:" + strconv.Itoa(remotePort)
	startServe(t, bin, serveEnv(), "--agents", examples, "--mock", mock, "--addr", "127.0.0.1:"+strconv.Itoa(localPort)).waitHealthy(t, local)
	startServe(t, bin, serveEnv(), "--agents", examples, "--addr", "127.0.0.1:"+strconv.Itoa(remotePort),
		"--temporal", addr, "--task-queue", queue, "--redis", redisURL).waitHealthy(t, remote)

	stream := func(base string) []string {
		resp := serveRequest(t, "POST", base+"/api/agents/support-triage/execute", `{"type":"start","input":{"TICKET":"My order A-1042 never arrived"}}`, "")
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		id := resp.Header.Get("X-Execution-Id")
		var lines []string
		for _, ev := range readEvents(t, bufio.NewReader(resp.Body)) {
			lines = append(lines, ev.ID+" "+strings.ReplaceAll(ev.Data, id, "EXEC"))
		}
		return lines
	}
	want := stream(local)
	got := stream(remote)
	assert.Equal(t, want, got)
	assert.Equal(t, "[DONE]", strings.TrimSpace(got[len(got)-1]))
}
