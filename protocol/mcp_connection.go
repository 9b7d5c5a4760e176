package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/diag"
)

// This file holds the octrun extension of mcpServers: the connection
// mapping of a consumer server (see MCPConnection).

var (
	envName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// mcpConnection returns the reader of an MCP server's connection: text
// (eager or lazy, for remote servers) or the mapping of the octrun
// extension.
func (d *decoder) mcpConnection(s *MCPServerDef, server string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		what := server + " connection"
		switch before := len(*d.Diags); {
		case n.Kind == yaml.MappingNode:
			s.Connection = d.connectionMapping(n, what)
			s.Connection.faulty = len(*d.Diags) > before
		case yamlx.IsString(n):
			s.ConnectionMode = Str{n.Value, d.Pos(n)}
		default:
			d.Errorf(n, "%s must be a mapping with command (a stdio server) or url (a streamable HTTP server), got %s", what, yamlx.Describe(n))
			// Kept, empty, so that validation does not report it missing too.
			s.Connection = &MCPConnection{Pos: d.Pos(n), faulty: true}
		}
	}
}

// connectionMapping reads a connection mapping and checks its shape: either
// command (with args and env) or url (with headers).
func (d *decoder) connectionMapping(n *yaml.Node, what string) *MCPConnection {
	c := &MCPConnection{Pos: d.Pos(n)}
	entries := d.Mapping(n, what)
	d.decodeFields(entries, what, fields{
		"command": d.str(&c.Command, what+" command"),
		"args":    d.textList(&c.Args, what+" args"),
		"env":     d.namedValues(&c.Env, what+" env"),
		"url":     d.str(&c.URL, what+" url"),
		"headers": d.namedValues(&c.Headers, what+" headers"),
		"timeout": d.duration(&c.Timeout, what+" timeout"),
	})
	keys := make(map[string]*yaml.Node, len(entries))
	for _, e := range entries {
		keys[e.Key] = e.KeyNode
	}
	for _, problem := range CheckMCPShape(func(key string) bool { return keys[key] != nil }) {
		at := n
		if problem.Key != "" {
			at = keys[problem.Key]
		}
		d.Errorf(at, "%s %s", what, problem.Message)
	}
	return c
}

// textList returns a reader for a list of texts (command-line arguments).
func (d *decoder) textList(dst *[]Str, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		for _, item := range d.Sequence(n, what) {
			if v, ok := d.Text(item, "each item of "+what); ok {
				*dst = append(*dst, Str{v, d.Pos(item)})
			}
		}
	}
}

// namedValues returns a reader for a mapping of names to texts (env,
// headers), kept in document order.
func (d *decoder) namedValues(dst *[]NamedValue, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		for _, e := range d.Mapping(n, what) {
			if v, ok := d.Text(e.Value, what+" "+e.Key); ok {
				*dst = append(*dst, NamedValue{Name: Str{e.Key, d.Pos(e.KeyNode)}, Value: Str{v, d.Pos(e.Value)}})
			}
		}
	}
}

// duration returns a reader for a Go duration (30s, 2m, 1m30s).
func (d *decoder) duration(dst *Duration, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
			d.Errorf(n, "%s must be a duration with a unit, such as %ss or 2m, got a number", what, n.Value)
			return
		}
		text, ok := d.Name(n, what)
		if !ok {
			return
		}
		t, err := time.ParseDuration(text)
		if err != nil {
			d.Errorf(n, "%s must be a duration such as 30s, 2m or 1m30s, got %q", what, text)
			return
		}
		*dst = Duration{t, d.Pos(n)}
	}
}

// checkMCPConnection checks the values of a server's connection mapping
// with the rules that mcp.json follows too (see CheckMCPCommand and the
// functions after it), and reports whether the connection is free of
// errors, these or those found when it was read.
func (v *validator) checkMCPConnection(server string, c *MCPConnection) (ok bool) {
	what := server + " connection"
	ok = !c.faulty
	check := func(pos diag.Pos, err error) {
		if err != nil {
			v.errorf(pos, "%s %v", what, err)
			ok = false
		}
	}
	if c.Command.IsSet() {
		check(c.Command.Pos, CheckMCPCommand(c.Command.Value))
	}
	for _, a := range c.Args {
		check(a.Pos, CheckMCPText("args", a.Value))
	}
	for _, e := range c.Env {
		check(e.Name.Pos, CheckMCPEnvName(e.Name.Value))
		check(e.Value.Pos, CheckMCPText("env "+e.Name.Value, e.Value.Value))
	}
	if c.URL.IsSet() {
		check(c.URL.Pos, CheckMCPURL(c.URL.Value))
	}
	for _, h := range c.Headers {
		check(h.Name.Pos, CheckMCPHeaderName(h.Name.Value))
		check(h.Value.Pos, CheckMCPText("header "+h.Name.Value, h.Value.Value))
	}
	if c.Timeout.IsSet() {
		check(c.Timeout.Pos, CheckMCPTimeout(c.Timeout.Value))
	}
	return ok
}

// MCPJSON returns the mcp.json text that says what c says, for the server
// namespace: {"mcpServers": {namespace: {...}}}, on one line.
func (c *MCPConnection) MCPJSON(namespace string) string {
	var b strings.Builder
	raw := func(key, value string) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteString(": " + value)
	}
	field := func(key string, value string) {
		v, _ := json.Marshal(value)
		raw(key, string(v))
	}
	named := func(key string, vs []NamedValue) {
		if len(vs) == 0 {
			return
		}
		var m strings.Builder
		for i, nv := range vs {
			if i > 0 {
				m.WriteString(", ")
			}
			k, _ := json.Marshal(nv.Name.Value)
			v, _ := json.Marshal(nv.Value.Value)
			m.Write(k)
			m.WriteString(": ")
			m.Write(v)
		}
		raw(key, "{"+m.String()+"}")
	}
	if c.Command.IsSet() {
		field("command", c.Command.Value)
	}
	if len(c.Args) > 0 {
		args := make([]string, len(c.Args))
		for i, a := range c.Args {
			v, _ := json.Marshal(a.Value)
			args[i] = string(v)
		}
		raw("args", "["+strings.Join(args, ", ")+"]")
	}
	named("env", c.Env)
	if c.URL.IsSet() {
		field("url", c.URL.Value)
	}
	named("headers", c.Headers)
	if c.Timeout.IsSet() {
		field("timeout", c.Timeout.Value.String())
	}
	name, _ := json.Marshal(namespace)
	return `{"mcpServers": {` + string(name) + `: {` + b.String() + `}}}`
}

// The rules of an MCP server's connection, shared by the deprecated
// connection mapping of protocol.yaml and the consumer's mcp.json (package
// mcp): each returns nil or an error whose text follows the name of what
// holds the connection ("MCP server "files" connection", "mcp.json: server
// "files"").

// MCPShapeProblem is a key of a connection that does not go with the
// others; Key is empty when the connection as a whole is at fault.
type MCPShapeProblem struct {
	Key, Message string
}

// CheckMCPShape checks which keys a connection has (has reports whether
// one is written): exactly one of command (a stdio server, with args and
// env) and url (a streamable HTTP server, with headers).
func CheckMCPShape(has func(key string) bool) []MCPShapeProblem {
	var out []MCPShapeProblem
	switch command, address := has("command"), has("url"); {
	case !command && !address:
		out = append(out, MCPShapeProblem{"", "needs command (to start a stdio server) or url (to reach a streamable HTTP server)"})
	case command && address:
		out = append(out, MCPShapeProblem{"url", "has both command and url: give command for a stdio server or url for a streamable HTTP server, not both"})
	case address:
		for _, key := range []string{"args", "env"} {
			if has(key) {
				out = append(out, MCPShapeProblem{key, key + " applies to a stdio server (command); a server reached by url takes headers"})
			}
		}
	case has("headers"):
		out = append(out, MCPShapeProblem{"headers", "headers apply to a streamable HTTP server (url); a stdio server started by command takes env"})
	}
	return out
}

// CheckMCPCommand checks a stdio server's command: not empty, with
// well-formed references.
func CheckMCPCommand(command string) error {
	if strings.TrimSpace(command) == "" {
		return errors.New("command is empty: name the program that starts the server")
	}
	return CheckMCPText("command", command)
}

// CheckMCPText checks the ${NAME} references of the value what. Whether
// the variables are set is not checked: validation does not depend on the
// environment, which is read when the server is connected.
func CheckMCPText(what, s string) error {
	if _, err := ExpandEnv(s, func(string) (string, bool) { return "", true }); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// CheckMCPEnvName checks the name of an environment variable of env.
func CheckMCPEnvName(name string) error {
	if !envName.MatchString(name) {
		return fmt.Errorf("env name %q is not an environment variable name: use letters, digits and _, not starting with a digit", name)
	}
	return nil
}

// CheckMCPHeaderName checks the name of a header of headers.
func CheckMCPHeaderName(name string) error {
	if !headerName.MatchString(name) {
		return fmt.Errorf("header name %q is not a valid HTTP header name: use letters, digits and dashes, like X-Api-Key", name)
	}
	return nil
}

// CheckMCPURL checks a streamable HTTP server's url: well-formed
// references, and an http or https URL with a host.
func CheckMCPURL(s string) error {
	if err := CheckMCPText("url", s); err != nil {
		return err
	}
	if !isHTTPURL(s) {
		return fmt.Errorf("url %q must be an http:// or https:// URL with a host: the server's streamable HTTP endpoint", s)
	}
	return nil
}

// CheckMCPTimeout checks a server's request timeout.
func CheckMCPTimeout(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("timeout must be more than zero, got %s", d)
	}
	return nil
}

// isHTTPURL reports whether s, with its references replaced by a
// placeholder, is an http or https URL with a host. A url that starts with
// a reference takes its scheme from the environment and is not checked.
func isHTTPURL(s string) bool {
	if strings.HasPrefix(s, "${") {
		return true
	}
	probe, err := ExpandEnv(s, func(string) (string, bool) { return "1", true })
	if err != nil {
		return false
	}
	u, err := url.Parse(probe)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != ""
}

// ExpandEnv returns s with each ${NAME} replaced by the value lookup gives
// for NAME, and each $$ by a single $; any other $ stays as written. NAME is
// letters, digits and _, not starting with a digit. This is the syntax of
// the values of an MCP server's connection (see MCPConnection). ExpandEnv
// fails on a malformed reference and on a NAME that lookup does not know,
// so that a missing variable is never silently empty.
func ExpandEnv(s string, lookup func(name string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for rest := s; ; {
		i := strings.IndexByte(rest, '$')
		if i < 0 || i == len(rest)-1 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		switch rest[i+1] {
		case '$':
			b.WriteByte('$')
			rest = rest[i+2:]
		case '{':
			name, after, closed := strings.Cut(rest[i+2:], "}")
			if !closed {
				return "", fmt.Errorf("%q has ${ without a closing }: write ${NAME} to use an environment variable, or $$ for a literal $", s)
			}
			if !envName.MatchString(name) {
				return "", fmt.Errorf("${%s} is not a valid reference: the NAME in ${NAME} is letters, digits and _, not starting with a digit", name)
			}
			value, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("${%s} is not set in the environment", name)
			}
			b.WriteString(value)
			rest = after
		default:
			b.WriteByte('$')
			rest = rest[i+1:]
		}
	}
}
