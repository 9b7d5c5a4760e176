package serve

import (
	"context"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/runtime/temporal"
)

// OnTemporal runs executions on Temporal through a submitter; worker
// processes (octrun worker) execute them. Runs are durable: they go on
// when their client disconnects or this server stops.
type OnTemporal struct {
	// Client submits the runs and follows them.
	Client *temporal.Client
}

// Start implements Runner.
func (t *OnTemporal) Start(ctx context.Context, p *protocol.Protocol, input map[string]any, leg Leg) (*runtime.Result, error) {
	return t.Client.Run(ctx, p, input, t.options(leg))
}

// Continue implements Runner.
func (t *OnTemporal) Continue(ctx context.Context, _ *protocol.Protocol, results []events.ToolResult, leg Leg) (*runtime.Result, error) {
	return t.Client.Continue(ctx, leg.ExecutionID, results, t.options(leg))
}

// Durable implements Runner: Temporal holds the runs.
func (t *OnTemporal) Durable() bool { return true }

// Forget implements Runner: Temporal keeps a workflow's history by its
// own retention.
func (t *OnTemporal) Forget(string) {}

func (t *OnTemporal) options(leg Leg) temporal.RunOptions {
	return temporal.RunOptions{ExecutionID: leg.ExecutionID, Detached: true, CallerTools: leg.CallerTools,
		Sink: func(ev events.Event) error {
			leg.Emit(ev)
			return nil
		}}
}
