package llm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/sashabaranov/go-openai"
)

// eventStream reads the body of a streamed chat completion (Server-Sent
// Events) in place of go-openai's reader, which counts every line that is
// not data (the keep-alive comments gateways such as OpenRouter send while
// a model thinks, and the blank lines after them) and fails after 300 of
// them in a row. Like go-openai's reader it returns the data of each data
// line on its own, ends at data: [DONE], and reads a body that is not an
// event stream as an error when it is one. Unlike it, comment lines are
// keep-alives, reported to keepAlive and never counted.
type eventStream struct {
	r         *bufio.Reader
	keepAlive func()
	// other holds the lines that are neither data, comments, fields nor
	// blank (up to maxOther bytes): a JSON error body sent with status 200.
	other []byte
	// line accumulates a line longer than r's buffer.
	line []byte
	done bool
}

// errLineTooLong is the error of a line longer than maxLine.
var errLineTooLong = fmt.Errorf("a line is longer than %d MiB", maxLine>>20)

const (
	// maxLine bounds one line of the stream.
	maxLine = 32 << 20
	// maxOther bounds what is kept of lines that are not events.
	maxOther = 64 << 10
)

func newEventStream(body io.Reader, keepAlive func()) *eventStream {
	return &eventStream{r: bufio.NewReaderSize(body, 64<<10), keepAlive: keepAlive}
}

// next returns the data of the next data line, valid until the following
// call; io.EOF after [DONE] or at the end of the body; an *openai.APIError
// when the body was an error; or the error of reading the body.
func (s *eventStream) next() ([]byte, error) {
	for !s.done {
		line, err := s.readLine()
		if err != nil && (len(line) == 0 || !errors.Is(err, io.EOF)) {
			if apiErr := s.bodyError(); apiErr != nil {
				return nil, apiErr
			}
			return nil, err
		}
		s.done = err != nil
		line = bytes.TrimSpace(line)
		switch {
		case len(line) == 0:
		case line[0] == ':':
			if s.keepAlive != nil {
				s.keepAlive()
			}
		case bytes.HasPrefix(line, []byte("data:")):
			data := bytes.TrimLeft(line[len("data:"):], " \t")
			if string(data) == "[DONE]" {
				s.done = true
				return nil, io.EOF
			}
			return data, nil
		case isField(line):
		case len(s.other) < maxOther:
			s.other = append(s.other, line[:min(len(line), maxOther-len(s.other))]...)
		}
	}
	if apiErr := s.bodyError(); apiErr != nil {
		return nil, apiErr
	}
	return nil, io.EOF
}

// readLine reads one line, its newline included. At the end of the body it
// returns what is left of the last line with io.EOF.
func (s *eventStream) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	s.line = append(s.line[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) && len(s.line) <= maxLine {
		line, err = s.r.ReadSlice('\n')
		s.line = append(s.line, line...)
	}
	if len(s.line) > maxLine {
		return nil, errLineTooLong
	}
	return s.line, err
}

// isField reports whether line is an SSE field other than data (event, id,
// retry), which chat completions do not use.
func isField(line []byte) bool {
	for _, f := range [...]string{"event:", "id:", "retry:"} {
		if bytes.HasPrefix(line, []byte(f)) {
			return true
		}
	}
	return false
}

// bodyError is the error held by the lines that were not events, if they
// are an OpenAI error body.
func (s *eventStream) bodyError() *openai.APIError {
	if len(s.other) == 0 {
		return nil
	}
	var resp openai.ErrorResponse
	if json.Unmarshal(s.other, &resp) != nil {
		return nil
	}
	return resp.Error
}
