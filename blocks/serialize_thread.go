package blocks

import (
	"context"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// SerializeThread writes a thread's conversation, as markdown or JSON
// (rule D5), into a variable.
type SerializeThread struct {
	def *protocol.SerializeThread
}

// Run implements Block.
func (b *SerializeThread) Run(_ context.Context, env *Env) error {
	text, err := threads.Serialize(&env.State.Threads[b.def.ThreadName].Thread, b.def.Format.Value)
	if err != nil {
		return executionError("block %q: %v", env.Step.Name.Value, err)
	}
	env.State.Values[b.def.Output.Value] = text
	return nil
}
