package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/protocol"
)

// ToolCallIDMetaKey is the key in a tools/call request's _meta under which
// octrun sends the call's idempotency key ("<executionId>/<toolCallId>",
// rule C7): a server whose tool must not act twice when a crashed worker's
// call is retried checks it.
const ToolCallIDMetaKey = "octrun/toolCallId"

// exitWait is how long a failed request waits for the stdio server's
// process to exit, to report its exit status.
const exitWait = time.Second

// clientInfo is how octrun introduces itself in the MCP handshake.
var clientInfo = mcp.Implementation{Name: "octrun", Version: moduleVersion()}

// moduleVersion returns the version of the octrun module in this binary.
func moduleVersion() string {
	const path = "github.com/octrun/octrun"
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Path == path && info.Main.Version != "" && info.Main.Version != "(devel)" {
			return info.Main.Version
		}
		for _, d := range info.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "devel"
}

// server is one configured server and its current connection.
type server struct {
	cfg Config
	m   *Manager

	mu     sync.Mutex // guards conn and closed; held while connecting
	conn   *conn      // nil until connected, and after a failure
	closed bool
}

// conn is one connection to a server: an MCP client over stdio (with the
// server's process) or over streamable HTTP.
type conn struct {
	client *client.Client
	proc   *process // nil over HTTP

	closeOnce sync.Once
	closeErr  error
}

// close ends the connection and, over stdio, stops the process.
func (c *conn) close() error {
	c.closeOnce.Do(func() {
		_ = c.client.Close() // stdio: closes stdin; HTTP: ends the session
		if c.proc != nil {
			c.closeErr = c.proc.stop()
		}
	})
	return c.closeErr
}

// alive reports whether the connection can still be used as far as is known
// without a request: over stdio, whether the process still runs.
func (c *conn) alive() bool {
	return c.proc == nil || !c.proc.hasExited()
}

// get returns the server's connection, connecting first when there is none
// or when its process has exited since the last request.
func (s *server) get(ctx context.Context) (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.m.closed() {
		return nil, s.errorf("%w", ErrClosed)
	}
	if s.conn != nil && s.conn.alive() {
		return s.conn, nil
	}
	if s.conn != nil {
		_ = s.conn.close() // it exited between calls: reap it, start afresh
		s.conn = nil
	}
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	s.conn = c
	return c, nil
}

// connect starts or dials the server and performs the MCP handshake.
func (s *server) connect(ctx context.Context) (*conn, error) {
	c, err := s.open()
	if err != nil {
		return nil, err
	}
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	// The transport keeps the context given to Start for the requests the
	// server sends: it must live as long as the Manager.
	err = c.client.Start(s.m.ctx)
	if err == nil {
		req := mcp.InitializeRequest{}
		req.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
		req.Params.ClientInfo = clientInfo
		_, err = c.client.Initialize(rctx, req)
	}
	if err != nil {
		_, err = s.failure(ctx, rctx, c, "the MCP handshake", err)
		_ = c.close()
		return nil, err
	}
	return c, nil
}

// open starts the stdio server's process or prepares the HTTP transport,
// expanding the ${NAME} references of the configuration.
func (s *server) open() (*conn, error) {
	expand := func(what, text string) (string, error) {
		v, err := protocol.ExpandEnv(text, s.m.lookupEnv)
		if err != nil {
			return "", s.errorf("%s: %w", what, err)
		}
		return v, nil
	}
	if s.cfg.Command != "" {
		command, err := expand("command", s.cfg.Command)
		if err != nil {
			return nil, err
		}
		args := make([]string, len(s.cfg.Args))
		for i, a := range s.cfg.Args {
			if args[i], err = expand("args", a); err != nil {
				return nil, err
			}
		}
		env := os.Environ()
		for _, name := range slices.Sorted(maps.Keys(s.cfg.Env)) {
			v, err := expand("env "+name, s.cfg.Env[name])
			if err != nil {
				return nil, err
			}
			env = append(env, name+"="+v)
		}
		proc, t, err := startProcess(command, args, env)
		if err != nil {
			return nil, s.errorf("starting %s: %w", command, err)
		}
		return &conn{client: client.NewClient(t), proc: proc}, nil
	}
	url, err := expand("url", s.cfg.URL)
	if err != nil {
		return nil, err
	}
	headers := make(map[string]string, len(s.cfg.Headers))
	for name, text := range s.cfg.Headers {
		if headers[name], err = expand("header "+name, text); err != nil {
			return nil, err
		}
	}
	t, err := transport.NewStreamableHTTP(url, transport.WithHTTPHeaders(headers))
	if err != nil {
		return nil, s.errorf("url %q: %w", url, err)
	}
	return &conn{client: client.NewClient(t)}, nil
}

// tools lists the server's tools, namespaced, with normalised schemas.
func (s *server) tools(ctx context.Context) ([]Tool, error) {
	c, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	res, err := c.client.ListTools(rctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, s.fail(ctx, rctx, c, "listing its tools", err)
	}
	tools := make([]Tool, len(res.Tools))
	for i, t := range res.Tools {
		tools[i] = Tool{
			Name:        s.cfg.Namespace + "__" + t.Name,
			Description: t.Description,
			InputSchema: inputSchema(t.InputSchema),
		}
	}
	return tools, nil
}

// call calls tool (without its namespace) and converts its result.
func (s *server) call(ctx context.Context, tool string, args map[string]any) (any, error) {
	c, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := s.requestContext(ctx)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	if key := effect.ToolCallKey(ctx); key != "" {
		req.Params.Meta = &mcp.Meta{AdditionalFields: map[string]any{ToolCallIDMetaKey: key}}
	}
	res, err := c.client.CallTool(rctx, req)
	if err != nil {
		return nil, s.fail(ctx, rctx, c, fmt.Sprintf("tool %q", tool), err)
	}
	return callResult(s.cfg.Namespace+"__"+tool, res)
}

// requestContext bounds one request by the server's timeout and by Close.
func (s *server) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	stop := context.AfterFunc(s.m.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// fail returns the error of a request on the connection c, dropping c
// when the connection itself failed so that the next use connects afresh.
func (s *server) fail(ctx, rctx context.Context, c *conn, what string, err error) error {
	broken, err := s.failure(ctx, rctx, c, what, err)
	if broken {
		s.drop(c)
	}
	return err
}

// failure turns the error of a request (what: `tool "x"`) into one that
// names the server and says what happened, and reports whether the
// connection itself failed.
func (s *server) failure(ctx, rctx context.Context, c *conn, what string, err error) (broken bool, _ error) {
	switch {
	case s.m.closed():
		return false, s.errorf("%s: %w", what, ErrClosed)
	case ctx.Err() != nil:
		return false, s.errorf("%s: %w", what, ctx.Err())
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return false, s.errorf("%s did not answer within %s: %w", what, s.cfg.Timeout, context.DeadlineExceeded)
	}
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false, s.errorf("%s: %w", what, err) // the server answered with an error
	}
	if p := c.proc; p != nil && p.waitExit(exitWait) {
		return true, s.errorf("the server exited (%s) during %s%s; it is restarted on the next use", p.exitStatus(), what, p.stderrTail())
	}
	return true, s.errorf("%s: the connection failed: %w; it is reconnected on the next use", what, terr.Err)
}

// drop forgets c if it is still the server's connection, and closes it.
func (s *server) drop(c *conn) {
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	s.mu.Unlock()
	_ = c.close()
}

// close closes the connection for good.
func (s *server) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn == nil {
		return nil
	}
	err := s.conn.close()
	s.conn = nil
	if err != nil {
		return s.errorf("%w", err)
	}
	return nil
}

// errorf returns an error that starts with the server's name.
func (s *server) errorf(format string, args ...any) error {
	where := s.cfg.Command
	if where == "" {
		where = s.cfg.URL
	}
	return fmt.Errorf("MCP server %q (%s): "+format, append([]any{s.cfg.Namespace, where}, args...)...)
}

// callResult converts a tool's result to a JSON-compatible value.
func callResult(tool string, res *mcp.CallToolResult) (any, error) {
	if res.IsError {
		msg := text(res.Content)
		if msg == "" {
			msg = "the tool reported an error without a message"
		}
		return nil, &ToolError{Tool: tool, Message: msg}
	}
	if res.StructuredContent != nil {
		return res.StructuredContent, nil
	}
	for _, part := range res.Content {
		if _, ok := mcp.AsTextContent(part); !ok {
			return jsonValue(res.Content)
		}
	}
	return text(res.Content), nil
}

// jsonValue returns v in its plain JSON form: maps, slices, strings,
// float64, bool and nil.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// text joins the text parts of content with newlines.
func text(content []mcp.Content) string {
	var parts []string
	for _, part := range content {
		if t, ok := mcp.AsTextContent(part); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}
