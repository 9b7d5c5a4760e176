package temporal

import (
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/relay"
	"github.com/octrun/octrun/runtime"
)

// WorkerOptions configures a worker process.
type WorkerOptions struct {
	// TaskQueue is the queue the worker polls (DefaultTaskQueue).
	TaskQueue string
	// Routes runs the nested workers of some slugs on other task queues,
	// served by workers whose agents hold those slugs.
	Routes map[string]string
	// LLM answers model and media calls (default: the provider router,
	// configured by the environment).
	LLM llm.Client
	// LLMPerRun, when set, makes a model client for each run instead,
	// given the model and media calls the run made before (on another
	// worker, or before this one restarted): a scripted client (--mock)
	// then answers every run from where it is (llm.NewScriptedFrom).
	LLMPerRun func(first int) llm.Client
	// Tools are the tool handlers, by the top-level protocols' tool names.
	Tools map[string]runtime.ToolHandler
	// MCP are the consumer's MCP servers by namespace (an mcp.json, see
	// runtime.WithMCPConfig), for the agents' consumer servers.
	MCP map[string]mcp.Config
	// Relay publishes the runs' events; nil publishes none (the
	// submitter then gets only the result and the last events).
	Relay *relay.Relay
	// MaxConcurrentRuns bounds the workflows and activities the worker
	// runs at once (0: the SDK's defaults).
	MaxConcurrentRuns int
	// Logger receives the SDK's logs (default: none).
	Logger *slog.Logger
}

// Worker is a worker process's part: it polls a task queue and runs the
// workflows and activities of octrun's runs for its agents.
type Worker struct {
	worker.Worker
	acts *activities
}

// NewWorker returns a worker of the given agents (each a valid, loaded
// protocol; nested workers come with their caller) on c. Start it with
// Run or Start; Stop ends it and the MCP servers it started.
func NewWorker(c client.Client, agentList []*protocol.Protocol, opts WorkerOptions) (*Worker, error) {
	if opts.TaskQueue == "" {
		opts.TaskQueue = DefaultTaskQueue
	}
	as, err := newAgents(agentList, opts.TaskQueue)
	if err != nil {
		return nil, err
	}
	if len(as.bySlug) == 0 {
		return nil, fmt.Errorf("the worker has no agent to serve")
	}
	if opts.LLM == nil {
		opts.LLM = llm.NewRouter(os.Getenv, llm.DefaultRetries())
	}
	wo := worker.Options{
		// Enough pollers that a dispatch never waits on a busy one.
		MaxConcurrentWorkflowTaskPollers: 8,
		MaxConcurrentActivityTaskPollers: 8,
	}
	if n := opts.MaxConcurrentRuns; n > 0 {
		wo.MaxConcurrentActivityExecutionSize = n
		wo.MaxConcurrentWorkflowTaskExecutionSize = max(n, 2)
	}
	w := worker.New(c, opts.TaskQueue, wo)
	acts := &activities{agents: as, client: opts.LLM, perRun: opts.LLMPerRun, handlers: opts.Tools, relay: opts.Relay}
	acts.servers.Configs = opts.MCP
	wf := &workflows{agents: as, routes: opts.Routes, publish: acts.Publish}
	w.RegisterWorkflowWithOptions(wf.Run, workflow.RegisterOptions{Name: WorkflowName})
	for name, fn := range map[string]any{
		activityGenerate: acts.Generate,
		activityTool:     acts.Tool,
		activityMCPList:  acts.MCPList,
		activityMedia:    acts.Media,
	} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	return &Worker{Worker: w, acts: acts}, nil
}

// Stop stops polling, waits for the running tasks, and stops the MCP
// servers the worker started.
func (w *Worker) Stop() {
	w.Worker.Stop()
	w.acts.close()
}

// NewReplayer returns a replayer of octrun's workflow for the given agents
// (and routes), to replay recorded histories against this build: a change
// of the interpreter that would make in-flight runs replay differently
// fails the replay (a deploy check, and a test of this package).
func NewReplayer(agentList []*protocol.Protocol, routes map[string]string) (worker.WorkflowReplayer, error) {
	as, err := newAgents(agentList, DefaultTaskQueue)
	if err != nil {
		return nil, err
	}
	r := worker.NewWorkflowReplayer()
	wf := &workflows{agents: as, routes: routes, publish: (&activities{agents: as}).Publish}
	r.RegisterWorkflowWithOptions(wf.Run, workflow.RegisterOptions{Name: WorkflowName})
	return r, nil
}
