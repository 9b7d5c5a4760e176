// Command testserver is the MCP server the mcp package's tests start over
// stdio: the tools of testtools, plus tools about its own process (env,
// args, pid, spawn, crash).
//
// Its first argument may choose a mode instead: "exit" fails at once with a
// message on standard error; "linger" serves, then keeps running (ignoring
// SIGTERM) once its standard input ends; "sleep" only sleeps (the child
// that spawn starts).
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/octrun/octrun/mcp/internal/testtools"
)

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "testserver: refusing to start")
		os.Exit(2)
	case "sleep":
		time.Sleep(time.Hour)
		return
	}
	s := testtools.New()
	s.AddTool(mcp.NewTool("env",
		mcp.WithDescription("Answers with the value of an environment variable"),
		mcp.WithString("name", mcp.Required()),
	), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		v, ok := os.LookupEnv(req.GetString("name", ""))
		if !ok {
			return mcp.NewToolResultError("not set"), nil
		}
		return mcp.NewToolResultText(v), nil
	})
	s.AddTool(mcp.NewTool("args", mcp.WithDescription("Answers with the command-line arguments")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultStructuredOnly(map[string]any{"args": os.Args[1:]}), nil
		})
	s.AddTool(mcp.NewTool("pid", mcp.WithDescription("Answers with the process id")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultStructuredOnly(map[string]any{"pid": os.Getpid()}), nil
		})
	s.AddTool(mcp.NewTool("spawn", mcp.WithDescription("Starts a child process that sleeps and answers with its id")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			child := exec.Command(os.Args[0], "sleep")
			if err := child.Start(); err != nil {
				return nil, err
			}
			return mcp.NewToolResultStructuredOnly(map[string]any{"pid": child.Process.Pid}), nil
		})
	s.AddTool(mcp.NewTool("crash", mcp.WithDescription("Exits the process with status 3")),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			fmt.Fprintln(os.Stderr, "testserver: crashing on purpose")
			os.Exit(3)
			return nil, nil
		})
	if err := server.ServeStdio(s); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
	}
	if mode == "linger" {
		time.Sleep(time.Hour)
	}
}
