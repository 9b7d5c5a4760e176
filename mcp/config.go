package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/octrun/octrun/internal/jsonmsg"
	"github.com/octrun/octrun/protocol"
)

// LoadConfig reads the consumer's MCP configuration from the file path, in
// the mcp.json format of MCP hosts (see ParseConfig).
func LoadConfig(path string) (map[string]Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, data)
}

// ParseConfig reads an MCP configuration in the mcp.json format of MCP
// hosts, by namespace:
//
//	{"mcpServers": {
//	  "files":  {"command": "npx", "args": ["-y", "server", "${DIR}"], "env": {"K": "v"}, "timeout": "30s"},
//	  "search": {"url": "http://127.0.0.1:8931/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}}
//	}}
//
// A server has exactly one of command (a stdio server, with args and env)
// and url (an http(s) streamable HTTP server, with headers); timeout is a
// Go duration bounding each request (default DefaultTimeout); type, when
// written, is stdio (with command) or http or streamable-http (with url).
// Texts may use ${NAME}, checked here for their syntax only (the rules of
// protocol.CheckMCPShape and the functions after it). Other keys are
// refused: they are most often misspelt ones.
func ParseConfig(data []byte) (map[string]Config, error) {
	return parseConfig("mcp.json", data)
}

// serverJSON is one server of mcp.json; pointers tell a key left out from
// one written empty.
type serverJSON struct {
	Type    *string           `json:"type"`
	Command *string           `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
	URL     *string           `json:"url"`
	Headers map[string]string `json:"headers"`
	Timeout json.RawMessage   `json:"timeout"`
}

func parseConfig(file string, data []byte) (map[string]Config, error) {
	var doc struct {
		MCPServers map[string]json.RawMessage `json:"mcpServers"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not an mcp.json file (%v): write {\"mcpServers\": {\"NAME\": {\"command\": ...} or {\"url\": ...}}}", file, err)
	}
	if doc.MCPServers == nil {
		return nil, fmt.Errorf("%s has no mcpServers object: write {\"mcpServers\": {\"NAME\": {\"command\": ...} or {\"url\": ...}}}", file)
	}
	out := make(map[string]Config, len(doc.MCPServers))
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(doc.MCPServers)) {
		cfg, problems := parseServer(name, doc.MCPServers[name])
		for _, p := range problems {
			errs = append(errs, fmt.Errorf("%s: server %q %s", file, name, p))
		}
		if len(problems) == 0 {
			out[name] = cfg
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

var serverKeys = []string{"type", "command", "args", "env", "url", "headers", "timeout"}

// parseServer reads one server; each problem is a text that follows
// `server "NAME"`.
func parseServer(name string, raw json.RawMessage) (Config, []string) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
		return Config{}, []string{"must be an object with command (a stdio server) or url (a streamable HTTP server)"}
	}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !slices.Contains(serverKeys, k) {
			problems = append(problems, fmt.Sprintf("has the unknown key %q: a server takes %s", k, strings.Join(serverKeys, ", ")))
		}
	}
	var s serverJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&s); err != nil {
		return Config{}, append(problems, fmt.Sprintf("has a value of the wrong type (%s): command, url, type and timeout are strings, args a list of strings, env and headers objects of strings", jsonmsg.Describe(err)))
	}
	for _, p := range protocol.CheckMCPShape(func(key string) bool { _, ok := keys[key]; return ok }) {
		problems = append(problems, p.Message)
	}
	check := func(err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	cfg := Config{Namespace: name, Args: s.Args, Env: s.Env, Headers: s.Headers}
	if s.Command != nil {
		cfg.Command = *s.Command
		check(protocol.CheckMCPCommand(cfg.Command))
	}
	for _, a := range s.Args {
		check(protocol.CheckMCPText("args", a))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		check(protocol.CheckMCPEnvName(k))
		check(protocol.CheckMCPText("env "+k, s.Env[k]))
	}
	if s.URL != nil {
		cfg.URL = *s.URL
		check(protocol.CheckMCPURL(cfg.URL))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Headers)) {
		check(protocol.CheckMCPHeaderName(k))
		check(protocol.CheckMCPText("header "+k, s.Headers[k]))
	}
	if s.Type != nil {
		switch t := *s.Type; {
		case t == "stdio" && s.URL != nil, (t == "http" || t == "streamable-http") && s.Command != nil:
			problems = append(problems, fmt.Sprintf("type %q does not go with its %s", t, map[bool]string{true: "url", false: "command"}[s.URL != nil]))
		case t != "stdio" && t != "http" && t != "streamable-http":
			problems = append(problems, fmt.Sprintf("type %q is not one octrun connects: use stdio (with command) or http (with url, a streamable HTTP server)", t))
		}
	}
	if s.Timeout != nil {
		var text string
		if err := json.Unmarshal(s.Timeout, &text); err != nil {
			problems = append(problems, fmt.Sprintf("timeout must be a duration text with a unit, such as \"30s\" or \"2m\", got %s", s.Timeout))
		} else if d, err := time.ParseDuration(text); err != nil {
			problems = append(problems, fmt.Sprintf("timeout must be a duration such as \"30s\", \"2m\" or \"1m30s\", got %q", text))
		} else {
			check(protocol.CheckMCPTimeout(d))
			cfg.Timeout = d
		}
	}
	return cfg, problems
}
