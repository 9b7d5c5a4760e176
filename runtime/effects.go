package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/interp"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/protocol"
)

// host is what the effects of one leg of an in-process run share: the
// model client, the journal, the MCP servers, where events go and the
// logger.
type host struct {
	executionID string
	client      llm.Client
	rec         *recorder
	servers     *mcp.Servers
	callerTools []llm.Tool
	events      *events.Emitter
	log         *slog.Logger
	// suspend saves the snapshot of a run that pauses for the calls.
	suspend func(calls []events.PendingToolCall) error
}

// effects is the in-process implementation of effect.Effects for one
// worker run: model and media calls go to the host's client and tool calls
// to the registered handlers, all through the journal; nested workers run
// in this process; awaiting client tools suspends the run.
type effects struct {
	host *host
	// protocol is the running protocol, whose MCP servers and declared
	// workers the effects reach.
	protocol *protocol.Protocol
	// tool returns the handler of a tool name as the running protocol
	// calls it, or nil.
	tool func(name string) ToolHandler
	// callerName names a tool of the running protocol the way the caller
	// of the run knows it (through the tool mappings of nested workers).
	callerName func(name string) string
}

// logged runs an effect and logs it with its duration; what the effect's
// model client logs (its retries) names the effect too.
func logged[Res any](ctx context.Context, h *host, kind effect.Kind, key effect.Key, run func(ctx context.Context) (Res, error)) (Res, error) {
	if !h.log.Enabled(ctx, slog.LevelWarn) {
		// Nothing of an effect would be logged (failures and retries are
		// warnings): no logger or attributes are built for it.
		return run(ctx)
	}
	start := time.Now()
	attrs := []any{"effect", key.ID, "kind", kind, "step", key.Step + 1, "block", key.Block}
	res, err := run(llm.ContextWithLogger(ctx, h.log.With(attrs...)))
	attrs = append(attrs, "duration", time.Since(start), "replayed", h.rec.served)
	var pause *effect.Pause
	switch {
	case err == nil, errors.As(err, &pause):
		h.log.DebugContext(ctx, "effect", attrs...)
	default:
		h.log.WarnContext(ctx, "effect failed", append(attrs, "error", err)...)
	}
	return res, err
}

// Generate implements effect.Effects.
func (f *effects) Generate(ctx context.Context, req effect.GenerateRequest) (effect.GenerateResult, error) {
	return logged(ctx, f.host, effect.KindGenerate, req.Key, func(ctx context.Context) (effect.GenerateResult, error) {
		return journaled(f.host.rec, effect.KindGenerate, req.Key, req, func() (effect.GenerateResult, error) {
			return effect.Generate(ctx, f.host.client, req, f.host.events)
		})
	})
}

// CallTool implements effect.Effects: a tool without a handler here is a
// client tool.
func (f *effects) CallTool(ctx context.Context, req effect.ToolRequest) (effect.ToolResult, error) {
	return logged(ctx, f.host, effect.KindTool, req.Key, func(ctx context.Context) (effect.ToolResult, error) {
		return journaled(f.host.rec, effect.KindTool, req.Key, req, func() (effect.ToolResult, error) {
			h := f.handler(req.Name)
			if h == nil {
				return effect.ToolResult{Client: true}, nil
			}
			return effect.RunTool(ctx, f.host.executionID, req, h)
		})
	})
}

// handler returns what answers a tool here: a registered handler (through
// the tool mapping of nested workers), or the protocol's MCP server; nil
// for a client tool.
func (f *effects) handler(name string) ToolHandler {
	if h := f.tool(name); h != nil {
		return h
	}
	return f.host.servers.Handler(f.protocol, name)
}

// ListMCPTools implements effect.Effects.
func (f *effects) ListMCPTools(ctx context.Context, req effect.MCPListRequest) (effect.MCPListResult, error) {
	return logged(ctx, f.host, effect.KindMCPList, req.Key, func(ctx context.Context) (effect.MCPListResult, error) {
		return journaled(f.host.rec, effect.KindMCPList, req.Key, req, func() (effect.MCPListResult, error) {
			tools, err := f.host.servers.Tools(ctx, f.protocol, req.Namespace, f.host.callerTools)
			return effect.MCPListResult{Tools: tools}, err
		})
	})
}

// Media implements effect.Effects with the client's media API
// (llm.MediaOf).
func (f *effects) Media(ctx context.Context, req effect.MediaRequest) (effect.MediaResult, error) {
	return logged(ctx, f.host, effect.KindMedia, req.Key, func(ctx context.Context) (effect.MediaResult, error) {
		return journaled(f.host.rec, effect.KindMedia, req.Key, req, func() (effect.MediaResult, error) {
			return effect.RunMedia(ctx, llm.MediaOf(f.host.client), req)
		})
	})
}

// AwaitToolResults implements effect.Effects: the results come from the
// journal when the run continues; the first time, the run pauses, its
// pending calls named the way the caller of the run knows the tools, and
// its snapshot is saved.
func (f *effects) AwaitToolResults(ctx context.Context, req effect.AwaitRequest) (effect.AwaitResult, error) {
	return logged(ctx, f.host, effect.KindAwait, req.Key, func(context.Context) (effect.AwaitResult, error) {
		res, err := f.host.rec.await(req)
		if pause, ok := errors.AsType[*effect.Pause](err); ok {
			for i, c := range pause.Calls {
				pause.Calls[i].ToolName = f.callerName(c.ToolName)
			}
			if err := f.host.suspend(pause.Calls); err != nil {
				return res, err
			}
		}
		return res, err
	})
}

// RunWorker implements effect.Effects: the nested worker runs here with
// its own state, its effects journaled like its caller's; its tool calls
// reach this run's handlers through the declaration's tool mapping,
// unmapped names as they are (rule §6.5).
func (f *effects) RunWorker(ctx context.Context, req effect.WorkerRequest) (effect.WorkerResult, error) {
	decl := f.protocol.Worker(req.Slug)
	if decl == nil {
		return effect.WorkerResult{}, fmt.Errorf("the protocol declares no worker %q", req.Slug)
	}
	parent := f.tool
	toParent := mapUp(decl, func(name string) string { return name })
	child := &effects{host: f.host, protocol: decl.Protocol, tool: func(name string) ToolHandler { return parent(toParent(name)) },
		callerName: mapUp(decl, f.callerName)}
	out, err := interp.Run(ctx, child, f.host.events.At(req.Scope), interp.Worker{
		Protocol: decl.Protocol, ID: req.WorkerID, Slug: decl.Slug.Value, Description: req.Label, Nested: true, Input: req.Input,
	})
	res := effect.WorkerResult{HasOutput: out.HasOutput, Usage: out.Usage}
	if err == nil && out.HasOutput {
		res.Output = events.RawValue(out.Output)
	}
	return res, err
}
