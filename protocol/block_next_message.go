package protocol

import "github.com/octrun/octrun/internal/display"

// KindNextMessage is the kind of a next-message block.
const KindNextMessage = "next-message"

// NextMessage asks the thread's model for the next message.
type NextMessage struct {
	BlockBase
	Output       Str
	ResponseType Str
	Independent  Bool
}

// Kind returns "next-message".
func (*NextMessage) Kind() string { return KindNextMessage }

// nextMessageKind is the next-message entry of the kinds registry.
var nextMessageKind = kindDef{
	display: display.Stream,
	thread:  threadMain,
	decode:  (*decoder).nextMessage,
	check: func(v *validator, s *Step, what string) {
		v.checkNextMessage(s.Block.(*NextMessage), what)
	},
}

// nextMessage returns an empty next-message block and the readers of its
// fields.
func (d *decoder) nextMessage(what string) (Block, fields) {
	b := &NextMessage{}
	return b, fields{
		"output":       d.str(&b.Output, what+" output"),
		"responseType": d.str(&b.ResponseType, what+" responseType"),
		"independent":  d.boolean(&b.Independent, what+" independent"),
	}
}

func (v *validator) checkNextMessage(b *NextMessage, what string) {
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
	if rt := b.ResponseType; rt.IsSet() {
		switch {
		case !hasType(v.p, rt.Value):
			v.errorf(rt.Pos, "%s responseType %q is not a type defined under types:%s", what, rt.Value, didYouMean(rt.Value, v.p.Types.Names()))
		case !v.p.Types.IsObject(rt.Value):
			v.errorf(rt.Pos, "%s responseType %q must be an object type, not a union or array type; wrap it in an object property", what, rt.Value)
		}
	}
}
