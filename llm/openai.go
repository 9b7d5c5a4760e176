package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sashabaranov/go-openai"

	"github.com/octrun/octrun/internal/jsonmsg"
)

// OpenAI is a Client for any OpenAI-compatible chat completions endpoint
// (OpenAI, Gemini's and Anthropic's compatibility layers, xAI, OpenRouter,
// Ollama, vLLM, LiteLLM). Chat requests use go-openai's request types,
// with the fields go-openai has no type for added (chatBody), and are sent
// and their stream read here; the media calls go through go-openai. It
// always streams, with usage requested. It is a MediaClient too, through
// the endpoint's images and audio APIs. It is safe for concurrent use.
type OpenAI struct {
	client *openai.Client
	// http fetches the files given by URL (attached files, Transcribe,
	// reference images) and sends the chat requests and those go-openai
	// has no call for (image edits with several images), to baseURL with
	// apiKey.
	http            *http.Client
	baseURL, apiKey string
	// provider names the provider whose models the endpoint serves, ""
	// when the model names say it (WithProvider).
	provider string
}

// OpenAIOption configures an OpenAI client.
type OpenAIOption func(*openAIConfig)

type openAIConfig struct {
	httpClient *http.Client
	provider   string
}

// WithHTTPClient sets the HTTP client used for requests. The default one
// is shared by every client and keeps up to 64 idle connections per host.
func WithHTTPClient(c *http.Client) OpenAIOption {
	return func(o *openAIConfig) { o.httpClient = c }
}

// WithProvider says that the endpoint serves the models of the provider
// name (a prefix of rule C2) and that requests name them without the
// prefix. It picks the provider's form of the settings the OpenAI API
// leaves open, like turning reasoning off. Without it, a model named
// provider/model-id picks its provider's form, and a model of no known
// provider gets none of them (chatBody).
func WithProvider(name string) OpenAIOption {
	return func(o *openAIConfig) { o.provider = name }
}

// defaultHTTPClient has no overall timeout (a stream lasts as long as the
// model writes; the caller's context bounds it) and keeps enough idle
// connections for many concurrent runs against one endpoint.
var defaultHTTPClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}()

// NewOpenAI returns a client for the endpoint at baseURL (ending in /v1 or
// the provider's equivalent; /chat/completions is appended) authenticated
// with apiKey as a bearer token. An empty apiKey sends no Authorization.
func NewOpenAI(baseURL, apiKey string, opts ...OpenAIOption) *OpenAI {
	o := openAIConfig{httpClient: defaultHTTPClient}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := openai.DefaultConfig(apiKey)
	cfg.BaseURL = baseURL
	cfg.HTTPClient = statusDoer{o.httpClient}
	return &OpenAI{client: openai.NewClientWithConfig(cfg), http: o.httpClient, baseURL: strings.TrimSuffix(baseURL, "/"), apiKey: apiKey, provider: o.provider}
}

// Generate streams one chat completion for req, sending req.Model
// unchanged. onDelta may be nil. A stream that breaks fails with a
// retryable provider_error, even after deltas, rather than giving a
// truncated response: one cut short (the connection closes, or the stream
// ends before a finish_reason) or holding a chunk that is not JSON. An
// error event, or a chunk holding an error, fails the call with that
// error. SSE comment lines, which gateways send as keep-alives while a
// model thinks, are read past, however many come; each is reported to
// the idle timeout of WithRetry (see WithIdleTimeout).
func (c *OpenAI) Generate(ctx context.Context, req Request, onDelta func(Delta) error) (*Response, error) {
	if err := CheckFiles(req); err != nil {
		return nil, err
	}
	req, err := c.inlineFiles(ctx, req)
	if err != nil {
		return nil, err
	}
	prov, modelID := dialect(c.provider, req.Model)
	body, err := chatBody(req, prov, modelID)
	if err != nil {
		return nil, err
	}
	var status httpStatus
	resp, err := c.post(ctx, "/chat/completions", "application/json", body, &status)
	if err != nil {
		return nil, classify(ctx, err, &status, req.Model)
	}
	defer resp.Body.Close()
	events := newEventStream(resp.Body, keepAliveOf(ctx))
	a := assembler{onDelta: onDelta}
	var ch chunk
	for {
		raw, err := events.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errLineTooLong) {
			return nil, malformedStream(req.Model, err.Error())
		}
		if err != nil {
			return nil, classify(ctx, err, &status, req.Model)
		}
		// Reuse the chunk and its choices, zeroed: json leaves absent
		// fields as they were.
		clear(ch.Choices[:cap(ch.Choices)])
		ch = chunk{Choices: ch.Choices[:0]}
		if err := json.Unmarshal(raw, &ch); err != nil {
			return nil, malformedChunk(req.Model, a.chunks+1, err)
		}
		if apiErr := ch.streamError(); apiErr != nil {
			return nil, classify(ctx, apiErr, &status, req.Model)
		}
		if err := a.add(&ch); err != nil {
			return nil, err
		}
	}
	switch {
	case a.chunks == 0:
		return nil, &Error{Type: TypeProvider, Model: req.Model, Retryable: true, Message: "the stream ended without any data"}
	case a.finishReason == "":
		return nil, streamCut(req.Model, "no finish_reason")
	}
	return a.response(), nil
}

// streamCut is the error of a stream that ended too early.
func streamCut(model, why string) *Error {
	return &Error{Type: TypeProvider, Retryable: true, Model: model, Message: "the stream was cut before its end: " + why}
}

// malformedStream is the error of a stream that is not valid.
func malformedStream(model, why string) *Error {
	return &Error{Type: TypeProvider, Retryable: true, Model: model, Message: "the stream was malformed: " + why}
}

// malformedChunk is the error of chunk n, which did not decode.
func malformedChunk(model string, n int, err error) *Error {
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return malformedStream(model, fmt.Sprintf("chunk %d is not a chat completion chunk: %v", n, jsonmsg.Describe(err)))
	}
	return malformedStream(model, fmt.Sprintf("chunk %d is not JSON: %v", n, err))
}

// chunk is the part of a chat.completion.chunk that octrun reads. Decoding
// into it rather than go-openai's full type skips fields nobody reads and
// accepts both names providers use for reasoning text.
type chunk struct {
	Choices []struct {
		Delta struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"` // DeepSeek, xAI, vLLM
			Reasoning        string `json:"reasoning"`         // OpenRouter, Ollama
			ToolCalls        []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
	// Error is the error of an error event: {"error": {...}}, or a chunk
	// with an error (OpenRouter's errors after the stream began).
	Error json.RawMessage `json:"error"`
}

// streamError returns the error the chunk holds, nil if none: an OpenAI
// error object, or a bare message.
func (ch *chunk) streamError() *openai.APIError {
	if len(ch.Error) == 0 || string(ch.Error) == "null" {
		return nil
	}
	e := &openai.APIError{}
	if json.Unmarshal(ch.Error, e) == nil && e.Message != "" {
		return e
	}
	if json.Unmarshal(ch.Error, &e.Message) != nil {
		e.Message = string(ch.Error)
	}
	return e
}

// assembler turns chunks into deltas and the final Response.
type assembler struct {
	onDelta      func(Delta) error
	chunks       int
	text         []byte
	reasoning    []byte
	calls        []toolCall
	finishReason string
	usage        Usage
}

// toolCall is a tool call being assembled; index is the provider's.
type toolCall struct {
	index int
	call  ToolCall
	args  []byte
}

func (a *assembler) emit(d Delta) error {
	if a.onDelta == nil {
		return nil
	}
	return a.onDelta(d)
}

func (a *assembler) add(ch *chunk) error {
	a.chunks++
	if u := ch.Usage; u != nil {
		a.usage = Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	}
	for i := range ch.Choices {
		c := &ch.Choices[i]
		d := &c.Delta
		for _, r := range [2]string{d.ReasoningContent, d.Reasoning} {
			if r != "" {
				a.reasoning = append(a.reasoning, r...)
				if err := a.emit(Delta{Kind: ReasoningDelta, Text: r}); err != nil {
					return err
				}
			}
		}
		if d.Content != "" {
			a.text = append(a.text, d.Content...)
			if err := a.emit(Delta{Kind: TextDelta, Text: d.Content}); err != nil {
				return err
			}
		}
		for _, f := range d.ToolCalls {
			if err := a.toolFragment(f.Index, f.ID, f.Function.Name, f.Function.Arguments); err != nil {
				return err
			}
		}
		if c.FinishReason != "" {
			a.finishReason = c.FinishReason
		}
	}
	return nil
}

// toolFragment adds one tool_calls fragment. The first fragment of a call
// opens it (ToolCallStart, with a generated id if the provider sent none);
// see callOf for which call a fragment belongs to.
func (a *assembler) toolFragment(index *int, id, name, args string) error {
	pos := a.callOf(index, id)
	if pos < 0 {
		pos = len(a.calls)
		tc := toolCall{index: pos, call: ToolCall{ID: id, Name: name}}
		if index != nil {
			tc.index = *index
		}
		if tc.call.ID == "" {
			tc.call.ID = "call_" + strconv.Itoa(pos+1)
		}
		a.calls = append(a.calls, tc)
		if err := a.emit(Delta{Kind: ToolCallStart, ToolIndex: pos, ToolID: tc.call.ID, ToolName: name}); err != nil {
			return err
		}
	}
	if args == "" {
		return nil
	}
	tc := &a.calls[pos]
	tc.args = append(tc.args, args...)
	return a.emit(Delta{Kind: ToolCallArgs, ToolIndex: pos, ToolID: tc.call.ID, ToolName: tc.call.Name, Text: args})
}

// callOf returns the position of the call that a fragment with index
// (nil: none) and id continues, or -1 when the fragment opens a call. A
// fragment without an id continues the last call of its index (the last
// call, when it has no index); one with an id continues the call of its
// index with that id. So a new id at an index opens a new call: Ollama
// sends parallel calls all at index 0, each with its own id.
func (a *assembler) callOf(index *int, id string) int {
	for i := len(a.calls) - 1; i >= 0; i-- {
		c := &a.calls[i]
		if (index == nil || c.index == *index) && (id == "" || id == c.call.ID) {
			return i
		}
	}
	return -1
}

func (a *assembler) response() *Response {
	r := &Response{
		Text:         string(a.text),
		Reasoning:    string(a.reasoning),
		FinishReason: finishReason(a.finishReason),
		Usage:        a.usage,
	}
	if len(a.calls) > 0 {
		r.ToolCalls = make([]ToolCall, len(a.calls))
		for i, tc := range a.calls {
			r.ToolCalls[i] = tc.call
			r.ToolCalls[i].Arguments = string(tc.args)
		}
		// Some compatibility layers (Gemini's) say stop after tool calls.
		if r.FinishReason == "stop" {
			r.FinishReason = "tool-calls"
		}
	}
	return r
}

// finishReason maps OpenAI's finish_reason to the protocol's.
func finishReason(s string) string {
	switch s {
	case "stop":
		return "stop"
	case "tool_calls", "function_call":
		return "tool-calls"
	case "length":
		return "length"
	case "content_filter":
		return "content-filter"
	}
	return "other"
}

// httpStatus records the Retry-After of a failed response; it travels
// in the request's context to statusDoer for go-openai's calls.
type httpStatus struct {
	retryAfter time.Duration
}

type httpStatusKey struct{}

// statusDoer is the go-openai HTTP doer: it reads Retry-After from error
// responses, which go-openai's errors do not carry.
type statusDoer struct{ c *http.Client }

func (d statusDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.Do(req)
	if s, ok := req.Context().Value(httpStatusKey{}).(*httpStatus); ok && err == nil && resp.StatusCode >= 400 {
		s.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return resp, err
}

// post sends body to the endpoint's path and returns the response of a
// 2xx answer, whose body the caller closes. Any other answer is an error
// classify understands (the endpoint's error as an *openai.APIError when
// the body holds one, else an *openai.RequestError), its Retry-After
// recorded in status.
func (c *OpenAI) post(ctx context.Context, path, contentType string, body []byte, status *httpStatus) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", contentType)
	hreq.Header.Set("Accept", "application/json, text/event-stream")
	if c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	status.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	const limit = 1 << 20
	data, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
	var answer openai.ErrorResponse
	if json.Unmarshal(data, &answer) == nil && answer.Error != nil {
		answer.Error.HTTPStatus, answer.Error.HTTPStatusCode = resp.Status, resp.StatusCode
		return nil, answer.Error
	}
	return nil, &openai.RequestError{HTTPStatus: resp.Status, HTTPStatusCode: resp.StatusCode, Body: data}
}

// classify turns an error of go-openai into an *Error, or into the
// context's error when ctx is done.
func classify(ctx context.Context, err error, status *httpStatus, model string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var e *Error
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	var netErr net.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode == 0:
		// An error event inside a 200 stream has no status.
		e = errorForAPIType(apiErr)
	case errors.As(err, &apiErr):
		e = ErrorForStatus(apiErr.HTTPStatusCode, apiErr.Message)
		if e.Type == TypeRateLimit && (apiErr.Type == "insufficient_quota" || apiErr.Code == "insufficient_quota") {
			// OpenAI answers 429 when the account is out of credit.
			e.Type, e.Retryable = TypeQuotaExceeded, false
		}
	case errors.As(err, &reqErr):
		e = ErrorForStatus(reqErr.HTTPStatusCode, bodyMessage(reqErr.Body))
	case errors.As(err, &netErr) && netErr.Timeout():
		e = &Error{Type: TypeProviderTimeout, Retryable: true, Message: err.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		e = streamCut(model, err.Error())
	case errors.As(err, &netErr):
		e = &Error{Type: TypeProvider, Retryable: true, Message: err.Error()}
	default:
		// go-openai refused to build or send the request.
		e = &Error{Type: TypeValidation, Message: err.Error()}
	}
	e.Model = model
	e.RetryAfter = status.retryAfter
	return e
}

// errorForAPIType classifies an error that arrived inside the stream by
// its OpenAI error type or code.
func errorForAPIType(apiErr *openai.APIError) *Error {
	kind := apiErr.Type
	if code, ok := apiErr.Code.(string); ok && code != "" {
		kind = code
	}
	e := &Error{Type: TypeProvider, Retryable: true, Message: apiErr.Message}
	switch kind {
	case "invalid_request_error", "context_length_exceeded":
		e.Type, e.Retryable = TypeValidation, false
	case "authentication_error", "invalid_api_key":
		e.Type, e.Retryable = TypeAuthentication, false
	case "rate_limit_exceeded", "rate_limit_error", "requests", "tokens":
		e.Type = TypeRateLimit
	case "insufficient_quota":
		e.Type, e.Retryable = TypeQuotaExceeded, false
	case "overloaded_error", "server_overloaded":
		e.Type = TypeProviderOverloaded
	}
	return e
}

// bodyMessage shortens a non-JSON error body for a message.
func bodyMessage(body []byte) string {
	const limit = 300
	if len(body) > limit {
		return fmt.Sprintf("%s... (%d bytes)", body[:limit], len(body))
	}
	return string(body)
}
