package protocol

import (
	"slices"

	"github.com/octrun/octrun/internal/display"
)

// KindSerializeThread is the kind of a serialize-thread block.
const KindSerializeThread = "serialize-thread"

// SerializeThread renders a thread's conversation as text.
type SerializeThread struct {
	BlockBase
	Format Str
	Output Str
}

// Kind returns "serialize-thread".
func (*SerializeThread) Kind() string { return KindSerializeThread }

// serializeThreadKind is the serialize-thread entry of the kinds registry.
var serializeThreadKind = kindDef{
	display: display.Name,
	thread:  threadMain,
	decode:  (*decoder).serializeThread,
	check: func(v *validator, s *Step, what string) {
		v.checkSerialize(s, s.Block.(*SerializeThread), what)
	},
}

// serializeThread returns an empty serialize-thread block and the readers of its
// fields.
func (d *decoder) serializeThread(what string) (Block, fields) {
	b := &SerializeThread{}
	return b, fields{
		"format": d.str(&b.Format, what+" format"),
		"output": d.str(&b.Output, what+" output"),
	}
}

var serializeFormats = []string{"json", "markdown"}

func (v *validator) checkSerialize(s *Step, b *SerializeThread, what string) {
	if b.Format.IsSet() && !slices.Contains(serializeFormats, b.Format.Value) {
		v.errorf(b.Format.Pos, "%s format %q is not a format: use markdown or json%s", what, b.Format.Value, didYouMean(b.Format.Value, serializeFormats))
	}
	if !b.Output.IsSet() {
		v.needs(s, "output", "%s needs an output: the variable that receives the serialized thread", what)
	} else {
		v.checkWritable(what+" output", b.Output)
	}
}
