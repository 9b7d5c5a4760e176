package protocol

import (
	"slices"

	"github.com/octrun/octrun/internal/display"
)

// KindAddMessage is the kind of an add-message block.
const KindAddMessage = "add-message"

// AddMessage appends a rendered prompt to a thread.
type AddMessage struct {
	BlockBase
	Role      Str
	Prompt    Str
	Input     []Mapping
	Visible   Bool
	UIContent Str
	Files     []Str
}

// Kind returns "add-message".
func (*AddMessage) Kind() string { return KindAddMessage }

// addMessageKind is the add-message entry of the kinds registry.
var addMessageKind = kindDef{
	display: display.Hidden,
	thread:  threadMain,
	decode:  (*decoder).addMessage,
	check: func(v *validator, s *Step, what string) {
		v.checkAddMessage(s, s.Block.(*AddMessage), what)
	},
}

// addMessage returns an empty add-message block and the readers of its
// fields.
func (d *decoder) addMessage(what string) (Block, fields) {
	b := &AddMessage{}
	return b, fields{
		"role":      d.str(&b.Role, what+" role"),
		"prompt":    d.str(&b.Prompt, what+" prompt"),
		"input":     d.inputMapping(&b.Input, what+" input"),
		"visible":   d.boolean(&b.Visible, what+" visible"),
		"uiContent": d.str(&b.UIContent, what+" uiContent"),
		"files":     d.names(&b.Files, what+" files"),
	}
}

var roles = []string{"assistant", "system", "user"}

func (v *validator) checkAddMessage(s *Step, b *AddMessage, what string) {
	switch {
	case !b.Role.IsSet():
		v.needs(s, "role", "%s needs a role: user, assistant or system", what)
	case !slices.Contains(roles, b.Role.Value):
		v.errorf(b.Role.Pos, "%s role %q is not a role: use %s%s", what, b.Role.Value, listOf(roles), didYouMean(b.Role.Value, roles))
	}
	if !b.Prompt.IsSet() {
		v.needs(s, "prompt", "%s needs a prompt: add prompt: <prompt name> naming a file in prompts/ (without .md)", what)
	} else {
		v.checkPrompt(what, b.Prompt, b.Input)
	}
	v.checkMappingSources(what, b.Input)
	if b.UIContent.IsSet() {
		v.checkReadable(what+" uiContent", b.UIContent)
	}
	for _, f := range b.Files {
		v.checkReadable(what+" files", f)
	}
}
