package runtime

import (
	"context"
	"fmt"

	"github.com/octrun/octrun/blocks"
	"github.com/octrun/octrun/llm"
)

// effects is the in-process implementation of blocks.Effects: model calls
// go to the runner's client, tool calls to the registered handlers, nested
// workers run in this process.
type effects struct {
	runner *runner
}

// Generate implements blocks.Effects.
func (f *effects) Generate(ctx context.Context, req llm.Request, onDelta func(llm.Delta) error) (*llm.Response, error) {
	return f.runner.client.Generate(ctx, req, onDelta)
}

// CallTool implements blocks.Effects. A panicking handler is a failed call,
// not a crashed engine.
func (f *effects) CallTool(ctx context.Context, call blocks.ToolInvocation) (result any, err error) {
	h := f.runner.tool(call.Name)
	if h == nil {
		return nil, fmt.Errorf("Tool %q is not available. No handler is registered for this tool.", call.Name)
	}
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, fmt.Errorf("tool %q panicked: %v", call.Name, p)
		}
	}()
	return h(ctx, call.Args)
}

// RunWorker implements blocks.Effects: the nested worker runs with its own
// state; its tool calls reach this run's handlers through the declaration's
// tool mapping, unmapped names as they are (PROTOCOL.md 6.5, A17).
func (f *effects) RunWorker(ctx context.Context, call blocks.WorkerInvocation) (blocks.WorkerOutcome, error) {
	mapped := map[string]string{}
	for _, m := range call.Decl.Tools {
		mapped[m.Label.Value] = m.Source.Value
	}
	parent := f.runner
	child := &runner{client: parent.client, tool: func(name string) ToolHandler {
		if to, ok := mapped[name]; ok {
			return parent.tool(to)
		}
		return parent.tool(name)
	}}
	d := call.Decl
	return child.worker(ctx, d.Protocol, workerIdentity{id: call.WorkerID, slug: d.Slug.Value, description: call.Label}, call.Input, call.Events)
}
