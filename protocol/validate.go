package protocol

import (
	"fmt"
	"github.com/octrun/octrun/internal/display"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/octrun/octrun/llm/provider"
	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/protocol/types"
)

// validator checks a decoded protocol against rules
// §9.1 and D1-D18, adding every problem to its Diagnostics.
type validator struct {
	p       *Protocol
	prompts *promptFiles
	diags   *diag.List

	inputs    map[string]*InputDef
	variables map[string]*VariableDef
	resources map[string]*ResourceDef

	// threads maps each thread started so far to the block that started it.
	threads map[string]*Step
	// usedReferences collects reference names listed by a thread.
	usedReferences map[string]bool
	// schemas holds the compiled validators of the types checked so far.
	schemas map[types.Expr]*types.Validator
}

var (
	toolNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	mcpNamespace    = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

var displayModes = slices.Sorted(slices.Values(display.Modes))

// knownProviders are the model prefixes octrun routes (rule C2), sorted.
var knownProviders = slices.Sorted(slices.Values(provider.Names()))

func (v *validator) validate() {
	v.diags = &v.p.Diagnostics
	v.index()
	v.checkInputs()
	v.checkVariables()
	v.checkResources()
	v.checkTools()
	v.checkMCPServers()
	v.checkWorkers()
	v.checkSteps()
	v.checkOutput()
	v.checkReferencesUsed()
}

func (v *validator) errorf(pos diag.Pos, format string, args ...any) {
	v.diags.Errorf(pos, format, args...)
}

func (v *validator) warnf(pos diag.Pos, format string, args ...any) {
	v.diags.Warnf(pos, format, args...)
}

// index builds the lookup tables of values (tools, workers and MCP servers
// are the protocol's own lookups) and reports names declared twice across
// inputs, variables and resources, which share one namespace.
func (v *validator) index() {
	p := v.p
	v.inputs = map[string]*InputDef{}
	v.variables = map[string]*VariableDef{}
	v.resources = map[string]*ResourceDef{}
	v.threads = map[string]*Step{}
	v.usedReferences = map[string]bool{}
	v.schemas = map[types.Expr]*types.Validator{}
	seen := map[string]string{}
	value := func(name Str, kind string) {
		if first, dup := seen[name.Value]; dup {
			v.errorf(name.Pos, "%q is declared as %s and as %s; inputs, variables and resources share one namespace, so rename one", name.Value, first, kind)
		}
		seen[name.Value] = kind
	}
	for _, in := range p.Inputs {
		value(in.Name, "an input")
		v.inputs[in.Name.Value] = in
	}
	for _, vr := range p.Variables {
		value(vr.Name, "a variable")
		v.variables[vr.Name.Value] = vr
	}
	for _, r := range p.Resources {
		value(r.Name, "a resource")
		v.resources[r.Name.Value] = r
	}
}

// checkValueName enforces UPPER_SNAKE_CASE (rule D17).
func (v *validator) checkValueName(name Str, kind string) {
	if !upperSnake.MatchString(name.Value) {
		v.errorf(name.Pos, "%s name %q must be UPPER_SNAKE_CASE (like %q)", kind, name.Value, toUpperSnake(name.Value))
	}
}

// toUpperSnake suggests an UPPER_SNAKE_CASE spelling of a name.
func toUpperSnake(s string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range s {
		switch {
		case unicode.IsUpper(r) && prevLower:
			b.WriteByte('_')
			b.WriteRune(r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(r))
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
				b.WriteByte('_')
			}
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	return strings.Trim(b.String(), "_")
}

// checkDeclaration checks the name (rule D17) and the default of an input,
// variable or resource.
func (v *validator) checkDeclaration(kind string, d *ValueDecl) {
	v.checkValueName(d.Name, kind)
	if !d.HasDefault || !d.Type.OK {
		return
	}
	for _, problem := range v.problems(d.Type.Expr, d.Default) {
		v.errorf(d.Name.Pos, "the default of %s %q does not fit its type %s: %s", kind, d.Name.Value, d.Type.Value, problem)
	}
}

// problems validates value against the schema of e, as messages. Compiled
// schemas are kept per expression: compiling costs far more than checking.
func (v *validator) problems(e types.Expr, value any) []string {
	val, ok := v.schemas[e]
	if !ok {
		var err error
		if val, err = types.NewValidator(v.p.Types.Schema(e)); err != nil {
			return []string{err.Error()}
		}
		v.schemas[e] = val
	}
	var out []string
	for _, pr := range val.Validate(value) {
		if pr.Path == "" || pr.Path == "/" {
			out = append(out, pr.Message)
		} else {
			out = append(out, pr.Path+": "+pr.Message)
		}
	}
	return out
}

func (v *validator) checkInputs() {
	for _, in := range v.p.Inputs {
		v.checkDeclaration("input", &in.ValueDecl)
		if len(in.Enum) > 0 && in.Type.OK && in.Type.Value != "string" {
			v.errorf(in.Type.Pos, "input %q has an enum, which only a string input may have; make its type string", in.Name.Value)
		}
		if s, ok := in.Default.(string); ok && len(in.Enum) > 0 && !slices.Contains(in.Enum, s) {
			v.errorf(in.Name.Pos, "the default %q of input %q is not one of its enum values %s", s, in.Name.Value, quoted(in.Enum))
		}
	}
}

func (v *validator) checkVariables() {
	for _, vr := range v.p.Variables {
		v.checkDeclaration("variable", &vr.ValueDecl)
	}
}

func (v *validator) checkResources() {
	for _, r := range v.p.Resources {
		v.checkDeclaration("resource", &r.ValueDecl)
		v.warnf(r.Name.Pos, "resources are deprecated (rule D13): octrun accepts resource %q and emits resource-update events, but prefer a variable and the worker's output", r.Name.Value)
	}
}

// checkDisplay checks a display mode, and that title mode has a title.
func (v *validator) checkDisplay(what string, display, title Str) {
	if !display.IsSet() {
		return
	}
	if !slices.Contains(displayModes, display.Value) {
		v.errorf(display.Pos, "%s display %q is not a display mode: use %s%s", what, display.Value, listOf(displayModes), didYouMean(display.Value, displayModes))
		return
	}
	if display.Value == "title" && !title.IsSet() {
		v.warnf(display.Pos, "%s uses display: title but has no title; add title: <label>", what)
	}
}

// checkReserved rejects names with the octavus_ prefix.
func (v *validator) checkReserved(name Str, kind string) bool {
	if strings.HasPrefix(name.Value, "octavus_") {
		v.errorf(name.Pos, "%s name %q starts with octavus_, which is reserved for built-in tools; rename it", kind, name.Value)
		return false
	}
	return true
}

func (v *validator) checkTools() {
	for _, t := range v.p.Tools {
		if v.checkReserved(t.Name, "tool") && !toolNamePattern.MatchString(t.Name.Value) {
			v.errorf(t.Name.Pos, "tool name %q must be lowercase-with-dashes (like %q)", t.Name.Value, toSlug(t.Name.Value))
		}
		v.checkDisplay(fmt.Sprintf("tool %q", t.Name.Value), t.Display, t.Title)
	}
}

var mcpSources = []string{"consumer", "device", "remote"}

func (v *validator) checkMCPServers() {
	for _, s := range v.p.MCPServers {
		what := fmt.Sprintf("MCP server %q", s.Name.Value)
		if !mcpNamespace.MatchString(s.Name.Value) {
			v.errorf(s.Name.Pos, "MCP namespace %q must be lowercase letters, digits and dashes, starting with a letter (like %q)", s.Name.Value, toSlug(s.Name.Value))
		}
		v.checkDisplay(what, s.Display, s.Title)
		switch src := s.Source.Value; {
		case !s.Source.IsSet():
		case !slices.Contains(mcpSources, src):
			v.errorf(s.Source.Pos, "%s source %q is not known: use %s%s", what, src, listOf(mcpSources), didYouMean(src, mcpSources))
		case src == "remote":
			v.errorf(s.Source.Pos, "%s: remote MCP servers are connected by the Octavus platform, which octrun does not provide; declare a server you run with source: consumer", what)
		case src == "device":
			v.errorf(s.Source.Pos, "%s: device MCP servers run on the consumer's machine through Octavus's @octavus/computer, which octrun does not provide; declare a server you run with source: consumer", what)
		}
		consumer := s.Source.Value == "consumer"
		switch mode := s.ConnectionMode; {
		case mode.IsSet() && consumer:
			v.errorf(mode.Pos, "%s: connection: %s is a setting of remote servers; remove it, and say how to reach a server you run in the consumer's mcp.json (octrun --mcp-config FILE): {\"mcpServers\": {\"%s\": {\"command\": ...}}} for a stdio server or {\"url\": ...} for a streamable HTTP server", what, mode.Value, s.Name.Value)
		case mode.IsSet() && s.Source.Value != "remote":
			v.errorf(mode.Pos, "%s: connection (eager or lazy) applies to remote servers only; remove it", what)
		}
		if s.Connection != nil {
			if v.checkMCPConnection(what, s.Connection) && consumer {
				v.warnf(s.Connection.Pos, "%s: a connection mapping in protocol.yaml is deprecated and will be refused in a later release (the documented declaration has none); move it to the consumer's mcp.json, given with --mcp-config FILE (Go: runtime.WithMCPConfig), which wins over it: %s", what, s.Connection.MCPJSON(s.Name.Value))
			}
		}
		if s.Execution.IsSet() && (s.Source.Value == "device" || s.Source.Value == "consumer") {
			v.errorf(s.Execution.Pos, "%s: execution applies to remote servers only, not to %s servers; remove it", what, s.Source.Value)
		}
	}
}

func (v *validator) checkWorkers() {
	for _, w := range v.p.Workers {
		what := fmt.Sprintf("worker %q", w.Slug.Value)
		if v.checkReserved(w.Slug, "worker") && !slugPattern.MatchString(w.Slug.Value) {
			v.errorf(w.Slug.Pos, "worker slug %q must be lowercase-with-dashes (like %q)", w.Slug.Value, toSlug(w.Slug.Value))
		}
		v.checkDisplay(what, w.Display, w.Title)
		for _, m := range w.Tools {
			if v.p.Tool(m.Source.Value) == nil {
				v.errorf(m.Source.Pos, "%s maps its tool %q to %q, which is not a tool of this protocol%s", what, m.Label.Value, m.Source.Value, didYouMean(m.Source.Value, v.p.lookup().toolNames))
			}
			if w.Protocol != nil && w.Protocol.Tool(m.Label.Value) == nil {
				v.errorf(m.Label.Pos, "%s has no tool %q to map%s", what, m.Label.Value, didYouMean(m.Label.Value, w.Protocol.lookup().toolNames))
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// checkOutput checks the worker's output variable.
func (v *validator) checkOutput() {
	if v.p.Output.IsSet() {
		v.checkWritable("the worker's output", v.p.Output)
	}
}

// checkWritable checks that name is a declared variable a block may write.
func (v *validator) checkWritable(what string, name Str) {
	if _, ok := v.variables[name.Value]; ok {
		return
	}
	switch {
	case v.inputs[name.Value] != nil:
		v.errorf(name.Pos, "%s is %s, which is an input; inputs are read-only, so declare a variable under variables: and use it", what, name.Value)
	case v.resources[name.Value] != nil:
		v.errorf(name.Pos, "%s is %s, which is a resource; write resources with a set-resource block, or use a variable", what, name.Value)
	default:
		v.errorf(name.Pos, "%s is %s, which is not a declared variable%s; declare it under variables:", what, name.Value, didYouMean(name.Value, sortedKeys(v.variables)))
	}
}

// checkReadable checks that name is a declared input, variable or resource.
func (v *validator) checkReadable(what string, name Str) bool {
	if v.isDeclared(name.Value) {
		return true
	}
	v.errorf(name.Pos, "%s is %s, which is not a declared input or variable%s", what, name.Value, didYouMean(name.Value, v.declaredNames()))
	return false
}

func (v *validator) isDeclared(name string) bool {
	return v.inputs[name] != nil || v.variables[name] != nil || v.resources[name] != nil
}

func (v *validator) declaredNames() []string {
	names := append(append(sortedKeys(v.inputs), sortedKeys(v.variables)...), sortedKeys(v.resources)...)
	slices.Sort(names)
	return names
}

func (v *validator) checkReferencesUsed() {
	for _, name := range sortedKeys(v.p.References) {
		if !v.usedReferences[name] {
			v.warnf(diag.Pos{File: v.p.References[name].File}, "reference %q is not listed by any start-thread block, so no model can read it; add it to a thread's references or delete the file", name)
		}
	}
}
