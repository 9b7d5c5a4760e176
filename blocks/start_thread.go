package blocks

import (
	"context"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// StartThread creates a named thread: it resolves the thread's settings,
// renders its system prompt and registers it with no messages.
type StartThread struct {
	step *protocol.Step
	def  *protocol.StartThread
}

// defaultMaxSteps is the number of model steps of a next-message when the
// thread does not set maxSteps (rule D10): one generation, no tool loop.
const defaultMaxSteps = 1

// Run implements Block.
func (b *StartThread) Run(_ context.Context, env *Env) error {
	d := b.def
	s, err := b.settings(env.State.Values)
	if err != nil {
		return err
	}
	cfg := ThreadConfig{
		Model:               s.Model,
		BackupModel:         s.BackupModel,
		Temperature:         s.Temperature,
		Thinking:            s.Thinking,
		MaxSteps:            defaultMaxSteps,
		MaxOutputTokens:     int(d.MaxOutputTokens.Value),
		MaxToolOutputTokens: int(d.MaxToolOutputTokens.Value),
		MaxImageDimension:   int(d.MaxImageDimension.Value),
		LoopGuard:           d.LoopGuard.Value,
	}
	if s.MaxSteps > 0 {
		cfg.MaxSteps = s.MaxSteps
	}
	for _, t := range d.Tools {
		cfg.Tools = append(cfg.Tools, t.Value)
	}
	for _, w := range d.Workers {
		cfg.Workers = append(cfg.Workers, w.Value)
	}
	for _, ns := range d.MCPServers {
		cfg.MCPServers = append(cfg.MCPServers, ns.Value)
	}
	for _, r := range d.References {
		cfg.References = append(cfg.References, r.Value)
	}
	system := renderPrompt(env, d.System.Value, d.Input) + referenceListing(env.Protocol, cfg.References)
	env.State.Threads[d.ThreadName] = &Thread{
		Thread: threads.Thread{Name: d.ThreadName, System: system},
		Config: cfg,
	}
	return nil
}

// settings resolves the thread's settings from the run's values
// (rule §9.3) with the rules of the protocol package; a value that
// breaks one is an execution error naming the block.
func (b *StartThread) settings(values map[string]any) (protocol.ThreadSettings, error) {
	s, err := b.def.Resolve(values)
	if err != nil {
		return s, executionError("block %q: %v", b.step.Name.Value, err)
	}
	return s, nil
}
