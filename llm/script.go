package llm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/diag"
)

// Script is a scripted model: the responses to give, one per call, in
// order. LoadScript and ParseScript read it from YAML (or JSON):
//
//	responses:
//	  - text: "Hello there"          # streamed in words
//	    model: openai/gpt-4o          # optional: the call must be for this model
//	    usage: {input: 12, output: 3} # optional; default: rough counts from lengths
//	    finishReason: length          # optional: stop, tool-calls, length, content-filter, other
//	  - reasoning: "Let me think"     # streamed before the text
//	    text: "..."
//	    fault: {cutAfter: 2}          # optional: break the stream after 2 deltas (see below)
//	  - toolCalls:
//	      - name: web-search
//	        arguments: {query: tides} # a mapping (sent as JSON) or a string sent verbatim
//	        id: call_1                # optional; default call_<n>
//	  - error: {status: 429, message: "slow down", retryAfter: 2} # retryAfter: seconds (Retry-After)
//	    model: openai/gpt-4o          # an error may only have a model besides
//	  - image: {mediaType: image/png, data: iVBORw0KGgo=} # an image model's answer: base64 bytes
//	  - image: {mediaType: image/jpeg, url: "https://example.com/cat.jpg"} # or a URL
//	  - audio: {mediaType: audio/mpeg, data: SUQzBA==}     # a speech model's answer
//	  - transcript: "Hello there."                         # a transcription model's answer
//	  - transcript:                                        # with timed segments (seconds)
//	      text: "Hello there. Bye."
//	      segments: [{start: 0, end: 1.5, text: "Hello there."}, {start: 1.5, end: 2, text: "Bye."}]
//	tools:                            # optional: answers of tool calls, for offline runs
//	  web-search:
//	    result: {hits: 3}             # every call of web-search returns this
//	  fetch-page:
//	    error: "timeout"              # every call of fetch-page fails with this
//
// Model calls and media calls (MediaClient) take the responses in one
// sequence: a chat generation needs a response with text, reasoning or
// tool calls, an image call one with image, a speech call one with audio,
// a transcription one with transcript; an error answers any call. A media
// response has nothing else but a model. On a media call an error with
// status 405 or 501 stands for an endpoint without that API (an
// unsupported *Error, as the OpenAI client reports it), while 404 is a
// missing model.
//
// A fault makes a response with text, reasoning or tool calls misbehave,
// for tests of failures. It has at most one of cutAfter, malformedAfter
// and stallAfter, each a number N of deltas (text, reasoning, tool call
// start or arguments fragment) streamed first; an N beyond the response's
// deltas puts the fault at the end, before the finish. delay may come with
// any of them:
//
//	fault: {cutAfter: 2}       # the connection closes without the end of the stream
//	fault: {malformedAfter: 2} # a chunk of invalid JSON comes next (the fake server then goes on)
//	fault: {stallAfter: 2}     # nothing more comes until the caller gives up
//	fault: {delay: 200ms}      # wait before each chunk (a duration, or a number of seconds)
//
// The fake OpenAI server (fakeopenai) produces these on the wire; the
// scripted client fails as the OpenAI client then does: a retryable
// provider_error for a cut or malformed stream, waiting for its context to
// end for a stall.
type Script struct {
	Responses []ScriptResponse
	// Tools holds the scripted answers of tool calls by tool name. The
	// model client does not use them; a runner that wants a fully offline
	// run registers them as tool handlers.
	Tools map[string]ScriptTool
}

// ScriptTool is the scripted answer of every call of one tool: a result,
// or an error message.
type ScriptTool struct {
	// Result is the JSON value returned (numbers as json.Number).
	Result any
	// Error, when not empty, makes every call fail with this message.
	Error string
}

// ScriptResponse is the answer to one model call.
type ScriptResponse struct {
	// Line is where the response starts in its file, 0 when built in Go.
	Line int
	// Model, when set, is the model the call must be for.
	Model     string
	Reasoning string
	Text      string
	// ToolCalls are the calls the model asks for. An empty ID becomes
	// call_<n> (Script.ToolCallID).
	ToolCalls []ToolCall
	// Error, when set, makes the call fail with a copy of it.
	Error *Error
	// Usage is nil for rough counts: a token per 4 bytes of text.
	Usage *Usage
	// FinishReason is "" for tool-calls when there are tool calls, else stop.
	FinishReason string
	// Fault, when its Kind is not NoFault or it has a Delay, makes the
	// stream misbehave.
	Fault Fault
	// Image, Audio and Transcript answer a media call; at most one is set,
	// and then none of the fields above but Line, Model and Error.
	Image      *Media
	Audio      *Media
	Transcript *Transcript
}

// Kinds of calls and responses, as messages name them.
const (
	kindGeneration = "a generation"
	kindImage      = "an image"
	kindAudio      = "audio"
	kindTranscript = "a transcript"
)

// kind says which call the response answers: one of the kind constants,
// or "" for an error, which answers any.
func (r *ScriptResponse) kind() string {
	switch {
	case r.Error != nil:
		return ""
	case r.Image != nil:
		return kindImage
	case r.Audio != nil:
		return kindAudio
	case r.Transcript != nil:
		return kindTranscript
	}
	return kindGeneration
}

// FaultKind is how a scripted stream breaks.
type FaultKind int

// Kinds of Fault.
const (
	// NoFault streams the whole response.
	NoFault FaultKind = iota
	// FaultCut closes the connection without the end of the stream.
	FaultCut
	// FaultMalformed sends a chunk of invalid JSON.
	FaultMalformed
	// FaultStall sends nothing more until the caller gives up.
	FaultStall
)

// Fault is the misbehaviour of a scripted stream (the script's fault).
type Fault struct {
	Kind FaultKind
	// After is the number of deltas streamed before the fault.
	After int
	// Delay is the wait before each chunk (before each delta for the
	// scripted client); the fake server's own delay when 0.
	Delay time.Duration
}

// Due reports whether the fault breaks the stream before delta k (from
// 0); end is true after the last delta, where a fault whose After is
// beyond the deltas happens.
func (f Fault) Due(k int, end bool) bool {
	return f.Kind != NoFault && (k == f.After || end && k < f.After)
}

// where names the response in messages: "response 2 (line 7)".
func (r *ScriptResponse) where(i int) string {
	if r.Line > 0 {
		return fmt.Sprintf("response %d (line %d)", i+1, r.Line)
	}
	return fmt.Sprintf("response %d", i+1)
}

// LoadScript reads a script file. Problems are reported all at once, one
// a line, as path:line:col: message.
func LoadScript(path string) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseScript(path, data)
}

// ParseScript reads a script from YAML or JSON text. Problems are reported
// all at once, one a line, as line:col: message.
func ParseScript(data []byte) (*Script, error) {
	return parseScript("", data)
}

var (
	responseKeys = []string{"text", "reasoning", "toolCalls", "error", "model", "usage", "finishReason", "fault", "image", "audio", "transcript"}
	mediaKeys    = []string{"image", "audio", "transcript"}
	fileKeys     = []string{"mediaType", "data", "url"}
	audioKeys    = []string{"mediaType", "data"}
	segmentKeys  = []string{"start", "end", "text"}
	toolCallKeys = []string{"name", "arguments", "id"}
	errorKeys    = []string{"status", "message", "retryAfter"}
	toolKeys     = []string{"result", "error"}
	usageKeys    = []string{"input", "output"}
	faultKeys    = []string{"cutAfter", "malformedAfter", "stallAfter", "delay"}
	faultKinds   = map[string]FaultKind{"cutAfter": FaultCut, "malformedAfter": FaultMalformed, "stallAfter": FaultStall}
	finishes     = []string{"stop", "tool-calls", "length", "content-filter", "other"}
)

// scriptParser reads the nodes of one script file, collecting problems.
type scriptParser struct {
	file     string
	problems []string
}

func parseScript(file string, data []byte) (*Script, error) {
	p := &scriptParser{file: file}
	var diags diag.List
	root, ok := yamlx.Parse(file, data, &diags)
	for _, d := range diags {
		p.errorf(&yaml.Node{Line: d.Line, Column: d.Col}, "%s", d.Message)
	}
	if !ok {
		return nil, p.err()
	}
	if root == nil {
		p.errorf(&yaml.Node{Line: 1, Column: 1}, "the script is empty; it needs a responses list")
		return nil, p.err()
	}
	s := &Script{}
	for key, v := range p.mapping(root, "the script", []string{"responses", "tools"}, "responses") {
		if key == "tools" {
			s.Tools = p.tools(v)
			continue
		}
		if v.Kind != yaml.SequenceNode {
			p.errorf(v, "responses must be a list, got %s", describe(v))
			continue
		}
		for _, n := range v.Content {
			s.Responses = append(s.Responses, p.response(n))
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *scriptParser) response(n *yaml.Node) ScriptResponse {
	r := ScriptResponse{Line: n.Line}
	var errNode *yaml.Node
	var content []string
	for key, v := range p.mapping(n, "a response", responseKeys) {
		switch key {
		case "text":
			r.Text = p.text(v, key)
		case "reasoning":
			r.Reasoning = p.text(v, key)
		case "model":
			r.Model = p.text(v, key)
		case "finishReason":
			if r.FinishReason = p.text(v, key); !slices.Contains(finishes, r.FinishReason) {
				p.errorf(v, "finishReason %q is not one of %s", r.FinishReason, strings.Join(finishes, ", "))
			}
		case "toolCalls":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "toolCalls must be a list, got %s", describe(v))
				continue
			}
			for _, c := range v.Content {
				r.ToolCalls = append(r.ToolCalls, p.toolCall(c))
			}
		case "error":
			errNode = v
			r.Error = p.error(v)
		case "usage":
			r.Usage = p.usage(v)
		case "fault":
			r.Fault = p.fault(v)
		case "image":
			r.Image = p.media(v, key, fileKeys)
		case "audio":
			r.Audio = p.media(v, key, audioKeys)
		case "transcript":
			r.Transcript = p.transcript(v)
		}
		if key != "model" && key != "error" {
			content = append(content, key)
		}
	}
	media := slices.IndexFunc(content, func(k string) bool { return slices.Contains(mediaKeys, k) })
	switch {
	case errNode != nil && len(content) > 0:
		p.errorf(errNode, "a response with an error cannot also have %s", strings.Join(content, ", "))
	case media >= 0 && len(content) > 1:
		others := slices.Delete(slices.Clone(content), media, media+1)
		p.errorf(n, "a response with %s cannot also have %s", content[media], strings.Join(others, ", "))
	case errNode == nil && !slices.ContainsFunc(content, func(k string) bool {
		return k == "text" || k == "reasoning" || k == "toolCalls" || slices.Contains(mediaKeys, k)
	}):
		p.errorf(n, "a response needs text, reasoning, toolCalls, image, audio, transcript or error")
	}
	return r
}

// media reads the file of a media response: a media type and base64 data,
// or (when known has url) a media type and a URL.
func (p *scriptParser) media(n *yaml.Node, what string, known []string) *Media {
	m := &Media{}
	var sources []string
	for key, v := range p.mapping(n, what, known, "mediaType") {
		switch key {
		case "mediaType":
			m.MediaType = p.text(v, key)
			if t, sub, ok := strings.Cut(m.MediaType, "/"); m.MediaType != "" && (!ok || t == "" || sub == "") {
				p.errorf(v, "mediaType must be type/subtype, like image/png, got %q", m.MediaType)
			}
		case "data":
			sources = append(sources, key)
			data, err := base64.StdEncoding.DecodeString(p.text(v, key))
			if err != nil {
				p.errorf(v, "data must be base64: %v", err)
			}
			m.Data = data
		case "url":
			sources = append(sources, key)
			m.URL = p.text(v, key)
		}
	}
	if n.Kind == yaml.MappingNode && len(sources) != 1 {
		if slices.Contains(known, "url") {
			p.errorf(n, "%s needs exactly one of data (base64) or url", what)
		} else if len(sources) == 0 {
			p.errorf(n, "%s needs data (base64)", what)
		}
	}
	return m
}

// transcript reads a transcript: its text, or a mapping of text and timed
// segments.
func (p *scriptParser) transcript(n *yaml.Node) *Transcript {
	if n.Kind == yaml.ScalarNode {
		return &Transcript{Text: p.text(n, "transcript")}
	}
	t := &Transcript{}
	for key, v := range p.mapping(n, "transcript", []string{"text", "segments"}, "text") {
		if key == "text" {
			t.Text = p.text(v, key)
			continue
		}
		if v.Kind != yaml.SequenceNode {
			p.errorf(v, "segments must be a list, got %s", describe(v))
			continue
		}
		for _, c := range v.Content {
			t.Segments = append(t.Segments, p.segment(c))
		}
	}
	return t
}

func (p *scriptParser) segment(n *yaml.Node) Segment {
	var s Segment
	for key, v := range p.mapping(n, "a segment", segmentKeys, segmentKeys...) {
		if key == "text" {
			s.Text = p.text(v, key)
			continue
		}
		var seconds float64
		if err := v.Decode(&seconds); err != nil || (v.Tag != "!!int" && v.Tag != "!!float") || seconds < 0 {
			p.errorf(v, "%s must be a number of seconds, got %s", key, describe(v))
		}
		if key == "start" {
			s.Start = seconds
		} else {
			s.End = seconds
		}
	}
	if s.End < s.Start {
		p.errorf(n, "a segment cannot end (%g) before it starts (%g)", s.End, s.Start)
	}
	return s
}

// tools reads the tools section: tool name to {result} or {error}.
func (p *scriptParser) tools(n *yaml.Node) map[string]ScriptTool {
	tools := map[string]ScriptTool{}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "tools must be a mapping of tool names to {result: ...} or {error: ...}, got %s", describe(n))
		return tools
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, body := n.Content[i].Value, n.Content[i+1]
		var t ScriptTool
		count := 0
		for key, v := range p.mapping(body, fmt.Sprintf("tool %q", name), toolKeys) {
			count++
			switch key {
			case "result":
				var b bytes.Buffer
				if err := appendJSON(&b, v); err != nil {
					p.errorf(v, "result: %v", err)
					continue
				}
				dec := json.NewDecoder(&b)
				dec.UseNumber()
				_ = dec.Decode(&t.Result)
			case "error":
				if t.Error = p.text(v, key); t.Error == "" {
					p.errorf(v, "error must be a non-empty message")
				}
			}
		}
		if count != 1 && body.Kind == yaml.MappingNode {
			p.errorf(body, "tool %q needs exactly one of result or error", name)
		}
		tools[name] = t
	}
	return tools
}

func (p *scriptParser) toolCall(n *yaml.Node) ToolCall {
	c := ToolCall{Arguments: "{}"}
	for key, v := range p.mapping(n, "a tool call", toolCallKeys, "name") {
		switch key {
		case "name":
			c.Name = p.text(v, key)
		case "id":
			c.ID = p.text(v, key)
		case "arguments":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
				c.Arguments = v.Value
				continue
			}
			var b bytes.Buffer
			if err := appendJSON(&b, v); err != nil {
				p.errorf(v, "arguments: %v", err)
			}
			c.Arguments = b.String()
		}
	}
	return c
}

func (p *scriptParser) error(n *yaml.Node) *Error {
	var status int
	var message string
	var retryAfter float64
	for key, v := range p.mapping(n, "error", errorKeys, "status") {
		switch key {
		case "status":
			if err := v.Decode(&status); err != nil || status < 400 || status > 599 {
				p.errorf(v, "status must be an HTTP error status (400 to 599), got %s", v.Value)
			}
		case "message":
			message = p.text(v, key)
		case "retryAfter":
			if err := v.Decode(&retryAfter); err != nil || retryAfter < 0 {
				p.errorf(v, "retryAfter must be a number of seconds, got %s", v.Value)
			}
		}
	}
	e := ErrorForStatus(status, message)
	e.RetryAfter = time.Duration(retryAfter * float64(time.Second))
	return e
}

func (p *scriptParser) usage(n *yaml.Node) *Usage {
	u := &Usage{}
	for key, v := range p.mapping(n, "usage", usageKeys) {
		var count int
		if err := v.Decode(&count); err != nil || count < 0 {
			p.errorf(v, "usage %s must be a whole number of tokens, got %s", key, v.Value)
		}
		if key == "input" {
			u.InputTokens = count
		} else {
			u.OutputTokens = count
		}
	}
	u.TotalTokens = u.InputTokens + u.OutputTokens
	return u
}

func (p *scriptParser) fault(n *yaml.Node) Fault {
	var f Fault
	var keys []string
	for key, v := range p.mapping(n, "fault", faultKeys) {
		keys = append(keys, key)
		if key == "delay" {
			f.Delay = p.duration(v, key)
			continue
		}
		if f.Kind != NoFault {
			p.errorf(v, "a fault has one of cutAfter, malformedAfter or stallAfter, not several")
		}
		f.Kind = faultKinds[key]
		if err := v.Decode(&f.After); err != nil || v.Tag != "!!int" || f.After < 0 {
			p.errorf(v, "%s must be a whole number of deltas, got %s", key, describe(v))
		}
	}
	if len(keys) == 0 && n.Kind == yaml.MappingNode {
		p.errorf(n, "fault needs cutAfter, malformedAfter, stallAfter or delay")
	}
	return f
}

// duration reads a duration (200ms, 1.5s) or a number of seconds.
func (p *scriptParser) duration(n *yaml.Node, key string) time.Duration {
	var seconds float64
	if (n.Tag == "!!int" || n.Tag == "!!float") && n.Decode(&seconds) == nil && seconds >= 0 {
		return time.Duration(seconds * float64(time.Second))
	}
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || d < 0 {
		p.errorf(n, "%s must be a duration such as 200ms or 1.5s, or a number of seconds, got %s", key, describe(n))
	}
	return d
}

// mapping yields the entries of the mapping n in order, reporting a value
// that is not a mapping, unknown and duplicate keys, and missing required
// keys. what names n in messages.
func (p *scriptParser) mapping(n *yaml.Node, what string, known []string, required ...string) iter.Seq2[string, *yaml.Node] {
	return func(yield func(string, *yaml.Node) bool) {
		if n.Kind != yaml.MappingNode {
			p.errorf(n, "%s must be a mapping, got %s", what, describe(n))
			return
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch {
			case !slices.Contains(known, k.Value):
				p.errorf(k, "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
			case seen[k.Value]:
				p.errorf(k, "%s appears twice in %s", k.Value, what)
			default:
				seen[k.Value] = true
				if !yield(k.Value, v) {
					return
				}
			}
		}
		for _, key := range required {
			if !seen[key] {
				p.errorf(n, "%s needs %s", what, key)
			}
		}
	}
}

// text reads a scalar as written: `text: 42` is the text "42".
func (p *scriptParser) text(n *yaml.Node, key string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be text, got %s", key, describe(n))
		return ""
	}
	return n.Value
}

func (p *scriptParser) errorf(n *yaml.Node, format string, args ...any) {
	pos := fmt.Sprintf("%d:%d", n.Line, n.Column)
	if p.file != "" {
		pos = p.file + ":" + pos
	}
	p.problems = append(p.problems, pos+": "+fmt.Sprintf(format, args...))
}

func (p *scriptParser) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(p.problems, "\n"))
}

func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// appendJSON writes n as JSON, keeping the order of mapping keys.
func appendJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			key, _ := json.Marshal(n.Content[i].Value)
			b.Write(key)
			b.WriteByte(':')
			if err := appendJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(data)
	}
	return nil
}
