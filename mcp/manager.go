package mcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/octrun/octrun/protocol"
)

// DefaultTimeout bounds each request to a server whose connection sets no
// timeout.
const DefaultTimeout = 60 * time.Second

// ErrClosed is returned by the Manager's methods once Close has been called.
var ErrClosed = errors.New("mcp: the manager is closed")

// Config says how to reach one MCP server. Exactly one of Command and URL is
// set. Every text but the names of Env and Headers may use ${NAME} (see
// protocol.ExpandEnv), expanded when the server is connected.
type Config struct {
	// Namespace is the server's key under mcpServers: its tools are named
	// Namespace__tool.
	Namespace string
	// Command, Args and Env start a stdio server. Env is added to the
	// environment of octrun's process, which the server inherits.
	Command string
	Args    []string
	Env     map[string]string
	// URL and Headers reach a streamable HTTP server.
	URL     string
	Headers map[string]string
	// Timeout bounds each request to the server; zero means DefaultTimeout.
	Timeout time.Duration
}

// Configs returns the Config of every declared server that has a
// connection mapping, in declaration order. In a protocol that validated,
// these are all its consumer servers.
func Configs(servers []*protocol.MCPServerDef) []Config {
	var out []Config
	for _, s := range servers {
		c := s.Connection
		if c == nil {
			continue
		}
		cfg := Config{Namespace: s.Name.Value, Command: c.Command.Value, URL: c.URL.Value, Timeout: c.Timeout.Value}
		for _, a := range c.Args {
			cfg.Args = append(cfg.Args, a.Value)
		}
		cfg.Env = namedValues(c.Env)
		cfg.Headers = namedValues(c.Headers)
		out = append(out, cfg)
	}
	return out
}

func namedValues(vs []protocol.NamedValue) map[string]string {
	if len(vs) == 0 {
		return nil
	}
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		m[v.Name.Value] = v.Value.Value
	}
	return m
}

// Tool is one tool of a server, as a model sees it.
type Tool struct {
	// Name is namespace__tool.
	Name        string
	Description string
	// InputSchema is the JSON Schema of the tool's arguments, normalised
	// (see the package documentation).
	InputSchema map[string]any
}

// ToolError is the result of a call that the tool marked as an error
// (isError): the call reached the tool, which failed.
type ToolError struct {
	// Tool is the namespaced name of the tool called.
	Tool string
	// Message is the text of the result.
	Message string
}

// Error returns the tool's name and message.
func (e *ToolError) Error() string {
	return fmt.Sprintf("MCP tool %s failed: %s", e.Tool, e.Message)
}

// Manager connects to the declared MCP servers and calls their tools. It is
// safe for concurrent use.
type Manager struct {
	servers   map[string]*server
	lookupEnv func(string) (string, bool)

	// ctx lives as long as the Manager: Close cancels it, which aborts
	// the requests in flight and the connections being made.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
}

// Option configures a Manager.
type Option func(*Manager)

// WithLookupEnv sets where the values of ${NAME} references come from; the
// default is os.LookupEnv. A stdio server's environment is always that of
// octrun's process (os.Environ) plus its env.
func WithLookupEnv(lookup func(name string) (string, bool)) Option {
	return func(m *Manager) { m.lookupEnv = lookup }
}

// New returns a Manager for the servers of configs. It connects to none of
// them: each is connected on first use.
func New(configs []Config, opts ...Option) (*Manager, error) {
	m := &Manager{servers: map[string]*server{}, lookupEnv: os.LookupEnv}
	for _, opt := range opts {
		opt(m)
	}
	for _, cfg := range configs {
		switch {
		case cfg.Namespace == "" || strings.Contains(cfg.Namespace, "__"):
			return nil, fmt.Errorf("mcp: namespace %q must be a non-empty name without __", cfg.Namespace)
		case m.servers[cfg.Namespace] != nil:
			return nil, fmt.Errorf("mcp: namespace %q is configured twice", cfg.Namespace)
		case (cfg.Command == "") == (cfg.URL == ""):
			return nil, fmt.Errorf("mcp: server %q needs either a command or a url", cfg.Namespace)
		}
		if cfg.Timeout <= 0 {
			cfg.Timeout = DefaultTimeout
		}
		m.servers[cfg.Namespace] = &server{cfg: cfg, m: m}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Namespaces returns the namespaces of the configured servers, sorted.
func (m *Manager) Namespaces() []string {
	return slices.Sorted(maps.Keys(m.servers))
}

// Tools returns the tools of the server of namespace, named
// namespace__tool. It asks the server each time, connecting it first if
// needed, so a changed list is seen at once.
func (m *Manager) Tools(ctx context.Context, namespace string) ([]Tool, error) {
	s, ok := m.servers[namespace]
	if !ok {
		return nil, fmt.Errorf("no MCP server %q is configured%s", namespace, m.known())
	}
	return s.tools(ctx)
}

// Call calls the tool name (namespace__tool) with args and returns its
// JSON-compatible result: the structured content when there is some, else
// the text, else (when some parts are not text) the content parts as JSON
// objects. A result marked isError is returned as a *ToolError.
func (m *Manager) Call(ctx context.Context, name string, args map[string]any) (any, error) {
	namespace, tool, ok := strings.Cut(name, "__")
	if !ok || tool == "" {
		return nil, fmt.Errorf("%q is not the name of an MCP tool: MCP tools are named namespace__tool", name)
	}
	s, ok := m.servers[namespace]
	if !ok {
		return nil, fmt.Errorf("MCP tool %q: no MCP server %q is configured%s", name, namespace, m.known())
	}
	return s.call(ctx, tool, args)
}

func (m *Manager) known() string {
	if len(m.servers) == 0 {
		return ""
	}
	return " (configured: " + strings.Join(m.Namespaces(), ", ") + ")"
}

// Close stops every server and closes every connection, waiting for the
// server processes to exit. Calls in flight fail with ErrClosed; later
// calls too. It returns an error when a process could not be stopped.
func (m *Manager) Close() error {
	var errs []error
	m.closeOnce.Do(func() {
		m.cancel()
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, s := range m.servers {
			wg.Go(func() {
				if err := s.close(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	})
	return errors.Join(errs...)
}

func (m *Manager) closed() bool {
	return m.ctx.Err() != nil
}
