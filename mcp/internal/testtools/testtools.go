// Package testtools is the MCP server of the mcp package's tests: tools
// that answer, fail, take their time or look at the request, served over
// stdio by the testserver program and over streamable HTTP by the tests.
package testtools

import (
	"context"
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	octmcp "github.com/octrun/octrun/mcp"
)

// pixel is a 1x1 PNG, base64-encoded.
const pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

// configSchema is the input schema of the config tool, written raw: a
// nested object without properties and a pattern with a look-ahead, which
// the client normalises.
const configSchema = `{
  "type": "object",
  "properties": {
    "options": {"type": "object", "description": "Anything"},
    "items": {"type": "array", "items": {"type": ["object", "null"]}},
    "code": {"type": "string", "pattern": "^(?=[A-Z])[A-Z0-9]+$"},
    "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
    "default": {"type": "object", "default": {"type": "object"}}
  },
  "required": ["options"]
}`

// New returns the server with its tools.
func New() *server.MCPServer {
	s := server.NewMCPServer("octrun-testserver", "1.0.0", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("add",
		mcp.WithDescription("Adds two numbers"),
		mcp.WithNumber("a", mcp.Required(), mcp.Description("The first number")),
		mcp.WithNumber("b", mcp.Required(), mcp.Description("The second number")),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		a, b := req.GetFloat("a", 0), req.GetFloat("b", 0)
		return mcp.NewToolResultStructured(map[string]any{"sum": a + b}, fmt.Sprint(a+b)), nil
	})
	s.AddTool(mcp.NewTool("echo",
		mcp.WithDescription("Answers with its text"),
		mcp.WithString("text", mcp.Required()),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(req.GetString("text", "")), nil
	})
	s.AddTool(mcp.NewTool("lines",
		mcp.WithDescription("Answers with two text parts"),
	), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent("one"), mcp.NewTextContent("two")}}, nil
	})
	s.AddTool(mcp.NewTool("fail",
		mcp.WithDescription("Fails with its message (isError)"),
		mcp.WithString("message"),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultError(req.GetString("message", "")), nil
	})
	s.AddTool(mcp.NewTool("slow",
		mcp.WithDescription("Answers after ms milliseconds"),
		mcp.WithNumber("ms", mcp.Required()),
	), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case <-time.After(time.Duration(req.GetFloat("ms", 0)) * time.Millisecond):
			return mcp.NewToolResultText("done"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	s.AddTool(mcp.NewTool("header",
		mcp.WithDescription("Answers with the value of an HTTP request header"),
		mcp.WithString("name", mcp.Required()),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(req.Header.Get(req.GetString("name", ""))), nil
	})
	s.AddTool(mcp.NewTool("picture",
		mcp.WithDescription("Answers with a caption and an image"),
	), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultImage("a dot", pixel, "image/png"), nil
	})
	s.AddTool(mcp.NewTool("callid",
		mcp.WithDescription("Answers with the idempotency key octrun sent in _meta"),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		key := ""
		if m := req.Params.Meta; m != nil {
			key, _ = m.AdditionalFields[octmcp.ToolCallIDMetaKey].(string)
		}
		return mcp.NewToolResultText(key), nil
	})
	s.AddTool(mcp.NewToolWithRawSchema("config", "Takes a configuration", []byte(configSchema)),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("ok"), nil
		})
	return s
}
