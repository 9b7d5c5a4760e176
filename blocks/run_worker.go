package blocks

import (
	"context"
	"fmt"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/protocol"
)

// RunWorker runs a declared worker as a nested execution with its own
// variables and threads, and stores its output (rules §3.6 and D12).
type RunWorker struct {
	step *protocol.Step
	def  *protocol.RunWorker
}

// Run implements Block.
func (b *RunWorker) Run(ctx context.Context, env *Env) error {
	d := b.def
	decl := env.Protocol.Worker(d.Worker.Value)
	input := make(map[string]any, len(d.Input))
	for _, m := range d.Input {
		if v, ok := env.State.Values[m.Source.Value]; ok {
			input[m.Label.Value] = v
		}
	}
	res, err := runNested(ctx, env, decl, input, b.step.DisplayMode(env.Protocol), "")
	if err != nil {
		return err
	}
	if d.Output.IsSet() {
		var output any
		if len(res.Output) > 0 {
			if output, err = events.DecodeValue(res.Output); err != nil {
				return executionError("block %q: the output of worker %q is not JSON: %v", b.step.Name.Value, decl.Slug.Value, err)
			}
		}
		env.State.Values[d.Output.Value] = output
	}
	return nil
}

// runNested runs a declared worker with its display mode and counts its
// tokens in this run's usage. workerID is the nested run's id, or "" for a
// new one. A failure of the nested worker is returned under its name; a
// cancellation, pause or diverged replay as it is.
func runNested(ctx context.Context, env *Env, decl *protocol.WorkerDecl, input map[string]any, display, workerID string) (effect.WorkerResult, error) {
	if workerID == "" {
		workerID = env.State.NewID("worker")
	}
	label := workerDescription(decl)
	if display == events.DisplayTitle {
		label = decl.Title.Value
	}
	res, err := env.Effects.RunWorker(ctx, effect.WorkerRequest{
		Key:      env.key(),
		Slug:     decl.Slug.Value,
		WorkerID: workerID,
		Label:    label,
		Input:    input,
		Scope:    env.Events.Scope().Nested(workerID, display),
	})
	env.State.Usage = env.State.Usage.Add(res.Usage)
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return res, ctx.Err()
	case isRunFailure(err):
		return res, err
	}
	return res, fmt.Errorf("worker %q: %w", decl.Slug.Value, err)
}
