// Package benchclient is the baseline of octrun's streaming benchmarks: a
// bare chat completions client doing the work octrun's OpenAI client does
// for one generation, and nothing more. It sends the request (go-openai's
// request type, marshalled with encoding/json), reads the Server-Sent
// Events line by line from a bufio.Reader, decodes each chunk into the same
// minimal struct as octrun's client (not go-openai's full chunk type),
// assembles the text, the reasoning and the tool calls, and, when asked,
// writes one event a delta in octrun's wire format (JSON lines or SSE), as
// a program streaming a model's answer to a consumer would.
//
// The command in ./benchclient runs it as a program of its own, for the
// command-level benchmarks of cmd/octrun.
package benchclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/sashabaranov/go-openai"
)

// Format is how Stream writes the deltas' events.
type Format int

// Formats of Stream's output.
const (
	// None writes nothing.
	None Format = iota
	// JSONL writes one JSON object a line.
	JSONL
	// SSE writes `data: <json>` and a blank line per event.
	SSE
)

// Result is the generation assembled.
type Result struct {
	Text, Reasoning string
	ToolCalls       []ToolCall
	FinishReason    string
	// Deltas counts the text, reasoning and tool call arguments deltas.
	Deltas int
	// Events counts the events written.
	Events int
}

// ToolCall is one tool call the model asked for.
type ToolCall struct {
	ID, Name, Arguments string
}

// chunk is the part of a chat.completion.chunk read: the same fields as
// octrun's client decodes (llm/openai.go).
type chunk struct {
	Choices []struct {
		Delta struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
			Reasoning        string `json:"reasoning"`
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
	Error json.RawMessage `json:"error"`
}

// event is an event of octrun's wire format, the fields of the content
// events in their order.
type event struct {
	Type           string `json:"type"`
	ID             string `json:"id,omitempty"`
	Delta          string `json:"delta,omitempty"`
	ToolCallID     string `json:"toolCallId,omitempty"`
	ToolName       string `json:"toolName,omitempty"`
	InputTextDelta string `json:"inputTextDelta,omitempty"`
	FinishReason   string `json:"finishReason,omitempty"`
}

// Stream streams one chat completion of req (Stream and usage are set
// here) from the OpenAI-compatible endpoint at baseURL, and writes the
// events of its deltas to out in format: a text-start, text-delta ...
// text-end part for the text, the same for the reasoning, a
// tool-input-start, tool-input-delta ... tool-input-end for each tool call,
// and a finish. The output is buffered and flushed whenever the next line
// of the stream has not arrived yet, so no event waits for later input. A
// line of the stream longer than 64 KiB fails it.
func Stream(ctx context.Context, hc *http.Client, baseURL string, req openai.ChatCompletionRequest, out io.Writer, format Format) (*Result, error) {
	req.Stream = true
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	hreq.Header.Set("Authorization", "Bearer sk-bench")
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, msg)
	}
	a := assembler{w: newWriter(out, format)}
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	var ch chunk
	for {
		if a.w != nil && !lineBuffered(r) {
			if err := a.w.flush(); err != nil {
				return nil, err
			}
		}
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, fmt.Errorf("the stream ended without [DONE]: %w", err)
		}
		data, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data:"))
		if !ok {
			continue
		}
		data = bytes.TrimLeft(data, " ")
		if string(data) == "[DONE]" {
			break
		}
		clear(ch.Choices[:cap(ch.Choices)])
		ch = chunk{Choices: ch.Choices[:0]}
		if err := json.Unmarshal(data, &ch); err != nil {
			return nil, err
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			return nil, fmt.Errorf("error event: %s", ch.Error)
		}
		if err := a.add(&ch); err != nil {
			return nil, err
		}
	}
	return a.finish()
}

// lineBuffered reports whether r holds a whole line, which a read takes
// without waiting.
func lineBuffered(r *bufio.Reader) bool {
	buf, _ := r.Peek(r.Buffered())
	return bytes.IndexByte(buf, '\n') >= 0
}

// writer writes events to a buffer flushed to out.
type writer struct {
	out    *bufio.Writer
	enc    *json.Encoder
	format Format
}

func newWriter(out io.Writer, format Format) *writer {
	if format == None {
		return nil
	}
	w := &writer{out: bufio.NewWriterSize(out, 32<<10), format: format}
	w.enc = json.NewEncoder(w.out)
	w.enc.SetEscapeHTML(false)
	return w
}

// write writes one event; Encode ends it with a newline.
func (w *writer) write(ev *event) error {
	if w.format == SSE {
		if _, err := w.out.WriteString("data: "); err != nil {
			return err
		}
	}
	if err := w.enc.Encode(ev); err != nil {
		return err
	}
	if w.format == SSE {
		return w.out.WriteByte('\n')
	}
	return nil
}

func (w *writer) flush() error { return w.out.Flush() }

// assembler assembles the generation and writes its events.
type assembler struct {
	w            *writer
	text         []byte
	reasoning    []byte
	calls        []call
	finishReason string
	// open is the type of the text or reasoning part open ("" if none),
	// id its id, part the number of parts opened.
	open, id string
	part     int
	deltas   int
	events   int
}

// call is a tool call being assembled; index is the provider's.
type call struct {
	index    int
	id, name string
	args     []byte
}

func (a *assembler) emit(ev event) error {
	if a.w == nil {
		return nil
	}
	a.events++
	return a.w.write(&ev)
}

// delta adds a text or reasoning delta, opening its part if needed.
func (a *assembler) delta(kind, text string) error {
	a.deltas++
	if kind == "text" {
		a.text = append(a.text, text...)
	} else {
		a.reasoning = append(a.reasoning, text...)
	}
	if a.w == nil {
		return nil
	}
	if a.open != kind {
		if err := a.closePart(); err != nil {
			return err
		}
		a.part++
		// As long as octrun's ids.
		a.open, a.id = kind, "exec_0123456789abcdef-"+kind+strconv.Itoa(a.part)
		if err := a.emit(event{Type: kind + "-start", ID: a.id}); err != nil {
			return err
		}
	}
	return a.emit(event{Type: kind + "-delta", ID: a.id, Delta: text})
}

// closePart ends the text or reasoning part open, if any.
func (a *assembler) closePart() error {
	if a.open == "" {
		return nil
	}
	err := a.emit(event{Type: a.open + "-end", ID: a.id})
	a.open = ""
	return err
}

func (a *assembler) add(ch *chunk) error {
	for i := range ch.Choices {
		c := &ch.Choices[i]
		d := &c.Delta
		for _, r := range [2]string{d.ReasoningContent, d.Reasoning} {
			if r != "" {
				if err := a.delta("reasoning", r); err != nil {
					return err
				}
			}
		}
		if d.Content != "" {
			if err := a.delta("text", d.Content); err != nil {
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

// toolFragment adds one tool_calls fragment: a fragment with a new id, or
// without an id at an index not seen yet, opens a call.
func (a *assembler) toolFragment(index *int, id, name, args string) error {
	pos := -1
	for i := len(a.calls) - 1; i >= 0; i-- {
		if (index == nil || a.calls[i].index == *index) && (id == "" || id == a.calls[i].id) {
			pos = i
			break
		}
	}
	if pos < 0 {
		if err := a.closePart(); err != nil {
			return err
		}
		pos = len(a.calls)
		c := call{index: pos, id: id, name: name}
		if index != nil {
			c.index = *index
		}
		if c.id == "" {
			c.id = "call_" + strconv.Itoa(pos+1)
		}
		a.calls = append(a.calls, c)
		if err := a.emit(event{Type: "tool-input-start", ToolCallID: c.id, ToolName: name}); err != nil {
			return err
		}
	}
	if args == "" {
		return nil
	}
	a.deltas++
	c := &a.calls[pos]
	c.args = append(c.args, args...)
	return a.emit(event{Type: "tool-input-delta", ToolCallID: c.id, InputTextDelta: args})
}

// finish ends the open parts, writes the finish and flushes, and returns
// the generation.
func (a *assembler) finish() (*Result, error) {
	if a.finishReason == "" {
		return nil, errors.New("the stream ended without a finish_reason")
	}
	if err := a.closePart(); err != nil {
		return nil, err
	}
	res := &Result{Text: string(a.text), Reasoning: string(a.reasoning), FinishReason: a.finishReason, Deltas: a.deltas}
	for _, c := range a.calls {
		if err := a.emit(event{Type: "tool-input-end", ToolCallID: c.id}); err != nil {
			return nil, err
		}
		res.ToolCalls = append(res.ToolCalls, ToolCall{ID: c.id, Name: c.name, Arguments: string(c.args)})
	}
	if err := a.emit(event{Type: "finish", FinishReason: a.finishReason}); err != nil {
		return nil, err
	}
	if a.w != nil {
		if err := a.w.flush(); err != nil {
			return nil, err
		}
	}
	res.Events = a.events
	return res, nil
}
