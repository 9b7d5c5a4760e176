package blocks

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/octrun/octrun/internal/jsonmsg"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// AddMessage renders a prompt with the block's input mapping and appends it
// to a thread as one message.
type AddMessage struct {
	def *protocol.AddMessage
}

// Run implements Block.
func (b *AddMessage) Run(_ context.Context, env *Env) error {
	d := b.def
	t := env.State.Threads[d.ThreadName]
	text := renderPrompt(env, d.Prompt.Value, d.Input)
	msg := threads.Message{
		ID:      env.State.NewID("msg"),
		Role:    threads.Role(d.Role.Value),
		Parts:   []threads.Part{{Type: threads.PartText, Text: text}},
		Visible: !d.Visible.IsSet() || d.Visible.Value,
	}
	for _, f := range d.Files {
		parts, err := fileParts(env.State.Values[f.Value])
		if err != nil {
			return executionError("block %q: files: %s does not hold a file or a list of files: %v", env.Step.Name.Value, f.Value, err)
		}
		msg.Parts = append(msg.Parts, parts...)
	}
	t.Append(msg)
	return nil
}

// fileParts turns a file or file[] value into message parts.
func fileParts(v any) ([]threads.Part, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var many []threads.FileReference
	if _, isList := v.([]any); isList {
		if err := json.Unmarshal(raw, &many); err != nil {
			return nil, jsonmsg.Error(err)
		}
	} else {
		var one threads.FileReference
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, jsonmsg.Error(err)
		}
		many = []threads.FileReference{one}
	}
	parts := make([]threads.Part, len(many))
	for i := range many {
		parts[i] = threads.Part{Type: threads.PartFile, File: &many[i]}
	}
	return parts, nil
}

// renderPrompt renders a prompt with a block's input mapping over the run's
// values. The line breaks that end the file are dropped: a message or system
// prompt does not end with an empty line.
func renderPrompt(env *Env, name string, mapping []protocol.Mapping) string {
	text := env.Protocol.Prompts[name].Render(protocol.Bindings(mapping, env.State.Values))
	return strings.TrimRight(text, "\r\n")
}
