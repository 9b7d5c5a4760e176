package blocks

import (
	"context"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/protocol"
)

// SetResource writes a (deprecated) resource and emits resource-update
// (rule D13).
type SetResource struct {
	def *protocol.SetResource
}

// Run implements Block.
func (b *SetResource) Run(_ context.Context, env *Env) error {
	value := env.State.Values[b.def.Value.Value]
	env.State.Values[b.def.Resource.Value] = value
	env.Events.Emit(events.ResourceUpdate{Name: b.def.Resource.Value, Value: events.RawValue(value)})
	return nil
}
