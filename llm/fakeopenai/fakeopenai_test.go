package fakeopenai_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

func start(t *testing.T, script string, opts ...fakeopenai.Option) *fakeopenai.Server {
	t.Helper()
	s, err := llm.ParseScript([]byte(script))
	require.NoError(t, err)
	srv := fakeopenai.New(s, opts...)
	t.Cleanup(srv.Close)
	return srv
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk-fake")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// events reads an SSE body: the JSON of each data line, and whether the
// stream ended with [DONE].
func events(t *testing.T, body io.Reader) (chunks []map[string]any, done bool) {
	t.Helper()
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		require.False(t, done, "nothing after [DONE]")
		data, ok := strings.CutPrefix(line, "data: ")
		require.True(t, ok, "line %q", line)
		if data == "[DONE]" {
			done = true
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(data), &m), data)
		chunks = append(chunks, m)
	}
	return chunks, done
}

const streamBody = `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"12345678"}]}`

func TestStreamsChunksLikeOpenAI(t *testing.T) {
	srv := start(t, `responses: [{reasoning: "hm", text: "Hi \"you\"\n", toolCalls: [{name: search, arguments: {query: tides in Brest}}]}]`)
	resp := post(t, srv.URL()+"/v1/chat/completions", streamBody)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	chunks, done := events(t, resp.Body)
	require.True(t, done)

	var content, reasoning, args string
	var finish []any
	for _, c := range chunks[:len(chunks)-1] {
		assert.Equal(t, "chat.completion.chunk", c["object"])
		assert.Equal(t, "gpt-4o", c["model"])
		assert.Equal(t, "chatcmpl-fake1", c["id"])
		assert.Contains(t, c, "created")
		assert.Contains(t, c, "usage")
		assert.Nil(t, c["usage"])
		choices := c["choices"].([]any)
		require.Len(t, choices, 1)
		choice := choices[0].(map[string]any)
		assert.Equal(t, 0.0, choice["index"])
		delta := choice["delta"].(map[string]any)
		if s, ok := delta["content"].(string); ok {
			content += s
		}
		if s, ok := delta["reasoning_content"].(string); ok {
			reasoning += s
		}
		if tcs, ok := delta["tool_calls"].([]any); ok {
			tc := tcs[0].(map[string]any)
			if id, ok := tc["id"]; ok {
				assert.Equal(t, "call_1", id)
				assert.Equal(t, "function", tc["type"])
				assert.Equal(t, "search", tc["function"].(map[string]any)["name"])
			}
			args += tc["function"].(map[string]any)["arguments"].(string)
		}
		finish = append(finish, choice["finish_reason"])
	}
	assert.Equal(t, map[string]any{"role": "assistant", "content": "", "refusal": nil},
		chunks[0]["choices"].([]any)[0].(map[string]any)["delta"], "the first chunk gives the role")
	assert.Equal(t, "Hi \"you\"\n", content)
	assert.Equal(t, "hm", reasoning)
	assert.Equal(t, `{"query":"tides in Brest"}`, args)
	assert.Equal(t, "tool_calls", finish[len(finish)-1])
	assert.Nil(t, finish[0])

	last := chunks[len(chunks)-1]
	assert.Equal(t, []any{}, last["choices"])
	assert.Equal(t, map[string]any{"prompt_tokens": 2.0, "completion_tokens": 10.0, "total_tokens": 12.0}, last["usage"])

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "Bearer sk-fake", reqs[0].Authorization)
	assert.JSONEq(t, streamBody, string(reqs[0].Body))
	assert.Equal(t, "gpt-4o", reqs[0].Chat.Model)
}

func TestToolArgumentsComeInSeveralFragments(t *testing.T) {
	srv := start(t, `responses: [{toolCalls: [{name: s, arguments: '{"query":"marées à Brest"}'}]}]`)
	chunks, _ := events(t, post(t, srv.URL()+"/chat/completions", streamBody).Body)
	var fragments []string
	for _, c := range chunks {
		for _, ch := range c["choices"].([]any) {
			if tcs, ok := ch.(map[string]any)["delta"].(map[string]any)["tool_calls"].([]any); ok {
				fragments = append(fragments, tcs[0].(map[string]any)["function"].(map[string]any)["arguments"].(string))
			}
		}
	}
	assert.Greater(t, len(fragments), 3)
	assert.Equal(t, `{"query":"marées à Brest"}`, strings.Join(fragments, ""), "split at character boundaries")
}

func TestWithDeltasSplitsTextExactly(t *testing.T) {
	srv := start(t, `responses: [{text: "héllo wörld, it is a fine day"}]`, fakeopenai.WithDeltas(7))
	chunks, _ := events(t, post(t, srv.URL()+"/v1/chat/completions", streamBody).Body)
	var pieces []string
	for _, c := range chunks {
		for _, ch := range c["choices"].([]any) {
			if s, ok := ch.(map[string]any)["delta"].(map[string]any)["content"].(string); ok && s != "" {
				pieces = append(pieces, s)
			}
		}
	}
	assert.Len(t, pieces, 7)
	assert.Equal(t, "héllo wörld, it is a fine day", strings.Join(pieces, ""))
}

func TestNoUsageChunkUnlessAsked(t *testing.T) {
	srv := start(t, `responses: [{text: hi}]`)
	chunks, done := events(t, post(t, srv.URL()+"/chat/completions", `{"model":"m","stream":true,"messages":[]}`).Body)
	assert.True(t, done)
	for _, c := range chunks {
		assert.NotContains(t, c, "usage")
		assert.Len(t, c["choices"], 1)
	}
}

func TestErrorsLikeOpenAI(t *testing.T) {
	srv := start(t, `
responses:
  - error: {status: 429, message: slow down, retryAfter: 3}
  - text: only for gpt-4o
    model: gpt-4o
`)
	resp := post(t, srv.URL()+"/v1/chat/completions", streamBody)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "3", resp.Header.Get("Retry-After"))
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.JSONEq(t, `{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, string(data))

	resp = post(t, srv.URL()+"/v1/chat/completions", `{"model":"gpt-4o-mini","stream":true}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	data, _ = io.ReadAll(resp.Body)
	assert.Contains(t, string(data), "script response 2 expects model gpt-4o, but the request was for gpt-4o-mini")

	resp = post(t, srv.URL()+"/v1/chat/completions", `{"model":"gpt-4o","stream":true}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	data, _ = io.ReadAll(resp.Body)
	assert.Contains(t, string(data), "the script has 2 responses and call 3 was made (model gpt-4o)")

	resp = post(t, srv.URL()+"/embeddings", `{}`)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// dataLines reads an SSE body to its end: its data lines, and the error
// that ended the reading (nil at a clean end).
func dataLines(body io.Reader) (lines []string, err error) {
	r := bufio.NewReader(body)
	for {
		line, err := r.ReadString('\n')
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			lines = append(lines, data)
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

func TestFaultCutClosesTheConnection(t *testing.T) {
	srv := start(t, `responses: [{text: one two three, fault: {cutAfter: 1}}, {text: next}]`)
	lines, err := dataLines(post(t, srv.URL()+"/chat/completions", streamBody).Body)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the chunked body does not end")
	require.Len(t, lines, 2, "the role chunk and one delta")
	assert.Contains(t, lines[1], `"content":"one"`)

	chunks, done := events(t, post(t, srv.URL()+"/chat/completions", streamBody).Body)
	assert.True(t, done, "the server goes on with the next response")
	assert.NotEmpty(t, chunks)
}

func TestFaultMalformedSendsInvalidJSON(t *testing.T) {
	srv := start(t, `responses: [{text: one two three, fault: {malformedAfter: 2}}]`)
	lines, err := dataLines(post(t, srv.URL()+"/chat/completions", streamBody).Body)
	require.NoError(t, err)
	var invalid []int
	for i, l := range lines {
		if !json.Valid([]byte(l)) && l != "[DONE]" {
			invalid = append(invalid, i)
		}
	}
	assert.Equal(t, []int{3}, invalid, "after the role chunk and 2 deltas")
	assert.Contains(t, lines[4], `"content":" three"`, "the stream goes on")
	assert.Equal(t, "[DONE]", lines[len(lines)-1])
}

func TestFaultStallHoldsTheStream(t *testing.T) {
	srv := start(t, `responses: [{text: one two three, fault: {stallAfter: 2}}]`)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/chat/completions", strings.NewReader(streamBody))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	lines, err := dataLines(resp.Body)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "nothing more came until the client gave up")
	assert.Len(t, lines, 3, "the role chunk and 2 deltas")
}

// A stallAfter: 0 fault stalls where WithStallPoint says.
func TestStallPoints(t *testing.T) {
	request := func(srv *fakeopenai.Server) (*http.Response, context.Context, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		t.Cleanup(cancel)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/chat/completions", strings.NewReader(streamBody))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			t.Cleanup(func() { resp.Body.Close() })
		}
		return resp, ctx, err
	}
	const script = `responses: [{text: one, fault: {stallAfter: 0}}]`

	_, _, err := request(start(t, script, fakeopenai.WithStallPoint(fakeopenai.StallBeforeHeaders)))
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no headers came")

	resp, _, err := request(start(t, script, fakeopenai.WithStallPoint(fakeopenai.StallAfterHeaders)))
	require.NoError(t, err)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, body, "no chunk came")

	resp, _, err = request(start(t, script))
	require.NoError(t, err)
	lines, err := dataLines(resp.Body)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, lines, 1, "the role chunk only")
	assert.Contains(t, lines[0], `"delta":{"role":"assistant","content":""`)
}

func TestKeepAliveComments(t *testing.T) {
	srv := start(t, `responses: [{text: hi}]`, fakeopenai.WithKeepAlive(3, 0))
	body, err := io.ReadAll(post(t, srv.URL()+"/chat/completions", streamBody).Body)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(body), strings.Repeat(fakeopenai.KeepAliveComment+"\n\n", 3)+"data: {"), "%s", body)
	chunks, done := events(t, strings.NewReader(strings.ReplaceAll(string(body), fakeopenai.KeepAliveComment, "")))
	assert.True(t, done)
	assert.NotEmpty(t, chunks)
}

func TestCloseEndsStalledStreams(t *testing.T) {
	s, err := llm.ParseScript([]byte(`responses: [{text: one, fault: {stallAfter: 0}}]`))
	require.NoError(t, err)
	srv := fakeopenai.New(s)
	resp := post(t, srv.URL()+"/chat/completions", streamBody)
	_, err = bufio.NewReader(resp.Body).ReadString('\n') // the role chunk
	require.NoError(t, err)
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the stalled stream")
	}
}

func TestFaultDelaySlowsChunks(t *testing.T) {
	srv := start(t, `responses: [{text: one two, fault: {delay: 20ms}}]`, fakeopenai.WithDelay(time.Second))
	start := time.Now()
	_, done := events(t, post(t, srv.URL()+"/chat/completions", streamBody).Body)
	assert.True(t, done)
	assert.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond, "role, 2 deltas and finish, 20ms each")
	assert.Less(t, time.Since(start), 2*time.Second, "instead of the server's delay of 1s")
}

// transcribe posts a transcription form asking for format.
func transcribe(t *testing.T, url, format string) (int, string) {
	t.Helper()
	var body strings.Builder
	w := multipart.NewWriter(&body)
	require.NoError(t, w.WriteField("model", "whisper-1"))
	require.NoError(t, w.WriteField("response_format", format))
	f, err := w.CreateFormFile("file", "a.mp3")
	require.NoError(t, err)
	_, _ = f.Write([]byte("ID3"))
	require.NoError(t, w.Close())
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/v1/audio/transcriptions", strings.NewReader(body.String()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(out)
}

func TestTranscriptionFormats(t *testing.T) {
	srv := start(t, `responses: [{transcript: {text: "Hi.", segments: [{start: 0, end: 0.5, text: "Hi."}]}}]`, fakeopenai.WithLoop())
	status, body := transcribe(t, srv.URL(), "text")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Hi.\n", body)
	_, body = transcribe(t, srv.URL(), "json")
	assert.JSONEq(t, `{"text": "Hi."}`, body)
	_, body = transcribe(t, srv.URL(), "verbose_json")
	assert.JSONEq(t, `{"task": "transcribe", "language": "english", "duration": 0.5, "text": "Hi.", "segments": [{"id": 0, "start": 0, "end": 0.5, "text": " Hi."}]}`, body)
	status, body = transcribe(t, srv.URL(), "srt")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "response_format srt is not served")
	got := srv.Requests()[0]
	assert.Equal(t, "/v1/audio/transcriptions", got.Path)
	assert.Equal(t, &fakeopenai.Transcription{Model: "whisper-1", ResponseFormat: "text", Filename: "a.mp3", ContentType: "application/octet-stream", File: []byte("ID3")}, got.Transcription)
}

func TestWithoutMediaServesChatOnly(t *testing.T) {
	srv := start(t, `responses: [{text: hi}]`, fakeopenai.WithoutMedia())
	resp := post(t, srv.URL()+"/v1/images/generations", `{"model": "dall-e-3", "prompt": "x"}`)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp = post(t, srv.URL()+"/v1/chat/completions", `{"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "x"}]}`)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, srv.Requests(), 1, "the 404 is not a call")
}
