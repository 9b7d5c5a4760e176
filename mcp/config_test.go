package mcp_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/mcp"
)

// The example mcp.json holds what the deprecated connection mappings of
// the same worker held.
func TestLoadConfig(t *testing.T) {
	got, err := mcp.LoadConfig("../testdata/valid/mcp-files/mcp.json")
	require.NoError(t, err)
	assert.Equal(t, map[string]mcp.Config{
		"files": {
			Namespace: "files", Command: "npx",
			Args:    []string{"-y", "@modelcontextprotocol/server-filesystem", "${PROJECT_DIR}"},
			Env:     map[string]string{"NODE_ENV": "production"},
			Timeout: 30 * time.Second,
		},
		"search": {
			Namespace: "search", URL: "http://127.0.0.1:8931/mcp",
			Headers: map[string]string{"Authorization": "Bearer ${SEARCH_TOKEN}"},
		},
	}, got)

	_, err = mcp.LoadConfig(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	path := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"mcpServers": {"x": {}}}`), 0o644))
	_, err = mcp.LoadConfig(path)
	assert.EqualError(t, err, path+`: server "x" needs command (to start a stdio server) or url (to reach a streamable HTTP server)`)
}

func TestParseConfigAccepts(t *testing.T) {
	got, err := mcp.ParseConfig([]byte(`{"mcpServers": {
		"a": {"type": "stdio", "command": "./server"},
		"b": {"type": "http", "url": "${BASE}/mcp"},
		"c": {"type": "streamable-http", "url": "https://example.test/mcp", "timeout": "1m30s"}
	}, "other": "keys of other hosts are left alone"}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]mcp.Config{
		"a": {Namespace: "a", Command: "./server"},
		"b": {Namespace: "b", URL: "${BASE}/mcp"},
		"c": {Namespace: "c", URL: "https://example.test/mcp", Timeout: 90 * time.Second},
	}, got)
}

// Every refusal names the file, the server and the fix.
func TestParseConfigRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", `{`, `mcp.json: not an mcp.json file (unexpected end of JSON input): write {"mcpServers": {"NAME": {"command": ...} or {"url": ...}}}`},
		{"no mcpServers", `{"servers": {}}`, `mcp.json has no mcpServers object: write {"mcpServers": {"NAME": {"command": ...} or {"url": ...}}}`},
		{"not an object", `{"mcpServers": {"x": "./server"}}`, `mcp.json: server "x" must be an object with command (a stdio server) or url (a streamable HTTP server)`},
		{"neither", `{"mcpServers": {"x": {}}}`, `mcp.json: server "x" needs command (to start a stdio server) or url (to reach a streamable HTTP server)`},
		{"both", `{"mcpServers": {"x": {"command": "s", "url": "http://h/mcp"}}}`, `mcp.json: server "x" has both command and url: give command for a stdio server or url for a streamable HTTP server, not both`},
		{"args with url", `{"mcpServers": {"x": {"url": "http://h/mcp", "args": ["-v"], "env": {"A": "1"}}}}`,
			"mcp.json: server \"x\" args applies to a stdio server (command); a server reached by url takes headers\n" +
				`mcp.json: server "x" env applies to a stdio server (command); a server reached by url takes headers`},
		{"headers with command", `{"mcpServers": {"x": {"command": "s", "headers": {"A": "1"}}}}`, `mcp.json: server "x" headers apply to a streamable HTTP server (url); a stdio server started by command takes env`},
		{"empty command", `{"mcpServers": {"x": {"command": " "}}}`, `mcp.json: server "x" command is empty: name the program that starts the server`},
		{"bad reference", `{"mcpServers": {"x": {"command": "s", "args": ["${A"]}}}`, `mcp.json: server "x" args: "${A" has ${ without a closing }: write ${NAME} to use an environment variable, or $$ for a literal $`},
		{"bad env name", `{"mcpServers": {"x": {"command": "s", "env": {"1A": "v", "B": "${2}"}}}}`,
			"mcp.json: server \"x\" env name \"1A\" is not an environment variable name: use letters, digits and _, not starting with a digit\n" +
				`mcp.json: server "x" env B: ${2} is not a valid reference: the NAME in ${NAME} is letters, digits and _, not starting with a digit`},
		{"not http", `{"mcpServers": {"x": {"url": "ftp://h/mcp"}}}`, `mcp.json: server "x" url "ftp://h/mcp" must be an http:// or https:// URL with a host: the server's streamable HTTP endpoint`},
		{"bad header", `{"mcpServers": {"x": {"url": "http://h/mcp", "headers": {"A B": "1"}}}}`, `mcp.json: server "x" header name "A B" is not a valid HTTP header name: use letters, digits and dashes, like X-Api-Key`},
		{"timeout number", `{"mcpServers": {"x": {"command": "s", "timeout": 30}}}`, `mcp.json: server "x" timeout must be a duration text with a unit, such as "30s" or "2m", got 30`},
		{"timeout text", `{"mcpServers": {"x": {"command": "s", "timeout": "soon"}}}`, `mcp.json: server "x" timeout must be a duration such as "30s", "2m" or "1m30s", got "soon"`},
		{"timeout zero", `{"mcpServers": {"x": {"command": "s", "timeout": "0s"}}}`, `mcp.json: server "x" timeout must be more than zero, got 0s`},
		{"unknown key", `{"mcpServers": {"x": {"comand": "s", "command": "s"}}}`, `mcp.json: server "x" has the unknown key "comand": a server takes type, command, args, env, url, headers, timeout`},
		{"wrong type", `{"mcpServers": {"x": {"command": "s", "args": "-v"}}}`, `mcp.json: server "x" has a value of the wrong type (field "args": expected an array, got a string): command, url, type and timeout are strings, args a list of strings, env and headers objects of strings`},
		{"type mismatch", `{"mcpServers": {"x": {"type": "stdio", "url": "http://h/mcp"}}}`, `mcp.json: server "x" type "stdio" does not go with its url`},
		{"type sse", `{"mcpServers": {"x": {"type": "sse", "url": "http://h/sse"}}}`, `mcp.json: server "x" type "sse" is not one octrun connects: use stdio (with command) or http (with url, a streamable HTTP server)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mcp.ParseConfig([]byte(tc.in))
			assert.EqualError(t, err, tc.want)
		})
	}
}
