package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/mcp"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
)

// DefaultToolTimeout is how long a tool command may run when a Backend
// does not say.
const DefaultToolTimeout = 60 * time.Second

// Backend describes, as plain data, what answers a run's model and tool
// calls: the model endpoint or a mock script, and shell commands for
// tools. It is how a host that is not a Go program (the CLI, an HTTP
// server, a workflow worker) configures a run, and it is serializable so
// that a paused run continues with the same backend, wherever it
// continues: WithBackend records it in the run's Snapshot.
//
// A Backend holds no secret: API keys come from the environment of the
// process that runs (llm.NewRouter). It may hold shell commands, which a
// continued run executes: a store of snapshots must be as trusted as the
// command line.
type Backend struct {
	// LLMBaseURL sends every model call to this OpenAI-compatible
	// endpoint (llm.WithBaseURL), with the key in OCTRUN_LLM_API_KEY.
	// Empty: each model goes to its provider, configured by the
	// environment (and OCTRUN_LLM_BASE_URL, if set).
	LLMBaseURL string `json:"llmBaseUrl,omitempty"`
	// Mock is the path of a script (llm.Script) that answers the model
	// calls, and those tool calls its tools section answers, instead of
	// providers. WithBackend records it as an absolute path.
	Mock string `json:"mock,omitempty"`
	// Tools are commands that answer tools (CommandTool); a later command
	// for the same tool wins. A tool left without handler is a client
	// tool: the run pauses for its result.
	Tools []ToolCommand `json:"tools,omitempty"`
	// ToolTimeout is the longest a tool command may run; zero or less
	// means DefaultToolTimeout. In JSON it is a Go duration ("1m30s").
	ToolTimeout time.Duration `json:"-"`
	// MCPConfig is the path of the consumer's mcp.json (mcp.LoadConfig),
	// read when the backend is built (WithMCPConfig). WithBackend records
	// it as an absolute path.
	MCPConfig string `json:"mcpConfig,omitempty"`
}

// ToolCommand is a shell command that answers the tool Name (see
// CommandTool).
type ToolCommand struct {
	Name    string `json:"name"`
	Command string `json:"command"`
}

// ParseToolCommand reads NAME=COMMAND (the CLI's --tool flag).
func ParseToolCommand(s string) (ToolCommand, error) {
	name, command, ok := strings.Cut(s, "=")
	if !ok || name == "" || command == "" {
		return ToolCommand{}, errors.New("write NAME=COMMAND")
	}
	return ToolCommand{Name: name, Command: command}, nil
}

// backendJSON is a Backend's JSON form.
type backendJSON struct {
	LLMBaseURL  string        `json:"llmBaseUrl,omitempty"`
	Mock        string        `json:"mock,omitempty"`
	Tools       []ToolCommand `json:"tools,omitempty"`
	ToolTimeout string        `json:"toolTimeout,omitempty"`
	MCPConfig   string        `json:"mcpConfig,omitempty"`
}

// MarshalJSON writes ToolTimeout as a Go duration, omitted when zero.
func (b Backend) MarshalJSON() ([]byte, error) {
	j := backendJSON{LLMBaseURL: b.LLMBaseURL, Mock: b.Mock, Tools: b.Tools, MCPConfig: b.MCPConfig}
	if b.ToolTimeout != 0 {
		j.ToolTimeout = b.ToolTimeout.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (b *Backend) UnmarshalJSON(data []byte) error {
	var j backendJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*b = Backend{LLMBaseURL: j.LLMBaseURL, Mock: j.Mock, Tools: j.Tools, MCPConfig: j.MCPConfig}
	if j.ToolTimeout != "" {
		d, err := time.ParseDuration(j.ToolTimeout)
		if err != nil {
			return fmt.Errorf("toolTimeout: %w", err)
		}
		b.ToolTimeout = d
	}
	return nil
}

// BackendError is a Backend that cannot serve a protocol; nothing ran.
type BackendError struct {
	// Field is the part of the Backend at fault: BackendMock (the script
	// does not load), BackendMCP (the mcp.json does not load), BackendTools (Tool names no declared tool, or the
	// command is empty) or BackendLLM (a model's provider is unknown or
	// its key is not set).
	Field string
	// Tool is the tool of a BackendTools error.
	Tool string
	Err  error
}

// Fields of a BackendError.
const (
	BackendMock  = "mock"
	BackendTools = "tools"
	BackendLLM   = "llm"
	BackendMCP   = "mcpConfig"
)

func (e *BackendError) Error() string {
	switch e.Field {
	case BackendTools:
		return "tool " + e.Tool + ": " + e.Err.Error()
	case BackendLLM:
		return e.Err.Error()
	}
	return e.Field + ": " + e.Err.Error()
}

func (e *BackendError) Unwrap() error { return e.Err }

// Options checks the backend against the protocol p and returns the run
// options that install it: the model client (the mock script, or the
// provider router once every model p.Models may call has a key, see
// llm.Router.Check), the mock's tool answers, a CommandTool for each tool
// command, and WithBackend(b), so that a paused run records the backend.
// Every tool command must name a tool p or a worker it declares
// (the error says which it meant). input is the input as given to Run;
// its values choose the models that are set by an input. replayed is the
// number of model calls (chat and media) the run already made, which a
// mock script skips: 0 for Run, Snapshot.ModelCalls for Continue. A
// problem is a *BackendError.
func (b Backend) Options(p *protocol.Protocol, input map[string]any, replayed int) ([]Option, error) {
	values, _ := p.ResolveInput(input)
	client, handlers, err := b.build(p.Models(values), p.ToolNames(), p.MCPNamespaces(), replayed)
	if err != nil {
		return nil, err
	}
	servers, err := b.MCPServers()
	if err != nil {
		return nil, err
	}
	opts := []Option{WithLLM(client), WithMCPConfig(servers)}
	for name, h := range handlers {
		opts = append(opts, WithTool(name, h))
	}
	return append(opts, WithBackend(b)), nil
}

// MCPServers reads the mcp.json of MCPConfig (nil when there is none); a
// problem is a *BackendError.
func (b Backend) MCPServers() (map[string]mcp.Config, error) {
	if b.MCPConfig == "" {
		return nil, nil
	}
	servers, err := mcp.LoadConfig(b.MCPConfig)
	if err != nil {
		return nil, &BackendError{Field: BackendMCP, Err: err}
	}
	return servers, nil
}

// Serve checks the backend against every agent a worker process serves
// and returns what Options gives one run, for a process that runs many
// (the Temporal worker): the model client of each run (the same router
// for every run; with a mock script, a client that answers the run from
// the script's start) and the tool handlers, by tool name. Models set by
// an input are checked for their default.
func (b Backend) Serve(agents []*protocol.Protocol) (func(first int) llm.Client, map[string]ToolHandler, error) {
	var models, tools, namespaces []string
	for _, p := range agents {
		models = append(models, p.Models(nil)...)
		tools = append(tools, p.ToolNames()...)
		namespaces = append(namespaces, p.MCPNamespaces()...)
	}
	slices.Sort(tools)
	slices.Sort(namespaces)
	client, handlers, err := b.build(models, slices.Compact(tools), slices.Compact(namespaces), 0)
	if err != nil {
		return nil, nil, err
	}
	if scripted, ok := client.(*llm.Scripted); ok {
		return scripted.From, handlers, nil
	}
	return func(int) llm.Client { return client }, handlers, nil
}

// build makes the model client (the mock script, or the provider router
// once every model has a key) and the tool handlers (the mock's answers,
// then each tool command, which must name a declared tool or a tool
// namespace__name of a declared consumer MCP server).
func (b Backend) build(models, declared, namespaces []string, replayed int) (llm.Client, map[string]ToolHandler, error) {
	var client llm.Client
	handlers := map[string]ToolHandler{}
	if b.Mock != "" {
		script, err := llm.LoadScript(b.Mock)
		if err != nil {
			return nil, nil, &BackendError{Field: BackendMock, Err: err}
		}
		client = llm.NewScriptedFrom(script, replayed)
		for name, t := range script.Tools {
			handlers[name] = scriptedTool(t)
		}
	} else {
		var routerOpts []llm.RouterOption
		if b.LLMBaseURL != "" {
			routerOpts = append(routerOpts, llm.WithBaseURL(b.LLMBaseURL, os.Getenv(llm.EnvAPIKey)))
		}
		router := llm.NewRouter(os.Getenv, append(routerOpts, llm.DefaultRetries())...)
		if err := router.Check(models); err != nil {
			return nil, nil, &BackendError{Field: BackendLLM, Err: err}
		}
		client = router
	}
	timeout := b.ToolTimeout
	if timeout <= 0 {
		timeout = DefaultToolTimeout
	}
	for _, t := range b.Tools {
		if err := checkToolCommand(t, declared, namespaces); err != nil {
			return nil, nil, err
		}
		handlers[t.Name] = CommandTool(t.Command, timeout)
	}
	return client, handlers, nil
}

// checkToolCommand checks that a tool command has a command and answers a
// declared tool.
func checkToolCommand(t ToolCommand, declared, namespaces []string) error {
	if t.Command == "" {
		return &BackendError{Field: BackendTools, Tool: t.Name, Err: errors.New("no command")}
	}
	if ns, tool, ok := strings.Cut(t.Name, "__"); ok && tool != "" && slices.Contains(namespaces, ns) {
		return nil // a tool of a consumer MCP server, answered here
	}
	if slices.Contains(declared, t.Name) {
		return nil
	}
	tools := "it declares no tools"
	if len(declared) > 0 {
		tools = "its tools are " + strings.Join(declared, ", ")
	}
	return &BackendError{Field: BackendTools, Tool: t.Name,
		Err: fmt.Errorf("the worker has no tool %s%s; %s", t.Name, diag.DidYouMean(t.Name, declared), tools)}
}

// WithBackend records b in the snapshot of the run when it pauses, so that
// whoever continues it can rebuild the same backend (Snapshot.Backend,
// Backend.Options). It installs nothing itself: Backend.Options returns
// the options that do, this one included. The paths of the mock script and
// of the mcp.json are recorded absolute, so that the run continues from any folder. Continue
// without WithBackend keeps the backend the snapshot holds.
func WithBackend(b Backend) Option {
	for _, path := range []*string{&b.Mock, &b.MCPConfig} {
		if *path != "" {
			if abs, err := filepath.Abs(*path); err == nil {
				*path = abs
			}
		}
	}
	b.Tools = slices.Clone(b.Tools)
	return func(cfg *config) { cfg.backend = &b }
}

// backendStore is the store of a run given WithBackend: it records the
// backend in every snapshot it saves.
type backendStore struct {
	Store
	backend *Backend
}

// Save implements Store.
func (s backendStore) Save(ctx context.Context, snap *Snapshot) error {
	withBackend := *snap
	withBackend.Backend = s.backend
	return s.Store.Save(ctx, &withBackend)
}

// CheckSave implements SaveChecker with the store's check, if it has one.
func (s backendStore) CheckSave(ctx context.Context) error {
	if c, ok := s.Store.(SaveChecker); ok {
		return c.CheckSave(ctx)
	}
	return nil
}

// Claim implements Claimer with the store's claims.
func (s backendStore) Claim(ctx context.Context, id string) (func(), error) {
	return claim(ctx, s.Store, id)
}
