// Package fakeopenai is an in-process OpenAI-compatible server for tests
// and benchmarks. It answers from an llm.Script, one response per request
// in order. Chat completions stream Server-Sent Events shaped like the real
// API:
// chat.completion.chunk objects, tool call arguments in several fragments,
// a usage chunk when stream_options.include_usage is set, then [DONE]. A
// scripted error is answered with its HTTP status, an OpenAI error body
// and, when it has a retryAfter, a Retry-After header. A scripted fault
// (llm.Fault) breaks the stream on the wire: the connection is cut (closed
// without the end of the chunked body), a data line is not JSON, or the
// stream stalls until the client leaves (a stall before the first delta
// stalls after the role chunk, or where WithStallPoint says: before the
// headers, or after them); its delay slows the chunks. WithKeepAlive
// sends SSE keep-alive comments before the chunks, as gateways do while a
// model thinks; WithSharedToolCallIndex sends every tool call at stream
// index 0, as Ollama does.
//
// The media APIs answer the script's media responses: POST
// /images/generations and /images/edits (multipart, its reference images
// recorded as ImageEdit) a JSON body with the image as b64_json (or its url),
// /audio/speech the audio's bytes with its media type as Content-Type, and
// /audio/transcriptions (multipart) the transcript as json, text or
// verbose_json with segments, as response_format asks. A request of one
// API that meets a response for another is answered 400. WithoutMedia
// makes those paths answer 404, like a chat-only endpoint. The server
// listens on 127.0.0.1 only.
package fakeopenai

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sashabaranov/go-openai"

	"github.com/octrun/octrun/llm"
)

// Server is a running fake endpoint. It is safe for concurrent requests.
type Server struct {
	script *llm.Script
	opts   options
	srv    *httptest.Server
	// stop ends the contexts of requests in flight, so that Close does
	// not wait for stalled streams.
	stop context.CancelFunc

	mu       sync.Mutex
	calls    int
	requests []Request
}

// Request is one request the server received.
type Request struct {
	Path string
	// Authorization is the Authorization header as sent.
	Authorization string
	// Body is the body as sent, to check which fields were omitted.
	Body []byte
	// Chat is Body decoded, for a chat completions request.
	Chat openai.ChatCompletionRequest
	// Image, Speech and Transcription are the decoded body of a request to
	// a media API; nil for the others.
	Image         *openai.ImageRequest
	Speech        *openai.CreateSpeechRequest
	Transcription *Transcription
	// ImageEdit is the multipart form of a request to /images/edits.
	ImageEdit *ImageEdit
}

// ImageEdit is the multipart form of an image edits request: its fields
// and its image files, in order.
type ImageEdit struct {
	Model, Prompt, Size, ResponseFormat string
	Images                              []File
}

// File is an uploaded file of a multipart form.
type File struct {
	// Field is the form field ("image", "image[]").
	Field, Filename, ContentType string
	Data                         []byte
}

// Transcription is the multipart form of a transcription request.
type Transcription struct {
	Model, Language, ResponseFormat string
	TimestampGranularities          []string
	// Filename and ContentType are the uploaded file's, File its bytes.
	Filename, ContentType string
	File                  []byte
}

type options struct {
	deltas      int
	delay       time.Duration
	loop        bool
	interleave  bool
	sharedIndex bool
	noMedia     bool
	stallPoint  StallPoint
	keepAlives  int
	keepAlive   time.Duration
}

// WithoutMedia makes the media paths answer 404 like an endpoint that
// serves chat completions only.
func WithoutMedia() Option {
	return func(o *options) { o.noMedia = true }
}

// Option configures a Server.
type Option func(*options)

// WithDeltas streams every text and reasoning in exactly n deltas (one per
// character when shorter) instead of word by word.
func WithDeltas(n int) Option {
	return func(o *options) { o.deltas = n }
}

// WithDelay waits d before each chunk and flushes each chunk on its own:
// a slow model, for cancellation tests and many concurrent runs.
func WithDelay(d time.Duration) Option {
	return func(o *options) { o.delay = d }
}

// WithLoop starts the script over after its last response, for benchmarks
// making any number of calls.
func WithLoop() Option {
	return func(o *options) { o.loop = true }
}

// WithInterleavedToolCalls sends the tool calls of a response in turns
// (the start of each call, then the first arguments fragment of each, then
// the second, ...) instead of one call after the other.
func WithInterleavedToolCalls() Option {
	return func(o *options) { o.interleave = true }
}

// WithSharedToolCallIndex sends every tool call of a response at stream
// index 0, each call told apart only by the id of its first fragment, as
// Ollama does. It is meant without WithInterleavedToolCalls.
func WithSharedToolCallIndex() Option {
	return func(o *options) { o.sharedIndex = true }
}

// StallPoint is where a response whose fault is stallAfter: 0 stalls.
type StallPoint int

// Stall points (WithStallPoint).
const (
	// StallAfterRole sends the headers and the first chunk, which holds
	// the assistant role and no content, then nothing: the default.
	StallAfterRole StallPoint = iota
	// StallBeforeHeaders accepts the request and sends nothing, not even
	// the response headers.
	StallBeforeHeaders
	// StallAfterHeaders sends the headers of a 200 event stream, then
	// nothing.
	StallAfterHeaders
)

// WithStallPoint sets where the responses whose fault is stallAfter: 0
// stall, until the client leaves.
func WithStallPoint(p StallPoint) Option {
	return func(o *options) { o.stallPoint = p }
}

// KeepAliveComment is the SSE comment line WithKeepAlive sends, the one
// OpenRouter sends while a model thinks.
const KeepAliveComment = ": OPENROUTER PROCESSING"

// WithKeepAlive sends n SSE comment lines (KeepAliveComment, each followed
// by a blank line) before the first chunk of every streamed response, one
// every d, each flushed on its own; all at once when d is 0.
func WithKeepAlive(n int, d time.Duration) Option {
	return func(o *options) { o.keepAlives, o.keepAlive = n, d }
}

// New starts a server answering from script.
func New(script *llm.Script, opts ...Option) *Server {
	s := &Server{script: script}
	for _, opt := range opts {
		opt(&s.opts)
	}
	ctx, stop := context.WithCancel(context.Background())
	s.srv, s.stop = httptest.NewUnstartedServer(s), stop
	s.srv.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	s.srv.Start()
	return s
}

// URL returns the base URL for clients: http://127.0.0.1:PORT. The server
// answers its paths both at URL()+"/chat/completions" and at
// URL()+"/v1/chat/completions".
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down, ending stalled streams and waiting for
// the other requests in flight.
func (s *Server) Close() {
	s.stop()
	s.srv.Close()
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// The paths of the APIs the server answers, without /v1.
const (
	pathChat           = "/chat/completions"
	pathImages         = "/images/generations"
	pathImageEdits     = "/images/edits"
	pathSpeech         = "/audio/speech"
	pathTranscriptions = "/audio/transcriptions"
)

// ServeHTTP answers POST on the paths of the APIs above, with or without
// a /v1 prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := strings.TrimPrefix(r.URL.Path, "/v1")
	switch {
	case api != pathChat && api != pathImages && api != pathImageEdits && api != pathSpeech && api != pathTranscriptions,
		api != pathChat && s.opts.noMedia:
		writeError(w, http.StatusNotFound, "", "Invalid URL ("+r.Method+" "+r.URL.Path+")")
		return
	case r.Method != http.MethodPost:
		writeError(w, http.StatusMethodNotAllowed, "", "fake OpenAI server: use POST")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	req := Request{Path: r.URL.Path, Authorization: r.Header.Get("Authorization"), Body: body}
	model, err := decode(r, api, &req)
	if err != nil {
		writeError(w, http.StatusBadRequest, "", "fake OpenAI server: invalid body: "+err.Error())
		return
	}
	s.mu.Lock()
	call := s.calls
	s.calls++
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	n := len(s.script.Responses)
	if s.opts.loop && n > 0 {
		call %= n
	}
	var resp *llm.ScriptResponse
	if call < n {
		resp = &s.script.Responses[call]
	}
	switch {
	case resp == nil:
		writeError(w, http.StatusBadRequest, "", fmt.Sprintf("fake OpenAI server: the script has %d responses and call %d was made (model %s)", n, call+1, model))
	case resp.Model != "" && resp.Model != model:
		writeError(w, http.StatusBadRequest, "", fmt.Sprintf("fake OpenAI server: script response %d expects model %s, but the request was for %s", call+1, resp.Model, model))
	case resp.Error != nil:
		e := resp.Error
		status := e.StatusCode
		if status < 400 {
			status = http.StatusInternalServerError
		}
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Round(time.Second)/time.Second)))
		}
		writeError(w, status, errorCodes[status], e.Message)
	case pathFor(resp) != api && (pathFor(resp) != pathImages || api != pathImageEdits):
		writeError(w, http.StatusBadRequest, "", fmt.Sprintf("fake OpenAI server: script response %d answers %s, but the request was to %s", call+1, pathFor(resp), api))
	case api == pathImages, api == pathImageEdits:
		writeImage(w, resp.Image)
	case api == pathSpeech:
		w.Header().Set("Content-Type", resp.Audio.MediaType)
		_, _ = w.Write(resp.Audio.Data)
	case api == pathTranscriptions:
		writeTranscript(w, req.Transcription.ResponseFormat, resp.Transcript)
	case !req.Chat.Stream:
		writeError(w, http.StatusBadRequest, "", "fake OpenAI server: only streaming requests (stream: true) are served")
	default:
		s.stream(w, r, &req.Chat, call)
	}
}

// decode decodes the body of a request to api into req and returns the
// model it asks for.
func decode(r *http.Request, api string, req *Request) (string, error) {
	switch api {
	case pathImages:
		req.Image = &openai.ImageRequest{}
		err := json.Unmarshal(req.Body, req.Image)
		return req.Image.Model, err
	case pathSpeech:
		req.Speech = &openai.CreateSpeechRequest{}
		err := json.Unmarshal(req.Body, req.Speech)
		return string(req.Speech.Model), err
	case pathTranscriptions:
		t, err := transcription(r, req.Body)
		req.Transcription = t
		return t.Model, err
	case pathImageEdits:
		e, err := imageEdit(r, req.Body)
		req.ImageEdit = e
		return e.Model, err
	}
	err := json.Unmarshal(req.Body, &req.Chat)
	return req.Chat.Model, err
}

// transcription reads the multipart form of a transcription request.
func transcription(r *http.Request, body []byte) (*Transcription, error) {
	t := &Transcription{}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return t, err
	}
	t.Model = r.FormValue("model")
	t.Language = r.FormValue("language")
	t.ResponseFormat = r.FormValue("response_format")
	t.TimestampGranularities = r.MultipartForm.Value["timestamp_granularities[]"]
	f, h, err := r.FormFile("file")
	if err != nil {
		return t, err
	}
	defer f.Close()
	t.Filename, t.ContentType = h.Filename, h.Header.Get("Content-Type")
	t.File, err = io.ReadAll(f)
	return t, err
}

// imageEdit reads the multipart form of an image edits request.
func imageEdit(r *http.Request, body []byte) (*ImageEdit, error) {
	e := &ImageEdit{}
	mr := multipart.NewReader(bytes.NewReader(body), boundary(r))
	for {
		part, perr := mr.NextPart()
		if perr == io.EOF {
			break
		}
		if perr != nil {
			return e, perr
		}
		data, rerr := io.ReadAll(part)
		if rerr != nil {
			return e, rerr
		}
		switch name := part.FormName(); {
		case part.FileName() != "":
			e.Images = append(e.Images, File{Field: name, Filename: part.FileName(), ContentType: part.Header.Get("Content-Type"), Data: data})
		case name == "model":
			e.Model = string(data)
		case name == "prompt":
			e.Prompt = string(data)
		case name == "size":
			e.Size = string(data)
		case name == "response_format":
			e.ResponseFormat = string(data)
		}
	}
	return e, nil
}

// boundary is the multipart boundary of a request's Content-Type.
func boundary(r *http.Request) string {
	_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return params["boundary"]
}

// pathFor is the path of the API a script response answers.
func pathFor(r *llm.ScriptResponse) string {
	switch {
	case r.Image != nil:
		return pathImages
	case r.Audio != nil:
		return pathSpeech
	case r.Transcript != nil:
		return pathTranscriptions
	}
	return pathChat
}

// writeImage answers an images request with one image: b64_json when the
// script gives its bytes, else its url.
func writeImage(w http.ResponseWriter, img *llm.Media) {
	item := map[string]string{"url": img.URL}
	if img.URL == "" {
		item = map[string]string{"b64_json": base64.StdEncoding.EncodeToString(img.Data)}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"created": time.Now().Unix(), "data": []any{item}})
}

// writeTranscript answers a transcription request in the response format
// asked for: json (the default), text, or verbose_json with segments.
func writeTranscript(w http.ResponseWriter, format string, t *llm.Transcript) {
	type segment struct {
		ID    int     `json:"id"`
		Start float64 `json:"start"`
		End   float64 `json:"end"`
		Text  string  `json:"text"`
	}
	var body any
	switch format {
	case "", "json":
		body = map[string]string{"text": t.Text}
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, t.Text+"\n")
		return
	case "verbose_json":
		segments := make([]segment, len(t.Segments))
		duration := 0.0
		for i, s := range t.Segments {
			segments[i] = segment{ID: i, Start: s.Start, End: s.End, Text: " " + s.Text}
			duration = max(duration, s.End)
		}
		body = map[string]any{"task": "transcribe", "language": "english", "duration": duration, "text": t.Text, "segments": segments}
	default:
		writeError(w, http.StatusBadRequest, "", "fake OpenAI server: response_format "+format+" is not served")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// errorCodes are the codes OpenAI gives with scripted statuses.
var errorCodes = map[int]string{
	http.StatusUnauthorized:    "invalid_api_key",
	http.StatusNotFound:        "model_not_found",
	http.StatusTooManyRequests: "rate_limit_exceeded",
}

// writeError answers with an OpenAI error body; an empty code is null.
func writeError(w http.ResponseWriter, status int, code, message string) {
	type apiError struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	e := apiError{Message: message, Type: "invalid_request_error"}
	if code != "" {
		e.Code = &code
	}
	switch {
	case status == http.StatusTooManyRequests:
		e.Type = "requests"
	case status >= 500:
		e.Type = "server_error"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]apiError{"error": e})
}

// stream writes script response i as Server-Sent Events.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req *openai.ChatCompletionRequest, i int) {
	resp := &s.script.Responses[i]
	early := resp.Fault.Kind == llm.FaultStall && resp.Fault.After == 0
	if early && s.opts.stallPoint == StallBeforeHeaders {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Request-Id", "req_fake"+strconv.Itoa(i+1))
	w.WriteHeader(http.StatusOK)
	e := &encoder{w: w, done: r.Context().Done(), delay: s.opts.delay, fault: resp.Fault}
	if early && s.opts.stallPoint == StallAfterHeaders {
		if e.flush() {
			<-e.done
		}
		return
	}
	if !e.keepAlives(s.opts.keepAlives, s.opts.keepAlive) {
		return
	}
	if resp.Fault.Delay > 0 {
		e.delay = resp.Fault.Delay
	}
	e.head = fmt.Appendf(nil, `data: {"id":"chatcmpl-fake%d","object":"chat.completion.chunk","created":%d,"model":%s,"system_fingerprint":"fp_fake","choices":[`,
		i+1, time.Now().Unix(), quote(req.Model))
	e.tail = "]}\n\n"
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	if includeUsage {
		e.tail = `],"usage":null}` + "\n\n"
	}

	ok := e.chunk(`{"role":"assistant","content":"","refusal":null}`, "", "", "")
	for _, piece := range s.split(resp.Reasoning) {
		ok = ok && e.delta(`{"reasoning_content":`, piece, "}")
	}
	for _, piece := range s.split(resp.Text) {
		ok = ok && e.delta(`{"content":`, piece, "}")
	}
	for _, f := range s.toolFragments(i) {
		ok = ok && e.delta(f.prefix, f.text, f.suffix)
	}
	ok = ok && e.breaks(true) && e.chunk("{}", "", "", finishReason(resp))
	if ok && includeUsage {
		e.usage(usage(resp, req))
	}
	if ok {
		e.buf = append(e.buf, "data: [DONE]\n\n"...)
		e.flush()
	}
}

// fragment is one tool_calls delta, in the arguments of encoder.chunk.
type fragment struct {
	prefix, text, suffix string
}

// toolFragments returns the tool_calls deltas of response i: for each call
// a start with id and name, then its arguments in pieces of at most 8
// bytes.
func (s *Server) toolFragments(i int) []fragment {
	calls := s.script.Responses[i].ToolCalls
	perCall := make([][]fragment, len(calls))
	for j, c := range calls {
		index := j
		if s.opts.sharedIndex {
			index = 0
		}
		start := fmt.Sprintf(`{"tool_calls":[{"index":%d,"id":%s,"type":"function","function":{"name":%s,"arguments":""}}]}`,
			index, quote(s.script.ToolCallID(i, j)), quote(c.Name))
		perCall[j] = append(perCall[j], fragment{prefix: start})
		argsPrefix := fmt.Sprintf(`{"tool_calls":[{"index":%d,"function":{"arguments":`, index)
		for _, piece := range splitBytes(c.Arguments, 8) {
			perCall[j] = append(perCall[j], fragment{argsPrefix, piece, "}}]}"})
		}
	}
	var out []fragment
	if !s.opts.interleave {
		for _, fs := range perCall {
			out = append(out, fs...)
		}
		return out
	}
	for round := 0; ; round++ {
		more := false
		for _, fs := range perCall {
			if round < len(fs) {
				out = append(out, fs[round])
				more = true
			}
		}
		if !more {
			return out
		}
	}
}

// split cuts a text into the deltas to stream.
func (s *Server) split(text string) []string {
	if s.opts.deltas <= 0 {
		return llm.Words(text)
	}
	runes := utf8.RuneCountInString(text)
	n := min(s.opts.deltas, runes)
	pieces := make([]string, 0, n)
	for k := n; k > 0; k-- {
		// Each piece takes an equal share of the runes left.
		take, size := runes/k, 0
		for range take {
			_, w := utf8.DecodeRuneInString(text[size:])
			size += w
		}
		pieces = append(pieces, text[:size])
		text, runes = text[size:], runes-take
	}
	return pieces
}

// splitBytes cuts s into pieces of at most size bytes, at rune boundaries.
func splitBytes(s string, size int) []string {
	var pieces []string
	for len(s) > 0 {
		end := min(size, len(s))
		for end < len(s) && !utf8.RuneStart(s[end]) {
			end++
		}
		pieces = append(pieces, s[:end])
		s = s[end:]
	}
	return pieces
}

func finishReason(r *llm.ScriptResponse) string {
	switch r.FinishReason {
	case "":
		if len(r.ToolCalls) > 0 {
			return "tool_calls"
		}
		return "stop"
	case "tool-calls":
		return "tool_calls"
	case "content-filter":
		return "content_filter"
	}
	return r.FinishReason
}

func usage(r *llm.ScriptResponse, req *openai.ChatCompletionRequest) llm.Usage {
	if r.Usage != nil {
		return *r.Usage
	}
	input, output := 0, len(r.Text)+len(r.Reasoning)
	for _, m := range req.Messages {
		input += len(m.Content)
	}
	for _, c := range r.ToolCalls {
		output += len(c.Arguments)
	}
	u := llm.Usage{InputTokens: llm.RoughTokens(input), OutputTokens: llm.RoughTokens(output)}
	u.TotalTokens = u.InputTokens + u.OutputTokens
	return u
}

// encoder writes chunks, buffering them unless there is a delay.
type encoder struct {
	w         http.ResponseWriter
	done      <-chan struct{}
	delay     time.Duration
	timer     *time.Timer
	head, buf []byte
	tail      string
	fault     llm.Fault
	deltas    int // chunks sent that make a delta
}

// delta appends a chunk that makes one delta (see chunk), after the fault
// when it is due. It reports false once the stream is over.
func (e *encoder) delta(prefix, text, suffix string) bool {
	if !e.breaks(false) {
		return false
	}
	e.deltas++
	return e.chunk(prefix, text, suffix, "")
}

// breaks plays the fault when it is due now; end is true after the last
// delta. It reports false when the stream is over.
func (e *encoder) breaks(end bool) bool {
	if !e.fault.Due(e.deltas, end) {
		return true
	}
	switch e.fault.Kind {
	case llm.FaultMalformed:
		e.buf = append(e.buf, `data: {"choices":[{"index":0,"delta":{"content":"unfinis`+"\n\n"...)
		return true
	case llm.FaultStall:
		if e.flush() {
			<-e.done
		}
		return false
	}
	e.flush()
	// net/http closes the connection without ending the chunked body.
	panic(http.ErrAbortHandler)
}

// chunk appends one chunk whose single choice has as delta prefix, then,
// when suffix is not empty, text as a JSON string and suffix; and the
// finish reason unless it is "". It reports false once the client is gone.
func (e *encoder) chunk(prefix, text, suffix, finish string) bool {
	if e.delay > 0 {
		if e.timer == nil {
			e.timer = time.NewTimer(e.delay)
		} else {
			e.timer.Reset(e.delay)
		}
		select {
		case <-e.timer.C:
		case <-e.done:
			return false
		}
	}
	e.buf = append(e.buf, e.head...)
	e.buf = append(e.buf, `{"index":0,"delta":`...)
	e.buf = append(e.buf, prefix...)
	if suffix != "" {
		e.buf = appendString(e.buf, text)
		e.buf = append(e.buf, suffix...)
	}
	e.buf = append(e.buf, `,"logprobs":null,"finish_reason":`...)
	if finish == "" {
		e.buf = append(e.buf, "null"...)
	} else {
		e.buf = appendString(e.buf, finish)
	}
	e.buf = append(e.buf, '}')
	e.buf = append(e.buf, e.tail...)
	if e.delay > 0 || len(e.buf) >= 32<<10 {
		return e.flush()
	}
	return true
}

// keepAlives writes n keep-alive comments, one every d. It reports false
// once the client is gone.
func (e *encoder) keepAlives(n int, d time.Duration) bool {
	for range n {
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-e.done:
				t.Stop()
				return false
			}
		}
		e.buf = append(e.buf, KeepAliveComment+"\n\n"...)
		if d > 0 && !e.flush() {
			return false
		}
	}
	return true
}

// usage appends the final chunk: no choices, the token counts.
func (e *encoder) usage(u llm.Usage) {
	e.buf = append(e.buf, e.head...)
	e.buf = fmt.Appendf(e.buf, `],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n",
		u.InputTokens, u.OutputTokens, u.TotalTokens)
}

func (e *encoder) flush() bool {
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	if err != nil {
		return false
	}
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
	return true
}

func quote(s string) string {
	return string(appendString(nil, s))
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
