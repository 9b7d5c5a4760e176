package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unicode"
)

// Scripted is a Client and MediaClient that answers from a Script instead
// of a model, for tests and offline runs (octrun --mock). Each call, model
// or media, takes the next response; text and reasoning stream word by
// word, and a fault (see Script) fails the call as the OpenAI client would.
// It is safe for concurrent use.
type Scripted struct {
	script *Script
	// first is the index of the response the first call takes.
	first int

	mu       sync.Mutex
	calls    int // calls made so far, model and media
	requests []Request
	media    []MediaCall
}

// MediaCall is a media request a Scripted client received: one of Image,
// Speech and Transcription is set. N is the call's number among all the
// client's calls, model and media, from 1.
type MediaCall struct {
	N             int
	Image         *ImageRequest
	Speech        *SpeechRequest
	Transcription *TranscriptionRequest
}

// NewScripted returns a client answering from s. s must not change while
// the client is in use.
func NewScripted(s *Script) *Scripted {
	return &Scripted{script: s}
}

// NewScriptedFrom returns a client whose first call takes response
// number first (from 0): a continued run whose earlier model calls were
// already answered, by a client that no longer exists, goes on from there.
func NewScriptedFrom(s *Script, first int) *Scripted {
	return &Scripted{script: s, first: first}
}

// From returns a client of the same script whose first call takes the
// response first calls after this client's first: a process that serves
// many runs gives each its own, starting where the run is.
func (c *Scripted) From(first int) Client { return NewScriptedFrom(c.script, c.first+first) }

// Requests returns every request made so far, in order.
func (c *Scripted) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

// MediaCalls returns every media request made so far, in order.
func (c *Scripted) MediaCalls() []MediaCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.media)
}

// next takes the response of the next call, which asks for kind: it fails
// with a plain error when the script has no response left, or the response
// names another model or answers another kind of call, and with a copy of
// the response's *Error when it has one. record, called with the call's
// number, records the request.
func (c *Scripted) next(model, kind string, record func(n int)) (int, *ScriptResponse, error) {
	c.mu.Lock()
	i := c.first + c.calls
	c.calls++
	record(c.calls)
	c.mu.Unlock()

	if i >= len(c.script.Responses) {
		return i, nil, fmt.Errorf("scripted model: the script has %d responses and call %d was made (model %s)", len(c.script.Responses), i+1, model)
	}
	r := &c.script.Responses[i]
	if r.Model != "" && r.Model != model {
		return i, nil, fmt.Errorf("scripted model: %s expects model %s, but call %d was for %s", r.where(i), r.Model, i+1, model)
	}
	if k := r.kind(); k != "" && k != kind {
		return i, nil, fmt.Errorf("scripted model: %s is %s, but call %d asks for %s (model %s)", r.where(i), k, i+1, kind, model)
	}
	if r.Error != nil {
		e := *r.Error
		e.Provider, e.Model = splitModel(model)
		return i, nil, &e
	}
	return i, r, nil
}

// Generate answers req with the script's next response (see next), as its
// fault says when it has one.
func (c *Scripted) Generate(ctx context.Context, req Request, onDelta func(Delta) error) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := CheckFiles(req); err != nil {
		return nil, err
	}
	// The request is kept as it is: its caller changes nothing it shares
	// (Client).
	i, r, err := c.next(req.Model, kindGeneration, func(int) { c.requests = append(c.requests, req) })
	if err != nil {
		return nil, err
	}

	sent := 0
	emit := func(d Delta) error {
		if r.Fault.Delay > 0 {
			if err := sleep(ctx, r.Fault.Delay); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := breakStream(ctx, r.Fault, sent, false, req.Model); err != nil {
			return err
		}
		sent++
		if onDelta == nil {
			return nil
		}
		return onDelta(d)
	}
	resp := &Response{Text: r.Text, Reasoning: r.Reasoning, FinishReason: r.FinishReason}
	for _, w := range Words(r.Reasoning) {
		if err := emit(Delta{Kind: ReasoningDelta, Text: w}); err != nil {
			return nil, err
		}
	}
	for _, w := range Words(r.Text) {
		if err := emit(Delta{Kind: TextDelta, Text: w}); err != nil {
			return nil, err
		}
	}
	output := len(r.Text) + len(r.Reasoning)
	for j, tc := range r.ToolCalls {
		tc.ID = c.script.ToolCallID(i, j)
		if err := emit(Delta{Kind: ToolCallStart, ToolIndex: j, ToolID: tc.ID, ToolName: tc.Name}); err != nil {
			return nil, err
		}
		if err := emit(Delta{Kind: ToolCallArgs, ToolIndex: j, ToolID: tc.ID, ToolName: tc.Name, Text: tc.Arguments}); err != nil {
			return nil, err
		}
		resp.ToolCalls = append(resp.ToolCalls, tc)
		output += len(tc.Arguments)
	}
	if err := breakStream(ctx, r.Fault, sent, true, req.Model); err != nil {
		return nil, err
	}
	if resp.FinishReason == "" {
		resp.FinishReason = "stop"
		if len(r.ToolCalls) > 0 {
			resp.FinishReason = "tool-calls"
		}
	}
	if r.Usage != nil {
		resp.Usage = *r.Usage
	} else {
		input := 0
		for _, m := range req.Messages {
			input += len(m.Content)
			for _, tc := range m.ToolCalls {
				input += len(tc.Arguments)
			}
		}
		resp.Usage = Usage{InputTokens: RoughTokens(input), OutputTokens: RoughTokens(output)}
		resp.Usage.TotalTokens = resp.Usage.InputTokens + resp.Usage.OutputTokens
	}
	return resp, nil
}

// GenerateImage implements MediaClient: it answers with the image of the
// script's next response (see next). Reference images are checked as the
// OpenAI client checks them before it sends anything, so that an offline
// run fails where a real one would.
func (c *Scripted) GenerateImage(ctx context.Context, req ImageRequest) (*Media, error) {
	for i, ref := range req.ReferenceImages {
		if err := checkFileURL(req.Model, fmt.Sprintf("reference image %d", i+1), ref); err != nil {
			return nil, err
		}
	}
	req.ReferenceImages = slices.Clone(req.ReferenceImages)
	r, err := c.nextMedia(ctx, req.Model, kindImage, MediaCall{Image: &req})
	if err != nil {
		return nil, err
	}
	img := *r.Image
	return &img, nil
}

// GenerateSpeech implements MediaClient: it answers with the audio of the
// script's next response (see next).
func (c *Scripted) GenerateSpeech(ctx context.Context, req SpeechRequest) (*Media, error) {
	r, err := c.nextMedia(ctx, req.Model, kindAudio, MediaCall{Speech: &req})
	if err != nil {
		return nil, err
	}
	audio := *r.Audio
	return &audio, nil
}

// Transcribe implements MediaClient: it answers with the transcript of the
// script's next response (see next). It reads no audio.
func (c *Scripted) Transcribe(ctx context.Context, req TranscriptionRequest) (*Transcript, error) {
	r, err := c.nextMedia(ctx, req.Model, kindTranscript, MediaCall{Transcription: &req})
	if err != nil {
		return nil, err
	}
	t := *r.Transcript
	t.Segments = slices.Clone(t.Segments)
	return &t, nil
}

// nextMedia records a media call and takes its response (see next). A
// scripted status 405 or 501 is an endpoint without the API called: an
// unsupported *Error, as the OpenAI client gives.
func (c *Scripted) nextMedia(ctx context.Context, model, kind string, call MediaCall) (*ScriptResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, r, err := c.next(model, kind, func(n int) {
		call.N = n
		c.media = append(c.media, call)
	})
	if e, ok := errors.AsType[*Error](err); ok && (e.StatusCode == http.StatusMethodNotAllowed || e.StatusCode == http.StatusNotImplemented) {
		return nil, noAPI(e, mediaAPIs[kind])
	}
	return r, err
}

// breakStream returns the error of fault f when it is due before delta k
// (end: after the last delta): a retryable provider_error for a cut or
// malformed stream; for a stall, ctx's error once ctx ends.
func breakStream(ctx context.Context, f Fault, k int, end bool, model string) error {
	if !f.Due(k, end) {
		return nil
	}
	var e *Error
	switch f.Kind {
	case FaultStall:
		<-ctx.Done()
		return ctx.Err()
	case FaultCut:
		e = streamCut("", "scripted fault")
	default:
		e = malformedStream("", "a chunk is not JSON (scripted fault)")
	}
	e.Provider, e.Model = splitModel(model)
	return e
}

// ToolCallID returns the id of tool call j of response i: the one the
// script gives, else call_<n>, numbering the tool calls of the whole script
// from 1, so that ids are unique across a conversation.
func (s *Script) ToolCallID(i, j int) string {
	if id := s.Responses[i].ToolCalls[j].ID; id != "" {
		return id
	}
	n := j + 1
	for _, r := range s.Responses[:i] {
		n += len(r.ToolCalls)
	}
	return "call_" + strconv.Itoa(n)
}

// RoughTokens estimates the tokens of n bytes of text: one per 4 bytes,
// at least 1 for any text.
func RoughTokens(n int) int {
	return (n + 3) / 4
}

// Words splits s into the pieces a scripted model streams: each word with
// the white space before it, so that the pieces join to s.
func Words(s string) []string {
	var words []string
	start := 0
	prevSpace := true
	for i, r := range s {
		space := unicode.IsSpace(r)
		if space && !prevSpace {
			words = append(words, s[start:i])
			start = i
		}
		prevSpace = space
	}
	if start < len(s) {
		words = append(words, s[start:])
	}
	return words
}
