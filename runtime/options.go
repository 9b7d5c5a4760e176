package runtime

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/protocol"
)

// ToolHandler runs a tool: it receives the arguments (a JSON object decoded
// with json.Number for numbers) and returns a JSON-compatible result. An
// error becomes the tool's error result. A handler should return soon
// after ctx is cancelled: one that does not within effect.HandlerGrace is
// left running in its goroutine while the run ends without it (the run's
// logger says so, and again when it returns), and its result is dropped.
type ToolHandler func(ctx context.Context, args map[string]any) (any, error)

// Option configures a run.
type Option func(*config)

type config struct {
	client      llm.Client
	handlers    map[string]ToolHandler
	sink        events.Sink
	sinkGrace   time.Duration
	log         *events.Log
	observer    func(events.Record)
	allEvents   bool
	executionID string
	store       Store
	protocol    *protocol.Protocol
	agents      func(slug string) (*protocol.Protocol, error)
	logger      *slog.Logger
	backend     *Backend
	callerTools []llm.Tool
	mcpConfig   map[string]mcp.Config
}

// defaultStore keeps the snapshots of paused runs when no store is given.
var defaultStore = NewMemoryStore()

func newConfig(opts []Option) *config {
	cfg := &config{handlers: map[string]ToolHandler{}, store: defaultStore, sinkGrace: defaultSinkGrace, logger: discardLogger}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.client == nil {
		cfg.client = llm.NewRouter(os.Getenv, llm.DefaultRetries())
	}
	if cfg.backend != nil {
		cfg.store = backendStore{Store: cfg.store, backend: cfg.backend}
	}
	return cfg
}

// HandlerTools returns the tools offered for the consumer MCP servers
// that no configuration connects (rule §2.4): the caller's tools, then,
// for every handler registered under a namespace__tool name that the
// caller does not declare, that name with an empty object schema (a
// handler has no schema of its own).
func HandlerTools(caller []llm.Tool, handlers map[string]ToolHandler) []llm.Tool {
	out := slices.Clone(caller)
	for _, name := range slices.Sorted(maps.Keys(handlers)) {
		if ns, tool, ok := strings.Cut(name, "__"); !ok || ns == "" || tool == "" ||
			slices.ContainsFunc(out, func(t llm.Tool) bool { return t.Name == name }) {
			continue
		}
		out = append(out, llm.Tool{Name: name, Description: "Answered by this host's handler " + name,
			Parameters: map[string]any{"type": "object", "properties": map[string]any{}}})
	}
	return out
}

// WithCallerTools gives the tools the caller answers itself (the
// dynamicToolSchemas of an Octavus start request): a thread that lists an
// MCP server declared without a connection offers the ones in its
// namespace (namespace__tool), and calling one pauses the run for the
// caller's result (rule §2.4). A continued run needs them again.
func WithCallerTools(tools []llm.Tool) Option {
	return func(cfg *config) { cfg.callerTools = tools }
}

// WithMCPConfig gives the consumer's MCP servers (an mcp.json, see
// mcp.LoadConfig), by namespace: a consumer server of the protocol, or of a
// nested worker, with that namespace is started or reached as configs
// says, even when its protocol.yaml has a (deprecated) connection mapping.
// A namespace no protocol declares is ignored, so one configuration serves
// many agents. A continued run needs it again (Backend.MCPConfig records
// the file for the CLI).
func WithMCPConfig(configs map[string]mcp.Config) Option {
	return func(cfg *config) { cfg.mcpConfig = configs }
}

// WithLLM sets the model client. The default routes each model by its
// provider prefix to an OpenAI-compatible endpoint configured by the
// environment (llm.NewRouter), retrying transient failures that happen
// before the first token (llm.WithRetries).
func WithLLM(c llm.Client) Option { return func(cfg *config) { cfg.client = c } }

// WithTool registers the handler of a tool (a server tool). A tool without
// a handler is a client tool: the run pauses for its result (see Continue).
func WithTool(name string, h ToolHandler) Option {
	return func(cfg *config) { cfg.handlers[name] = h }
}

// defaultSinkGrace is how long a finished run waits for its sink to take
// the events it has not taken yet.
const defaultSinkGrace = 10 * time.Second

// WithEventSink sends every event of the run to sink, in order, from a
// goroutine of its own: a slow sink never stalls the run, and a sink that
// fails is sent nothing more while the run goes on. Run returns once the
// sink took every event, or after grace (WithSinkGrace, 10 s by default)
// when it is still busy then.
func WithEventSink(sink events.Sink) Option { return func(cfg *config) { cfg.sink = sink } }

// WithSinkGrace sets how long a finished run waits for its sink.
func WithSinkGrace(d time.Duration) Option { return func(cfg *config) { cfg.sinkGrace = d } }

// WithEventLog records the run's events in log, which the caller created
// with events.NewLog and from which any number of readers read, each from
// the sequence number it wants; Run closes the log when the run ends. A
// continued run's log should start at the paused leg's next number
// (Snapshot.NextSeq).
func WithEventLog(log *events.Log) Option { return func(cfg *config) { cfg.log = log } }

// WithEventObserver calls observe with each event as the run logs it, in
// the run's own goroutine: for metrics, logs and tests that must act at an
// exact point of the stream. It must return quickly and never block.
func WithEventObserver(observe func(events.Record)) Option {
	return func(cfg *config) { cfg.observer = observe }
}

// WithLogger sends the run's structured logs to logger: the start and end
// of each leg, and each effect with its duration (debug) or its failure
// (warn). Runs log nothing by default.
func WithLogger(logger *slog.Logger) Option { return func(cfg *config) { cfg.logger = logger } }

// WithAgents gives Continue the way to find a paused run's protocol by its
// slug on this host (a folder of agents, protocol.Catalog); its
// fingerprint must match the one the run started with.
func WithAgents(find func(slug string) (*protocol.Protocol, error)) Option {
	return func(cfg *config) { cfg.agents = find }
}

// WithAllEvents ignores display modes and sends every event (rule D9), for
// debugging.
func WithAllEvents() Option { return func(cfg *config) { cfg.allEvents = true } }

// WithExecutionID sets the run's execution id instead of a random one;
// every id of the run derives from it, so a fixed id makes runs repeatable.
func WithExecutionID(id string) Option { return func(cfg *config) { cfg.executionID = id } }

// WithScriptedTools registers the answers of a script's tools section as
// tool handlers, so that a run with a scripted model needs no real tool
// either (octrun --mock).
func WithScriptedTools(s *llm.Script) Option {
	return func(cfg *config) { maps.Copy(cfg.handlers, ScriptedTools(s)) }
}

// ScriptedTools returns the answers of a script's tools section as tool
// handlers, by tool name.
func ScriptedTools(s *llm.Script) map[string]ToolHandler {
	handlers := make(map[string]ToolHandler, len(s.Tools))
	for name, t := range s.Tools {
		handlers[name] = scriptedTool(t)
	}
	return handlers
}

// scriptedTool answers a tool from a script's tools section.
func scriptedTool(t llm.ScriptTool) ToolHandler {
	return func(context.Context, map[string]any) (any, error) {
		if t.Error != "" {
			return nil, errors.New(t.Error)
		}
		return t.Result, nil
	}
}

// WithStore keeps the snapshots of paused runs in s (default: in memory,
// for the life of the process).
func WithStore(s Store) Option { return func(cfg *config) { cfg.store = s } }

// WithProtocol gives Continue the protocol to resume with, instead of
// loading it again from the folder the run started from.
func WithProtocol(p *protocol.Protocol) Option { return func(cfg *config) { cfg.protocol = p } }
