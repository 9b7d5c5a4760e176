package serve

import (
	"context"
	"log/slog"
	"sync"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// A Runner runs the legs of executions for the server. A leg ends when the
// run finishes, fails, is cancelled or pauses for tools the caller
// answers; the Runner returns then, with the run's result, a
// *runtime.PauseError or a *runtime.Error, as runtime.Run does.
type Runner interface {
	// Start runs the first leg of a new execution of p.
	Start(ctx context.Context, p *protocol.Protocol, input map[string]any, leg Leg) (*runtime.Result, error)
	// Continue runs the next leg of a paused execution of p with the
	// results of the calls it waits for.
	Continue(ctx context.Context, p *protocol.Protocol, results []events.ToolResult, leg Leg) (*runtime.Result, error)
	// Forget drops what the runner keeps of an execution that ended (a
	// paused run's snapshot a failed continue left) or that the server
	// forgets.
	Forget(executionID string)
	// Durable reports whether runs outlive the request that started them
	// and this process (Temporal): a client that disconnects then leaves
	// its run going instead of cancelling it, and cancelling ctx stops
	// following a run without cancelling it.
	Durable() bool
}

// Leg is what a Runner needs for one leg besides the run's own data.
type Leg struct {
	// ExecutionID is the execution's id.
	ExecutionID string
	// CallerTools are the tools the caller declared in dynamicToolSchemas
	// (runtime.WithCallerTools).
	CallerTools []llm.Tool
	// Emit receives each event of the leg, in order, as it happens.
	Emit func(events.Event)
}

// InProcess runs executions in this process with the runtime package,
// keeping paused runs in Store.
type InProcess struct {
	// Model returns the model client of a leg, given the model and media
	// calls the execution made before (a scripted client answers from
	// there; see runtime.Backend.Serve).
	Model func(first int) llm.Client
	// Tools are the tool handlers, by the protocols' tool names.
	Tools map[string]runtime.ToolHandler
	// MCP are the consumer's MCP servers by namespace (an mcp.json, see
	// runtime.WithMCPConfig).
	MCP map[string]mcp.Config
	// Store keeps the snapshots of paused runs (default: in memory).
	Store runtime.Store
	// Logger receives the runs' logs (default: none).
	Logger *slog.Logger

	storeOnce sync.Once
}

// Start implements Runner.
func (r *InProcess) Start(ctx context.Context, p *protocol.Protocol, input map[string]any, leg Leg) (*runtime.Result, error) {
	return runtime.Run(ctx, p, input, r.options(leg, 0)...)
}

// Continue implements Runner.
func (r *InProcess) Continue(ctx context.Context, p *protocol.Protocol, results []events.ToolResult, leg Leg) (*runtime.Result, error) {
	snap, err := r.store().Load(ctx, leg.ExecutionID)
	if err != nil {
		return nil, err
	}
	return runtime.Continue(ctx, leg.ExecutionID, results, append(r.options(leg, snap.ModelCalls()), runtime.WithProtocol(p))...)
}

// Durable implements Runner: runs live in this process.
func (r *InProcess) Durable() bool { return false }

// Forget implements Runner: the execution's snapshot, if any, is deleted.
func (r *InProcess) Forget(executionID string) {
	_ = r.store().Delete(context.Background(), executionID)
}

func (r *InProcess) store() runtime.Store {
	r.storeOnce.Do(func() {
		if r.Store == nil {
			r.Store = runtime.NewMemoryStore()
		}
	})
	return r.Store
}

func (r *InProcess) options(leg Leg, first int) []runtime.Option {
	opts := []runtime.Option{
		runtime.WithExecutionID(leg.ExecutionID),
		runtime.WithStore(r.store()),
		runtime.WithCallerTools(leg.CallerTools),
		runtime.WithMCPConfig(r.MCP),
		runtime.WithEventObserver(func(rec events.Record) { leg.Emit(rec.Event) }),
	}
	if r.Model != nil {
		opts = append(opts, runtime.WithLLM(r.Model(first)))
	}
	if r.Logger != nil {
		opts = append(opts, runtime.WithLogger(r.Logger))
	}
	for name, h := range r.Tools {
		opts = append(opts, runtime.WithTool(name, h))
	}
	return opts
}
