package llm

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sashabaranov/go-openai"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// yield is what a reader of an event stream gives: the data of each event
// up to an error event, and how it ended ("EOF", the error event's type and
// message, or the error).
type yield struct {
	Data []string
	End  string
}

// add adds the data of an event; it reports false when the event is an
// error event, which ends the stream as Generate reads it.
func (y *yield) add(data []byte) bool {
	var ch chunk
	if json.Unmarshal(data, &ch) == nil && ch.streamError() != nil {
		y.end(ch.streamError())
		return false
	}
	y.Data = append(y.Data, string(data))
	return true
}

func (y *yield) end(err error) {
	var apiErr *openai.APIError
	switch {
	case errors.Is(err, io.EOF):
		y.End = "EOF"
	case errors.As(err, &apiErr):
		y.End = apiErr.Type + ": " + apiErr.Message
	default:
		y.End = err.Error()
	}
}

// serve answers every request with body as an event stream.
func serve(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// readGoOpenAI reads the stream at url with go-openai's reader.
func readGoOpenAI(t *testing.T, url string) yield {
	t.Helper()
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL = url
	stream, err := openai.NewClientWithConfig(cfg).CreateChatCompletionStream(t.Context(), openai.ChatCompletionRequest{Model: "gpt-4o"})
	require.NoError(t, err)
	defer stream.Close()
	var y yield
	for {
		data, err := stream.RecvRaw()
		if err != nil {
			y.end(err)
			return y
		}
		if !y.add(data) {
			return y
		}
	}
}

// readEventStream reads the stream at url with eventStream, and counts its
// keep-alives.
func readEventStream(t *testing.T, url string) (yield, int) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/chat/completions", strings.NewReader("{}"))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	keepAlives := 0
	events := newEventStream(resp.Body, func() { keepAlives++ })
	var y yield
	for {
		data, err := events.next()
		if err != nil {
			y.end(err)
			return y, keepAlives
		}
		if !y.add(data) {
			return y, keepAlives
		}
	}
}

// The streams of testdata/sse (shaped like those of OpenAI, OpenRouter and
// other OpenAI-compatible servers), as they are and with CRLF line ends,
// read by go-openai's reader and by eventStream, which replaced it: both
// give the same events and end the same way, except where go-openai's
// reader is wrong.
func TestEventStreamReadsLikeGoOpenAI(t *testing.T) {
	files, err := filepath.Glob("testdata/sse/*.sse")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, crlf := range []bool{false, true} {
			body, name := string(data), filepath.Base(file)
			if crlf {
				body, name = strings.ReplaceAll(body, "\n", "\r\n"), name+" CRLF"
			}
			t.Run(name, func(t *testing.T) {
				url := serve(t, body)
				want := readGoOpenAI(t, url)
				got, keepAlives := readEventStream(t, url)
				assert.Equal(t, strings.Count(body, ": OPENROUTER PROCESSING"), keepAlives, "each comment is a keep-alive")
				if strings.HasPrefix(name, "no-done-no-final-newline") {
					// go-openai drops a last line without a newline.
					require.Len(t, got.Data, 2)
					want.Data = append(want.Data, got.Data[1])
				}
				assert.Equal(t, want, got)
				assert.NotEqual(t, yield{End: "EOF"}, got, "the stream is read")
			})
		}
	}
}

// go-openai's reader fails after 300 lines in a row that are not data (a
// keep-alive comment and its blank line are two); eventStream reads past
// any number of them.
func TestEventStreamReadsPastKeepAlives(t *testing.T) {
	data, err := os.ReadFile("testdata/sse/openai-text.sse")
	require.NoError(t, err)
	want := readGoOpenAI(t, serve(t, string(data)))

	url := serve(t, strings.Repeat(": OPENROUTER PROCESSING\n\n", 1000)+string(data))
	assert.Equal(t, yield{End: openai.ErrTooManyEmptyStreamMessages.Error()}, readGoOpenAI(t, url))
	got, keepAlives := readEventStream(t, url)
	assert.Equal(t, want, got)
	assert.Equal(t, 1000, keepAlives)
}

// A line longer than the reader's buffer is read whole; one longer than
// maxLine is an error.
func TestEventStreamLongLines(t *testing.T) {
	long := `{"choices":[{"index":0,"delta":{"content":"` + strings.Repeat("x", 200<<10) + `"}}]}`
	got, _ := readEventStream(t, serve(t, "data: "+long+"\n\ndata: [DONE]\n\n"))
	assert.True(t, len(got.Data) == 1 && got.Data[0] == long, "the long line, whole")
	assert.Equal(t, "EOF", got.End)

	got, _ = readEventStream(t, serve(t, "data: "+strings.Repeat("x", maxLine+1)+"\n\n"))
	assert.Equal(t, yield{End: errLineTooLong.Error()}, got)
}
