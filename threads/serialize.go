package threads

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Formats of [Serialize].
const (
	FormatMarkdown = "markdown"
	FormatJSON     = "json"
)

// Serialize writes the messages of t as text for another model's prompt
// (the serialize-thread block, rule D5). format is [FormatMarkdown]
// (also for "") or [FormatJSON]; the package documentation gives both
// layouts. Every message is included, in order, hidden ones too; the
// system prompt and reasoning are not.
func Serialize(t *Thread, format string) (string, error) {
	if format != "" && format != FormatMarkdown && format != FormatJSON {
		return "", fmt.Errorf("threads: unknown serialize format %q: want %q or %q", format, FormatMarkdown, FormatJSON)
	}
	msgs := make([]serialMessage, len(t.Messages))
	for i, m := range t.Messages {
		sm, err := serialMessageOf(m)
		if err != nil {
			return "", fmt.Errorf("threads: serialize thread %q: message %q: %w", t.Name, m.ID, err)
		}
		msgs[i] = sm
	}
	if format == FormatJSON {
		return serializeJSON(msgs)
	}
	return serializeMarkdown(msgs), nil
}

// serialMessage is a message checked and with its JSON values in canonical
// form, ready for either format.
type serialMessage struct {
	role  Role
	parts []serialPart
}

// serialPart is a part of a serialMessage. JSON values are canonical:
// value for an object, args and result for a tool call.
type serialPart struct {
	Part
	value, args, result json.RawMessage
}

func serialMessageOf(m Message) (serialMessage, error) {
	if _, ok := headings[m.Role]; !ok {
		return serialMessage{}, fmt.Errorf("unknown role %q", m.Role)
	}
	sm := serialMessage{role: m.Role, parts: make([]serialPart, 0, len(m.Parts))}
	for i, p := range m.Parts {
		sp, err := serialPartOf(p)
		if err != nil {
			return sm, fmt.Errorf("part %d: %w", i, err)
		}
		sm.parts = append(sm.parts, sp)
	}
	return sm, nil
}

func serialPartOf(p Part) (serialPart, error) {
	sp := serialPart{Part: p}
	var err error
	switch {
	case p.Type == PartToolCall && p.ToolCall == nil,
		p.Type == PartObject && p.Object == nil,
		p.Type == PartFile && p.File == nil:
		err = fmt.Errorf("%s part is empty", p.Type)
	case p.Type == PartObject:
		if sp.value, err = canonicalJSON(p.Object.Value, "null"); err != nil {
			err = fmt.Errorf("object %q: %w", p.Object.TypeName, err)
		}
	case p.Type == PartToolCall:
		sp.args, err = canonicalJSON(p.ToolCall.Arguments, "{}")
		if err == nil && len(p.ToolCall.Result) > 0 {
			sp.result, err = canonicalJSON(p.ToolCall.Result, "")
		}
		if err != nil {
			err = fmt.Errorf("tool call %q: %w", p.ToolCall.ID, err)
		}
	}
	return sp, err
}

// canonicalJSON rewrites the JSON value raw (ifEmpty when raw is empty) on
// one line with object keys sorted, numbers as written and no HTML
// escaping, so that equal values print the same however they were spelled.
func canonicalJSON(raw json.RawMessage, ifEmpty string) (json.RawMessage, error) {
	if len(raw) == 0 {
		raw = json.RawMessage(ifEmpty)
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("invalid JSON value %.40q", raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return marshalPlain(v)
}

// marshalPlain is json.Marshal without HTML escaping.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

var headings = map[Role]string{
	RoleUser:      "## User",
	RoleAssistant: "## Assistant",
	RoleSystem:    "## System",
}

func serializeMarkdown(msgs []serialMessage) string {
	var blocks []string
	for _, m := range msgs {
		blocks = append(blocks, headings[m.role])
		for _, p := range m.parts {
			blocks = append(blocks, markdownBlocks(p)...)
		}
	}
	return strings.Join(blocks, "\n\n")
}

// markdownBlocks returns the blocks that show p, none for empty text,
// reasoning, step-start and parts of other types.
func markdownBlocks(p serialPart) []string {
	switch {
	case p.Type == PartText && p.Text != "":
		return []string{escapeText(p.Text)}
	case p.Type == PartObject:
		return []string{"**Object** `" + p.Object.TypeName + "`", fence("json", string(p.value))}
	case p.Type == PartFile:
		return []string{fileLine(p.File)}
	case p.Type == PartToolCall:
		c := p.ToolCall
		blocks := []string{"**Tool call** `" + c.Name + "` (" + c.ID + ")", fence("json", string(p.args))}
		if p.result != nil {
			blocks = append(blocks, "**Result**", fence("json", string(p.result)))
		}
		if c.Error != "" {
			blocks = append(blocks, "**Error**", fence("text", c.Error))
		}
		return blocks
	}
	return nil
}

// fileLine describes a file on one line, in both formats.
func fileLine(f *FileReference) string {
	name := f.Filename
	if name == "" {
		name = f.ID
	}
	about := f.MediaType
	if f.Size > 0 {
		about += ", " + strconv.FormatInt(f.Size, 10) + " bytes"
	}
	return "**File** `" + name + "` (" + about + "): " + f.URL
}

// escapeText puts a backslash before each line of s that would read as a
// line of the markdown layout, or as such a line escaped.
func escapeText(s string) string {
	if !strings.Contains(s, "**") && !strings.Contains(s, "## ") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if isLayoutLine(strings.TrimLeft(l, `\`)) {
			lines[i] = `\` + l
		}
	}
	return strings.Join(lines, "\n")
}

func isLayoutLine(l string) bool {
	switch l {
	case "## User", "## Assistant", "## System", "**Result**", "**Error**":
		return true
	}
	return strings.HasPrefix(l, "**Tool call** ") ||
		strings.HasPrefix(l, "**Object** ") ||
		strings.HasPrefix(l, "**File** ")
}

// fence puts body in a fenced code block whose fence is longer than any run
// of backticks in body.
func fence(info, body string) string {
	longest, run := 0, 0
	for _, r := range body {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", max(3, longest+1))
	return f + info + "\n" + body + "\n" + f
}

// jsonMessage is a message in the json format.
type jsonMessage struct {
	Role      Role           `json:"role"`
	Content   string         `json:"content"`
	ToolCalls []jsonToolCall `json:"toolCalls,omitempty"`
}

// jsonToolCall is a tool call in the json format.
type jsonToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     string          `json:"error,omitempty"`
}

func serializeJSON(msgs []serialMessage) (string, error) {
	out := make([]jsonMessage, len(msgs))
	for i, m := range msgs {
		out[i] = jsonMessage{Role: m.role}
		var content []string
		for _, p := range m.parts {
			switch p.Type {
			case PartText:
				if p.Text != "" {
					content = append(content, p.Text)
				}
			case PartObject:
				content = append(content, string(p.value))
			case PartFile:
				content = append(content, fileLine(p.File))
			case PartToolCall:
				c := p.ToolCall
				out[i].ToolCalls = append(out[i].ToolCalls, jsonToolCall{
					ID: c.ID, Name: c.Name, Arguments: p.args, Result: p.result, Error: c.Error,
				})
			}
		}
		out[i].Content = strings.Join(content, "\n\n")
	}
	b, err := marshalPlain(out)
	if err != nil {
		return "", fmt.Errorf("threads: serialize json: %w", err)
	}
	return string(b), nil
}
