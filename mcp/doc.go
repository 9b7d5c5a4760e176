// Package mcp connects to the MCP servers that a worker protocol declares
// with source: consumer, and calls their tools. It owns the connections and
// the server processes; it knows nothing of blocks or events.
//
// # The consumer's configuration
//
// Octavus connects consumer MCP servers through its client SDK. octrun has
// no client SDK in between, so it connects to them itself, as the
// consumer's mcp.json says (LoadConfig, ParseConfig; octrun --mcp-config,
// runtime.WithMCPConfig), in the format MCP hosts share, by namespace:
//
//	{"mcpServers": {
//	  "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "${PROJECT_DIR}"],
//	            "env": {"DEBUG": "0"}, "timeout": "30s"},
//	  "search": {"url": "http://127.0.0.1:8931/mcp", "headers": {"Authorization": "Bearer ${SEARCH_TOKEN}"}}
//	}}
//
// A server has either command (a stdio server: octrun starts the program
// with args, in octrun's environment plus env, and speaks MCP on its
// standard input and output) or url (a streamable HTTP server, sent headers
// with every request), never both. timeout bounds each request to the
// server (the handshake, listing the tools, each tool call) and is a Go
// duration; it defaults to DefaultTimeout. The protocol declares the
// server with description, source: consumer and display only (rule §2.4);
// a consumer server the configuration does not name is the caller's
// (Servers.Tools). The former octrun extension, the same keys as a
// connection mapping in protocol.yaml, is still read (Configs), with a
// validation warning; the configuration wins over it.
//
// command, args, the values of env, url and the values of headers may use
// ${NAME}, replaced by the environment variable NAME when the server is
// connected; $$ stands for a literal $ and any other $ is kept as written
// (protocol.ExpandEnv). A variable that is not set is an error naming it,
// never an empty value. Validation checks only the syntax, so a protocol
// validates the same in every environment.
//
// # Behaviour
//
// A Manager connects to a server lazily, on the first Tools or Call that
// needs it, with the MCP initialize handshake, asking for the newest
// protocol version that has one (2025-11-25; the server may answer with an
// older version it speaks). Tools are named namespace__tool; the namespace is
// stripped before the call reaches the server. Tool input schemas are
// normalised as rule §5.7 says: every object node gets properties
// when it has none, and patterns with look-around or back-references, which
// many validators reject, are dropped.
//
// A call's result is the tool's structured content when it has some, else
// its text (the text parts joined by newlines) when every part is text,
// else its content parts as JSON objects. A result the tool marks isError is returned as a
// *ToolError carrying its text.
//
// A request that takes longer than the timeout fails with an error that
// wraps context.DeadlineExceeded and names the server and tool; the server
// is told to cancel it and stays connected. A stdio server whose process
// exits, or an HTTP server whose connection fails, fails the request in
// flight with an error that names the server (with the exit status and the
// end of its standard error), and is started (or connected) afresh on the
// next use: a crash costs the call that saw it, not the rest of the run.
// A stdio server found dead between calls is restarted before the next
// call is sent.
//
// Close stops every server: it closes each stdio server's standard input
// and waits for the process to exit, sending SIGTERM and then SIGKILL to
// its process group when it does not (the server runs in a group of its
// own, with anything it starts, such as the node process behind npx);
// what is left of the group once the server has exited is killed. On
// Windows, which has no process groups, the server process alone is
// killed, and what it started may survive it. Close ends each HTTP session
// too, and leaves no goroutine behind.
package mcp
