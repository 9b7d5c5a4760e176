package llm_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	imagepng "image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// png is a 1x1 PNG image.
const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

func pngBytes(t *testing.T) []byte {
	t.Helper()
	data, err := base64.StdEncoding.DecodeString(png)
	require.NoError(t, err)
	return data
}

// requireUnsupported checks that err is an unsupported *llm.Error.
func requireUnsupported(t *testing.T, err error, status int) *llm.Error {
	t.Helper()
	e := requireError(t, err)
	assert.True(t, errors.Is(err, errors.ErrUnsupported), "matches errors.ErrUnsupported: %v", err)
	assert.True(t, e.Unsupported)
	assert.Equal(t, llm.TypeValidation, e.Type)
	assert.False(t, e.Retryable)
	assert.Equal(t, status, e.StatusCode)
	return e
}

func TestOpenAIGenerateImage(t *testing.T) {
	srv := fake(t, `
responses:
  - image: {mediaType: image/png, data: "`+png+`"}
  - image: {mediaType: image/png, data: "`+png+`"}
  - image: {mediaType: image/jpeg, url: "https://img.example.com/a/cat.jpg?sig=1"}
`)
	c := llm.NewOpenAI(srv.URL(), "sk-test")

	img, err := c.GenerateImage(t.Context(), llm.ImageRequest{Model: "gpt-image-1", Prompt: "a tide pool", AspectRatio: "16:9"})
	require.NoError(t, err)
	assert.Equal(t, &llm.Media{MediaType: "image/png", Data: pngBytes(t)}, img, "b64_json decoded, type sniffed")
	assert.Equal(t, "data:image/png;base64,"+png, img.Href())

	img, err = c.GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-3", Prompt: "a crab", Size: "1024x1792"})
	require.NoError(t, err)
	assert.Equal(t, "image/png", img.MediaType)

	img, err = c.GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-3", Prompt: "a cat"})
	require.NoError(t, err)
	assert.Equal(t, &llm.Media{MediaType: "image/jpeg", URL: "https://img.example.com/a/cat.jpg?sig=1"}, img)
	assert.Equal(t, img.URL, img.Href())

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "/images/generations", reqs[0].Path)
	assert.Equal(t, "Bearer sk-test", reqs[0].Authorization)
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, map[string]any{"model": "gpt-image-1", "prompt": "a tide pool", "n": 1.0, "size": "1536x1024"}, body,
		"GPT Image: its own sizes, no response_format")
	body = nil
	require.NoError(t, json.Unmarshal(reqs[1].Body, &body))
	assert.Equal(t, map[string]any{"model": "dall-e-3", "prompt": "a crab", "n": 1.0, "size": "1024x1792", "response_format": "b64_json"}, body)
	assert.Equal(t, "1024x1024", reqs[2].Image.Size, "1:1 by default")
}

func TestOpenAIImageSizes(t *testing.T) {
	cases := []struct{ model, aspectRatio, size, want string }{
		{"dall-e-3", "1:1", "", "1024x1024"},
		{"dall-e-3", "16:9", "", "1792x1024"},
		{"dall-e-3", "9:16", "", "1024x1792"},
		{"dall-e-3", "4:3", "", "1792x1024"},
		{"dall-e-3", "2:3", "", "1024x1792"},
		{"dall-e-3", "5:4", "", "1024x1024"},
		{"dall-e-3", "", "1792x1024", "1792x1024"},
		{"dall-e-3", "9:16", "1792x1024", "1024x1792"},
		{"gpt-image-1", "16:9", "", "1536x1024"},
		{"openai/gpt-image-1", "9:16", "", "1024x1536"},
		{"chatgpt-image-latest", "", "1024x1792", "1024x1536"},
		{"gpt-image-1", "1:1", "", "1024x1024"},
	}
	srv := fake(t, `responses: [{image: {mediaType: image/png, data: "`+png+`"}}]`, fakeopenai.WithLoop())
	c := llm.NewOpenAI(srv.URL(), "k")
	for i, tc := range cases {
		_, err := c.GenerateImage(t.Context(), llm.ImageRequest{Model: tc.model, Prompt: "x", AspectRatio: tc.aspectRatio, Size: tc.size})
		require.NoError(t, err)
		assert.Equal(t, tc.want, srv.Requests()[i].Image.Size, "%s %q %q", tc.model, tc.aspectRatio, tc.size)
	}
}

// Reference images go to POST /images/edits as a multipart form: one as
// "image", several as repeated "image[]" (GPT Image models), each a file
// with its media type; a data: URL's bytes are sent, an http(s) URL is
// fetched first. The answer is read like a generation's.
func TestOpenAIImageEdits(t *testing.T) {
	srv := fake(t, `responses: [{image: {mediaType: image/png, data: "`+png+`"}}]`, fakeopenai.WithLoop())
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write([]byte("\xff\xd8\xff jpeg"))
	}))
	defer files.Close()
	c := llm.NewOpenAI(srv.URL(), "k")

	img, err := c.GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-2", Prompt: "Add a moon", ReferenceImages: []string{"data:image/png;base64," + png}})
	require.NoError(t, err)
	assert.Equal(t, "image/png", img.MediaType)
	edit := srv.Requests()[0].ImageEdit
	require.NotNil(t, edit, "the request went to /images/edits")
	assert.Equal(t, "Bearer k", srv.Requests()[0].Authorization)
	assert.Equal(t, "dall-e-2", edit.Model)
	assert.Equal(t, "Add a moon", edit.Prompt)
	assert.Equal(t, "b64_json", edit.ResponseFormat)
	require.Len(t, edit.Images, 1)
	assert.Equal(t, "image", edit.Images[0].Field)
	assert.Equal(t, "image/png", edit.Images[0].ContentType)
	raw, _ := base64.StdEncoding.DecodeString(png)
	assert.Equal(t, raw, edit.Images[0].Data)

	_, err = c.GenerateImage(t.Context(), llm.ImageRequest{Model: "gpt-image-1", Prompt: "Blend", AspectRatio: "16:9",
		ReferenceImages: []string{"data:image/png;base64," + png, files.URL + "/cat.jpg"}})
	require.NoError(t, err)
	edit = srv.Requests()[1].ImageEdit
	assert.Empty(t, edit.ResponseFormat, "GPT Image models refuse response_format")
	assert.Equal(t, "1536x1024", edit.Size)
	require.Len(t, edit.Images, 2)
	assert.Equal(t, "image[]", edit.Images[1].Field)
	assert.Equal(t, "cat.jpg", edit.Images[1].Filename)
	assert.Equal(t, "image/jpeg", edit.Images[1].ContentType)
	assert.Equal(t, []byte("\xff\xd8\xff jpeg"), edit.Images[1].Data)
}

// A reference image that cannot be read fails before any request, with
// a validation_error naming it; an endpoint without the edits API is
// unsupported, naming it.
func TestOpenAIImageEditFailures(t *testing.T) {
	srv := fake(t, `responses: [{image: {mediaType: image/png, data: "`+png+`"}}]`)
	_, err := llm.NewOpenAI(srv.URL(), "k").GenerateImage(t.Context(), llm.ImageRequest{Model: "gpt-image-1", Prompt: "x", ReferenceImages: []string{"data:image/png;base64," + png, "file:///etc/passwd"}})
	var e *llm.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, llm.TypeValidation, e.Type)
	assert.Contains(t, e.Message, "reference image 2 must be given as a data: or http(s) URL")
	assert.Empty(t, srv.Requests(), "no request is made")

	chatOnly := fake(t, `responses: []`, fakeopenai.WithoutMedia())
	_, err = llm.NewOpenAI(chatOnly.URL(), "k").GenerateImage(t.Context(), llm.ImageRequest{Model: "gpt-image-1", Prompt: "x", ReferenceImages: []string{"data:image/png;base64," + png}})
	e = requireUnsupported(t, err, http.StatusNotFound)
	assert.Contains(t, e.Message, "image edits (POST /images/edits)")
}

func TestOpenAIGenerateSpeech(t *testing.T) {
	srv := fake(t, `
responses:
  - audio: {mediaType: audio/mpeg, data: SUQzBA==}
  - audio: {mediaType: application/octet-stream, data: T2dnUw==}
  - audio: {mediaType: application/json, data: e30=}
`)
	c := llm.NewOpenAI(srv.URL(), "k")
	audio, err := c.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "gpt-4o-mini-tts", Text: "Hello.", Voice: "coral",
		Format: "mp3", Instructions: "Cheerful.", Language: "en", Speed: 1.25})
	require.NoError(t, err)
	assert.Equal(t, &llm.Media{MediaType: "audio/mpeg", Data: []byte("ID3\x04")}, audio)
	assert.Equal(t, "data:audio/mpeg;base64,SUQzBA==", audio.Href())

	audio, err = c.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "tts-1", Text: "Hi.", Format: "opus"})
	require.NoError(t, err)
	assert.Equal(t, "audio/opus", audio.MediaType, "an untyped answer takes the format's type")

	_, err = c.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "tts-1", Text: "Hi."})
	e := requireError(t, err)
	assert.Equal(t, llm.TypeProvider, e.Type)
	assert.Contains(t, e.Message, "answered application/json instead of audio")

	reqs := srv.Requests()
	assert.Equal(t, "/audio/speech", reqs[0].Path)
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, map[string]any{"model": "gpt-4o-mini-tts", "input": "Hello.", "voice": "coral", "instructions": "Cheerful.",
		"response_format": "mp3", "speed": 1.25}, body, "language is not sent")
	body = nil
	require.NoError(t, json.Unmarshal(reqs[2].Body, &body))
	assert.Equal(t, map[string]any{"model": "tts-1", "input": "Hi.", "voice": "alloy", "response_format": "mp3"}, body,
		"default voice and format; no speed")
}

func TestOpenAITranscribe(t *testing.T) {
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/calls/monday.m4a" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/mp4")
		_, _ = w.Write([]byte("m4a bytes"))
	}))
	defer files.Close()
	srv := fake(t, `
responses:
  - transcript: "Hello there."
  - transcript:
      text: "Hello there. Bye."
      segments: [{start: 0, end: 1.25, text: "Hello there."}, {start: 1.25, end: 2, text: "Bye."}]
  - transcript: "Percent."
  - transcript: "Given."
`)
	c := llm.NewOpenAI(srv.URL(), "k")

	tr, err := c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "whisper-1", Language: "en",
		Audio: llm.Media{URL: "data:audio/mpeg;base64,SUQzBA=="}})
	require.NoError(t, err)
	assert.Equal(t, &llm.Transcript{Text: "Hello there."}, tr)

	tr, err = c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "whisper-1", Timestamps: true,
		Audio: llm.Media{URL: files.URL + "/calls/monday.m4a"}})
	require.NoError(t, err)
	assert.Equal(t, &llm.Transcript{Text: "Hello there. Bye.", Segments: []llm.Segment{{0, 1.25, "Hello there."}, {1.25, 2, "Bye."}}}, tr)
	assert.Equal(t, "[0:00.0 - 0:01.3] Hello there.\n[0:01.3 - 0:02.0] Bye.", tr.Timed())

	_, err = c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "whisper-1", Audio: llm.Media{URL: "data:,hello%20world", Filename: "note.txt"}})
	require.NoError(t, err)
	_, err = c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "whisper-1", Audio: llm.Media{Data: []byte("wav"), MediaType: "audio/wav"}})
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "/audio/transcriptions", reqs[0].Path)
	assert.Equal(t, &fakeopenai.Transcription{Model: "whisper-1", Language: "en", Filename: "audio.mp3", ContentType: "audio/mpeg", File: []byte("ID3\x04")},
		reqs[0].Transcription, "the data: URL decoded; the name tells the format")
	assert.Equal(t, &fakeopenai.Transcription{Model: "whisper-1", ResponseFormat: "verbose_json", TimestampGranularities: []string{"segment"},
		Filename: "monday.m4a", ContentType: "audio/mp4", File: []byte("m4a bytes")}, reqs[1].Transcription, "fetched, named after the URL")
	assert.Equal(t, []byte("hello world"), reqs[2].Transcription.File, "a percent-encoded data: URL")
	assert.Equal(t, "note.txt", reqs[2].Transcription.Filename, "a given name is kept")
	assert.Equal(t, "audio.wav", reqs[3].Transcription.Filename)
}

func TestOpenAITranscribeUnreadableAudio(t *testing.T) {
	files := httptest.NewServer(http.NotFoundHandler())
	defer files.Close()
	srv := fake(t, `responses: [{transcript: never}]`)
	c := llm.NewOpenAI(srv.URL(), "k")
	for audio, want := range map[string]string{
		"file:///tmp/a.mp3":               `the audio must be given as a data: or http(s) URL, got "file:///tmp/a.mp3"`,
		"f-123":                           `the audio must be given as a data: or http(s) URL, got "f-123"`,
		"data:audio/mpeg;base64,%%%":      "the audio is not readable: the data of a data: URL cannot be decoded",
		files.URL + "/gone.mp3":           "the audio at " + files.URL + "/gone.mp3 could not be fetched: GET answered 404 Not Found",
		"data:audio/mpeg;base64-no-comma": "the audio is not readable: not a data: URL",
	} {
		_, err := c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "whisper-1", Audio: llm.Media{URL: audio}})
		e := requireError(t, err)
		assert.Equal(t, llm.TypeValidation, e.Type, audio)
		assert.Contains(t, e.Message, want)
	}
	assert.Empty(t, srv.Requests(), "nothing is sent")
}

func TestOpenAIMediaUnsupportedEndpoint(t *testing.T) {
	srv := fake(t, `responses: [{text: unused}]`, fakeopenai.WithoutMedia())
	c := llm.NewOpenAI(srv.URL(), "k")
	_, err := c.GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-3", Prompt: "x"})
	e := requireUnsupported(t, err, 404)
	assert.Equal(t, "dall-e-3: validation_error (HTTP 404): the endpoint does not offer image generation (POST /images/generations) (it answered: Invalid URL (POST /images/generations))", e.Error())
	_, err = c.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "tts-1", Text: "x"})
	requireUnsupported(t, err, 404)
	_, err = c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "whisper-1", Audio: llm.Media{Data: []byte("x"), MediaType: "audio/wav"}})
	e = requireUnsupported(t, err, 404)
	assert.Contains(t, e.Message, "transcription (POST /audio/transcriptions)")

	for _, status := range []int{http.StatusMethodNotAllowed, http.StatusNotImplemented} {
		plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, http.StatusText(status), status)
		}))
		_, err = llm.NewOpenAI(plain.URL, "").GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "kokoro", Text: "x"})
		plain.Close()
		e = requireUnsupported(t, err, status)
		assert.Equal(t, "the endpoint does not offer speech generation (POST /audio/speech)", e.Message)
	}
}

func TestOpenAIMediaErrors(t *testing.T) {
	srv := fake(t, `
responses:
  - error: {status: 404, message: "The model 'dall-e-9' does not exist"}
  - error: {status: 501, message: "not here"}
  - error: {status: 429, message: "slow down", retryAfter: 2}
  - text: "a chat answer"
`)
	c := llm.NewOpenAI(srv.URL(), "k")
	_, err := c.GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-9", Prompt: "x"})
	e := requireError(t, err)
	assert.Equal(t, llm.TypeNotFound, e.Type, "a missing model is not a missing API")
	assert.False(t, errors.Is(err, errors.ErrUnsupported))

	_, err = c.GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-3", Prompt: "x"})
	requireUnsupported(t, err, 501)

	_, err = c.GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-3", Prompt: "x"})
	e = requireError(t, err)
	assert.Equal(t, llm.TypeRateLimit, e.Type)
	assert.True(t, e.Retryable)
	assert.Equal(t, 2.0, e.RetryAfter.Seconds())

	_, err = c.GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-3", Prompt: "x"})
	e = requireError(t, err)
	assert.Equal(t, llm.TypeValidation, e.Type)
	assert.Contains(t, e.Message, "script response 4 answers /chat/completions, but the request was to /images/generations")
}

func TestRetryMediaCalls(t *testing.T) {
	srv := fake(t, `
responses:
  - error: {status: 503}
  - image: {mediaType: image/png, data: "`+png+`"}
  - error: {status: 501}
`)
	c, w := retrying(srv)
	img, err := llm.MediaOf(c).GenerateImage(t.Context(), llm.ImageRequest{Model: "dall-e-3", Prompt: "x"})
	require.NoError(t, err)
	assert.Equal(t, "image/png", img.MediaType)
	assert.Len(t, w.list(), 1, "one retry")

	_, err = llm.MediaOf(c).GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "tts-1", Text: "x"})
	e := requireUnsupported(t, err, 501)
	assert.Equal(t, 1, e.Attempts, "an unsupported API is not retried")
}

func TestMediaOfAClientWithoutMedia(t *testing.T) {
	var c llm.Client = onlyChat{}
	_, err := llm.MediaOf(c).GenerateImage(t.Context(), llm.ImageRequest{Model: "x/y"})
	e := requireUnsupported(t, err, 0)
	assert.Equal(t, "the model client of this run offers no image generation", e.Message, "no Go type in a message")
	_, err = llm.MediaOf(llm.WithRetry(c)).Transcribe(t.Context(), llm.TranscriptionRequest{Model: "x/y"})
	requireUnsupported(t, err, 0)
}

// onlyChat is a Client that is no MediaClient.
type onlyChat struct{ llm.Client }

func TestRouterMedia(t *testing.T) {
	openaiSrv := fake(t, `
responses:
  - model: gpt-image-1
    image: {mediaType: image/png, data: "`+png+`"}
  - model: whisper-1
    transcript: "Hi."
  - error: {status: 501}
`)
	anthropicSrv := fake(t, `responses: [{text: unused}]`)
	r := llm.NewRouter(env(map[string]string{
		"OPENAI_BASE_URL": openaiSrv.URL(), "OPENAI_API_KEY": "sk-openai",
		"ANTHROPIC_BASE_URL": anthropicSrv.URL(), "ANTHROPIC_API_KEY": "sk-ant",
	}))
	_, err := r.GenerateImage(t.Context(), llm.ImageRequest{Model: "openai/gpt-image-1", Prompt: "x"})
	require.NoError(t, err)
	tr, err := r.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "openai/whisper-1", Audio: llm.Media{URL: "data:audio/wav;base64,AAAA"}})
	require.NoError(t, err)
	assert.Equal(t, "Hi.", tr.Text)
	assert.Equal(t, "Bearer sk-openai", openaiSrv.Requests()[1].Authorization)

	_, err = r.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "openai/tts-1", Text: "x"})
	e := requireUnsupported(t, err, 501)
	assert.Equal(t, "openai", e.Provider)
	assert.Equal(t, "tts-1", e.Model)

	_, err = r.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "anthropic/claude-sonnet-4-5", Text: "x"})
	e = requireUnsupported(t, err, 0)
	assert.Equal(t, "anthropic/claude-sonnet-4-5: validation_error: provider anthropic offers no speech generation through an OpenAI-compatible API; use a model of another provider", e.Error())
	assert.Empty(t, anthropicSrv.Requests(), "known not to: no request")

	_, err = r.GenerateImage(t.Context(), llm.ImageRequest{Model: "mistral/pixtral", Prompt: "x"})
	assert.Equal(t, llm.TypeValidation, requireError(t, err).Type, "an unknown provider")

	gateway := fake(t, `responses: [{model: openai/dall-e-3, image: {mediaType: image/png, url: "https://x/y.png"}}]`)
	over := llm.NewRouter(env(nil), llm.WithBaseURL(gateway.URL(), "sk-gw"))
	img, err := over.GenerateImage(t.Context(), llm.ImageRequest{Model: "openai/dall-e-3", Prompt: "x"})
	require.NoError(t, err)
	assert.Equal(t, "https://x/y.png", img.URL)
	assert.Equal(t, "openai/dall-e-3", gateway.Requests()[0].Image.Model, "the override sends the model as written")
}

func TestTranscriptTimed(t *testing.T) {
	assert.Equal(t, "plain", (&llm.Transcript{Text: "plain"}).Timed())
	tr := &llm.Transcript{Text: "a b", Segments: []llm.Segment{{0, 59.96, " a "}, {59.96, 3725.04, "b"}}}
	assert.Equal(t, "[0:00.0 - 1:00.0] a\n[1:00.0 - 62:05.0] b", tr.Timed())
}

func TestScriptedMedia(t *testing.T) {
	c := scripted(t, `
responses:
  - image: {mediaType: image/png, data: "`+png+`"}
    model: openai/gpt-image-1
  - text: "A picture of a tide pool."
  - audio: {mediaType: audio/mpeg, data: SUQzBA==}
  - transcript: {text: "Hi. Bye.", segments: [{start: 0, end: 1, text: "Hi."}, {start: 1, end: 1.5, text: "Bye."}]}
  - image: {mediaType: image/jpeg, url: "https://x/cat.jpg"}
  - error: {status: 501, message: "no speech here"}
  - error: {status: 404, message: "no such model"}
`)
	img, err := c.GenerateImage(t.Context(), llm.ImageRequest{Model: "openai/gpt-image-1", Prompt: "a tide pool", AspectRatio: "16:9"})
	require.NoError(t, err)
	assert.Equal(t, &llm.Media{MediaType: "image/png", Data: pngBytes(t)}, img)
	_, resp, err := generate(t, c, userSays("describe"))
	require.NoError(t, err)
	assert.Equal(t, "A picture of a tide pool.", resp.Text)
	audio, err := c.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "openai/tts-1", Text: "Hi"})
	require.NoError(t, err)
	assert.Equal(t, "data:audio/mpeg;base64,SUQzBA==", audio.Href())
	tr, err := c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "openai/whisper-1", Audio: llm.Media{URL: "https://x/a.mp3"}, Timestamps: true})
	require.NoError(t, err)
	assert.Equal(t, "[0:00.0 - 0:01.0] Hi.\n[0:01.0 - 0:01.5] Bye.", tr.Timed())
	img, err = c.GenerateImage(t.Context(), llm.ImageRequest{Model: "openai/dall-e-3", Prompt: "a cat"})
	require.NoError(t, err)
	assert.Equal(t, "https://x/cat.jpg", img.Href())

	_, err = c.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "ollama/kokoro", Text: "x"})
	e := requireUnsupported(t, err, 501)
	assert.Equal(t, "ollama/kokoro: validation_error (HTTP 501): the endpoint does not offer speech generation (POST /audio/speech) (it answered: no speech here)", e.Error())
	_, err = c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "openai/whisper-9"})
	assert.Equal(t, llm.TypeNotFound, requireError(t, err).Type, "404 is a missing model")

	calls := c.MediaCalls()
	require.Len(t, calls, 6)
	assert.Equal(t, llm.MediaCall{N: 1, Image: &llm.ImageRequest{Model: "openai/gpt-image-1", Prompt: "a tide pool", AspectRatio: "16:9"}}, calls[0])
	assert.Equal(t, 3, calls[1].N, "numbered among all calls")
	assert.Equal(t, "Hi", calls[1].Speech.Text)
	assert.True(t, calls[2].Transcription.Timestamps)
	assert.Len(t, c.Requests(), 1)
}

func TestScriptedMediaKindMismatch(t *testing.T) {
	c := scripted(t, "responses:\n  - text: hi\n  - image: {mediaType: image/png, url: x}\n  - transcript: t\n")
	_, err := c.GenerateImage(t.Context(), llm.ImageRequest{Model: "openai/dall-e-3"})
	assert.EqualError(t, err, "scripted model: response 1 (line 2) is a generation, but call 1 asks for an image (model openai/dall-e-3)")
	_, _, err = generate(t, c, userSays("x"))
	assert.EqualError(t, err, "scripted model: response 2 (line 3) is an image, but call 2 asks for a generation (model gpt-4o)")
	_, err = c.GenerateSpeech(t.Context(), llm.SpeechRequest{Model: "openai/tts-1"})
	assert.EqualError(t, err, "scripted model: response 3 (line 4) is a transcript, but call 3 asks for audio (model openai/tts-1)")
	_, err = c.Transcribe(t.Context(), llm.TranscriptionRequest{Model: "openai/whisper-1"})
	assert.EqualError(t, err, "scripted model: the script has 3 responses and call 4 was made (model openai/whisper-1)")
}

func TestScriptedFromCountsMediaCalls(t *testing.T) {
	s, err := llm.ParseScript([]byte("responses:\n  - transcript: first\n  - image: {mediaType: image/png, url: x}\n  - text: third\n"))
	require.NoError(t, err)
	c := llm.NewScriptedFrom(s, 1)
	_, err = c.GenerateImage(t.Context(), llm.ImageRequest{Model: "m/i"})
	require.NoError(t, err)
	_, resp, err := generate(t, c, userSays("x"))
	require.NoError(t, err)
	assert.Equal(t, "third", resp.Text)
}

func TestScriptMediaErrorsHavePositions(t *testing.T) {
	cases := []struct{ name, script, want string }{
		{"image without source", "responses:\n  - image: {mediaType: image/png}\n", "2:12: image needs exactly one of data (base64) or url"},
		{"image with both", "responses:\n  - image: {mediaType: image/png, data: AAAA, url: x}\n", "2:12: image needs exactly one of data (base64) or url"},
		{"image without type", "responses:\n  - image: {url: x}\n", "2:12: image needs mediaType"},
		{"bad media type", "responses:\n  - image: {mediaType: png, url: x}\n", "2:24: mediaType must be type/subtype, like image/png, got \"png\""},
		{"bad base64", "responses:\n  - audio: {mediaType: audio/mpeg, data: \"not base64!\"}\n", "2:42: data must be base64: illegal base64 data at input byte 3"},
		{"audio url", "responses:\n  - audio: {mediaType: audio/mpeg, url: x}\n", "2:36: unknown key \"url\" in audio (known: mediaType, data)\n2:12: audio needs data (base64)"},
		{"image not a mapping", "responses:\n  - image: cat.png\n", "2:12: image must be a mapping, got \"cat.png\""},
		{"media with text", "responses:\n  - text: hi\n    image: {mediaType: image/png, url: x}\n", "2:5: a response with image cannot also have text"},
		{"two media", "responses:\n  - audio: {mediaType: audio/mpeg, data: AAAA}\n    transcript: hi\n", "2:5: a response with audio cannot also have transcript"},
		{"media with usage", "responses:\n  - transcript: hi\n    usage: {input: 1}\n", "2:5: a response with transcript cannot also have usage"},
		{"media with error", "responses:\n  - transcript: hi\n    error: {status: 501}\n", "3:12: a response with an error cannot also have transcript"},
		{"transcript list", "responses:\n  - transcript: [hi]\n", "2:17: transcript must be a mapping, got a list"},
		{"transcript without text", "responses:\n  - transcript: {segments: []}\n", "2:17: transcript needs text"},
		{"segment without end", "responses:\n  - transcript: {text: a, segments: [{start: 0, text: a}]}\n", "2:38: a segment needs end"},
		{"segment backwards", "responses:\n  - transcript: {text: a, segments: [{start: 2, end: 1, text: a}]}\n", "2:38: a segment cannot end (1) before it starts (2)"},
		{"segment bad start", "responses:\n  - transcript: {text: a, segments: [{start: soon, end: 1, text: a}]}\n", "2:46: start must be a number of seconds, got \"soon\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := llm.ParseScript([]byte(tc.script))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

// The scripted client refuses an unreadable reference image as the OpenAI
// client does, with the same error, and answers nothing: an offline run
// cannot pass where a real one fails.
func TestScriptedRefusesReferenceImagesLikeOpenAI(t *testing.T) {
	script, err := llm.ParseScript([]byte(`responses: [{image: {mediaType: image/png, data: "` + png + `"}}]`))
	require.NoError(t, err)
	req := llm.ImageRequest{Model: "gpt-image-1", Prompt: "x", ReferenceImages: []string{"data:image/png;base64," + png, "data:image/png;base64,%%%"}}
	scripted := llm.NewScripted(script)
	_, offline := scripted.GenerateImage(t.Context(), req)
	srv := fake(t, `responses: [{image: {mediaType: image/png, data: "`+png+`"}}]`)
	_, online := llm.NewOpenAI(srv.URL(), "k").GenerateImage(t.Context(), req)
	require.Error(t, online)
	assert.Equal(t, online, offline)
	assert.Empty(t, scripted.MediaCalls(), "the script answered nothing")

	req.ReferenceImages = req.ReferenceImages[:1]
	_, err = scripted.GenerateImage(t.Context(), req)
	assert.NoError(t, err, "a readable reference image is fine")
}

// Attached images go to the model as image parts after the text; with
// MaxImageDimension a larger image is scaled down to fit, its aspect ratio
// kept, and sent as a data: URL; a smaller one is sent as it is.
func TestOpenAISendsAttachedImages(t *testing.T) {
	var big bytes.Buffer
	require.NoError(t, imagepng.Encode(&big, image.NewRGBA(image.Rect(0, 0, 64, 32))))
	bigURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(big.Bytes())
	srv := fake(t, `responses: [{text: a dot}, {text: scaled}]`)
	c := llm.NewOpenAI(srv.URL(), "k")
	msgs := []llm.Message{{Role: llm.RoleUser, Content: "What is this?", Files: []llm.File{{URL: "data:image/png;base64," + png, MediaType: "image/png", Filename: "dot.png"}}}}
	_, err := c.Generate(t.Context(), llm.Request{Model: "gpt-4o-mini", Messages: msgs}, nil)
	require.NoError(t, err)
	parts := srv.Requests()[0].Chat.Messages[0].MultiContent
	require.Len(t, parts, 2)
	assert.Equal(t, "What is this?", parts[0].Text)
	assert.Equal(t, "data:image/png;base64,"+png, parts[1].ImageURL.URL)

	msgs[0].Files = append(msgs[0].Files, llm.File{URL: bigURL, MediaType: "image/png"})
	_, err = c.Generate(t.Context(), llm.Request{Model: "gpt-4o-mini", Messages: msgs, MaxImageDimension: 16}, nil)
	require.NoError(t, err)
	parts = srv.Requests()[1].Chat.Messages[0].MultiContent
	require.Len(t, parts, 3)
	assert.Equal(t, "data:image/png;base64,"+png, parts[1].ImageURL.URL, "a 1x1 image fits")
	data, ok := strings.CutPrefix(parts[2].ImageURL.URL, "data:image/png;base64,")
	require.True(t, ok, parts[2].ImageURL.URL)
	raw, err := base64.StdEncoding.DecodeString(data)
	require.NoError(t, err)
	scaled, err := imagepng.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 16, 8), scaled.Bounds(), "64x32 scaled to fit 16")
}

// Documents go to the model as file parts holding a data: URL and the
// file's name, read from an http(s) URL when given one; WAV and MP3 audio
// as input_audio parts, base64 with its format.
func TestOpenAISendsAttachedDocumentsAndAudio(t *testing.T) {
	pdf := []byte("%PDF-1.4 a tiny document")
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	t.Cleanup(files.Close)
	wav := []byte("RIFF....WAVEfmt ")
	srv := fake(t, `responses: [{text: read}]`)
	req := llm.Request{Model: "gpt-4o-audio-preview", Messages: []llm.Message{{Role: llm.RoleUser, Content: "Summarize both", Files: []llm.File{
		{URL: files.URL + "/reports/q3.pdf", MediaType: "application/pdf"},
		{URL: "data:audio/wav;base64," + base64.StdEncoding.EncodeToString(wav), MediaType: "audio/wav", Filename: "memo.wav"},
		{URL: "data:audio/mpeg;base64,SUQzBA==", MediaType: "audio/mpeg"},
	}}}}
	_, err := llm.NewOpenAI(srv.URL(), "k").Generate(t.Context(), req, nil)
	require.NoError(t, err)
	m := body(t, srv, 0)
	assert.Equal(t, []any{
		map[string]any{"type": "text", "text": "Summarize both"},
		map[string]any{"type": "file", "file": map[string]any{
			"filename": "q3.pdf", "file_data": "data:application/pdf;base64," + base64.StdEncoding.EncodeToString(pdf)}},
		map[string]any{"type": "input_audio", "input_audio": map[string]any{"data": base64.StdEncoding.EncodeToString(wav), "format": "wav"}},
		map[string]any{"type": "input_audio", "input_audio": map[string]any{"data": "SUQzBA==", "format": "mp3"}},
	}, m["messages"].([]any)[0].(map[string]any)["content"])
}

// A file no chat API takes as content (video, audio other than WAV and
// MP3) or not given as a data: or http(s) URL fails the call before any
// request, naming it, with the scripted client as with the real one.
func TestAttachedFilesThatCannotBeSent(t *testing.T) {
	for _, tc := range []struct {
		file    llm.File
		message string
	}{
		{llm.File{URL: "https://files.example/a.mp4", MediaType: "video/mp4", Filename: "a.mp4"}, `attached file "a.mp4" is video/mp4: no OpenAI-compatible chat API takes video`},
		{llm.File{URL: "data:audio/ogg;base64,T2dnUw==", MediaType: "audio/ogg", Filename: "v.ogg"}, `attached file "v.ogg" is audio/ogg: the chat API takes audio as WAV or MP3 only`},
		{llm.File{URL: "/home/me/a.pdf", MediaType: "application/pdf", Filename: "a.pdf"}, `attached file "a.pdf" must be given as a data: or http(s) URL`},
	} {
		req := llm.Request{Model: "gpt-4o-mini", Messages: []llm.Message{{Role: llm.RoleUser, Content: "Summarize", Files: []llm.File{tc.file}}}}
		srv := fake(t, `responses: [{text: never}]`)
		_, online := llm.NewOpenAI(srv.URL(), "k").Generate(t.Context(), req, nil)
		e := requireError(t, online)
		assert.Contains(t, e.Message, tc.message)
		assert.Equal(t, llm.TypeValidation, e.Type)
		assert.Empty(t, srv.Requests())
		script, err := llm.ParseScript([]byte(`responses: [{text: never}]`))
		require.NoError(t, err)
		_, offline := llm.NewScripted(script).Generate(t.Context(), req, nil)
		assert.Equal(t, online, offline)
	}
}
