package protocol

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
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
		switch {
		case n.Kind == yaml.MappingNode:
			s.Connection = d.connectionMapping(n, what)
		case yamlx.IsString(n):
			s.ConnectionMode = Str{n.Value, d.Pos(n)}
		default:
			d.Errorf(n, "%s must be a mapping with command (a stdio server) or url (a streamable HTTP server), got %s", what, yamlx.Describe(n))
			// Kept, empty, so that validation does not report it missing too.
			s.Connection = &MCPConnection{Pos: d.Pos(n)}
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
	command, address := keys["command"], keys["url"]
	switch {
	case command == nil && address == nil:
		d.Errorf(n, "%s needs command (to start a stdio server) or url (to reach a streamable HTTP server)", what)
	case command != nil && address != nil:
		d.Errorf(address, "%s has both command and url: give command for a stdio server or url for a streamable HTTP server, not both", what)
	case address != nil:
		for _, key := range []string{"args", "env"} {
			if k := keys[key]; k != nil {
				d.Errorf(k, "%s %s applies to a stdio server (command); a server reached by url takes headers", what, key)
			}
		}
	case keys["headers"] != nil:
		d.Errorf(keys["headers"], "%s headers apply to a streamable HTTP server (url); a stdio server started by command takes env", what)
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

// checkMCPConnection checks the values of a server's connection mapping: a
// command that is not empty, an http(s) url, a timeout above zero, the names
// of environment variables and headers, and every ${NAME} reference.
func (v *validator) checkMCPConnection(server string, c *MCPConnection) {
	what := server + " connection"
	if c.Command.IsSet() && strings.TrimSpace(c.Command.Value) == "" {
		v.errorf(c.Command.Pos, "%s command is empty: name the program that starts the server", what)
	}
	v.checkEnvRefs(what+" command", c.Command)
	for _, a := range c.Args {
		v.checkEnvRefs(what+" args", a)
	}
	for _, e := range c.Env {
		if !envName.MatchString(e.Name.Value) {
			v.errorf(e.Name.Pos, "%s env name %q is not an environment variable name: use letters, digits and _, not starting with a digit", what, e.Name.Value)
		}
		v.checkEnvRefs(what+" env "+e.Name.Value, e.Value)
	}
	if c.URL.IsSet() && v.checkEnvRefs(what+" url", c.URL) && !isHTTPURL(c.URL.Value) {
		v.errorf(c.URL.Pos, "%s url %q must be an http:// or https:// URL with a host: the server's streamable HTTP endpoint", what, c.URL.Value)
	}
	for _, h := range c.Headers {
		if !headerName.MatchString(h.Name.Value) {
			v.errorf(h.Name.Pos, "%s header name %q is not a valid HTTP header name: use letters, digits and dashes, like X-Api-Key", what, h.Name.Value)
		}
		v.checkEnvRefs(what+" header "+h.Name.Value, h.Value)
	}
	if c.Timeout.IsSet() && c.Timeout.Value <= 0 {
		v.errorf(c.Timeout.Pos, "%s timeout must be more than zero, got %s", what, c.Timeout.Value)
	}
}

// checkEnvRefs reports a malformed ${NAME} reference in s. Whether the
// variables are set is not checked: validation does not depend on the
// environment, which is read when the server is connected.
func (v *validator) checkEnvRefs(what string, s Str) bool {
	if _, err := ExpandEnv(s.Value, func(string) (string, bool) { return "", true }); err != nil {
		v.errorf(s.Pos, "%s: %v", what, err)
		return false
	}
	return true
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
