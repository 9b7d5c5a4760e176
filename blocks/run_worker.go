package blocks

import (
	"context"
	"errors"
	"fmt"

	"github.com/octrun/octrun/events"

	"github.com/octrun/octrun/protocol"
)

// RunWorker runs a declared worker as a nested execution with its own
// variables and threads, and stores its output (PROTOCOL.md 3.6, D12).
type RunWorker struct {
	step *protocol.Step
	def  *protocol.RunWorker
}

// Run implements Block.
func (b *RunWorker) Run(ctx context.Context, env *Env) error {
	d := b.def
	decl := findWorker(env.Protocol, d.Worker.Value)
	input := make(map[string]any, len(d.Input))
	for _, m := range d.Input {
		if v, ok := env.State.Values[m.Source.Value]; ok {
			input[m.Label.Value] = v
		}
	}
	outcome, err := runNested(ctx, env, decl, input, b.step.DisplayMode(env.Protocol), "")
	if err != nil {
		return err
	}
	if d.Output.IsSet() {
		env.State.Values[d.Output.Value] = outcome.Output
	}
	return nil
}

// runNested runs a declared worker with its display mode and counts its
// tokens in this run's usage. workerID is the nested run's id, or "" for a
// new one.
func runNested(ctx context.Context, env *Env, decl *protocol.WorkerDecl, input map[string]any, display, workerID string) (WorkerOutcome, error) {
	if workerID == "" {
		workerID = env.State.NewID("worker")
	}
	label := workerDescription(decl)
	if display == events.DisplayTitle {
		label = decl.Title.Value
	}
	outcome, err := env.Effects.RunWorker(ctx, WorkerInvocation{
		Decl:     decl,
		WorkerID: workerID,
		Label:    label,
		Input:    input,
		Events:   env.Events.Nested(workerID, display),
	})
	env.State.Usage = env.State.Usage.Add(outcome.Usage)
	var pause *Pause
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return outcome, ctx.Err()
	case errors.As(err, &pause):
		return outcome, pause
	default:
		return outcome, fmt.Errorf("worker %q: %w", decl.Slug.Value, err)
	}
	return outcome, nil
}

// findWorker returns the declaration of a worker, or nil.
func findWorker(p *protocol.Protocol, slug string) *protocol.WorkerDecl {
	return p.Worker(slug)
}
