package protocol

import (
	"fmt"
	"maps"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/types"
)

// decoder turns the nodes of protocol.yaml into the Protocol's Go types,
// reporting every shape problem and going on.
type decoder struct {
	yamlx.Reader
	p *Protocol
	// declared names of inputs, variables and resources, for tool-call
	// arguments (rule D1) that must be told apart from literals.
	declared map[string]bool
}

// fields maps the keys a mapping may hold to the functions that read them.
type fields map[string]func(n *yaml.Node)

// decodeFields calls the reader of each entry's key and reports unknown keys
// with the closest known one.
func (d *decoder) decodeFields(entries []yamlx.Entry, what string, fs fields) {
	for _, e := range entries {
		if read, ok := fs[e.Key]; ok {
			read(e.Value)
			continue
		}
		d.UnknownKey(e, slices.Sorted(maps.Keys(fs)), what)
	}
}

var upperSnake = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// topLevelOrder is the order in which top-level sections are read: types
// first (inputs refer to them), declarations before the steps that use them.
var topLevelOrder = []string{"types", "input", "variables", "resources", "tools", "mcpServers",
	"onDemandMcpServers", "skills", "onDemandSkills", "workers", "steps", "output"}

var interactiveOnly = map[string]string{
	"triggers": "triggers are for interactive agents; a worker starts with its input",
	"handlers": "handlers are for interactive agents; a worker lists its blocks under steps",
	"agent":    "the agent section is for interactive agents; a worker configures each thread with a start-thread block",
}

func (d *decoder) protocol(root *yaml.Node) {
	p := d.p
	if root == nil {
		d.Diags.Errorf(d.Pos(nil), "protocol.yaml is empty: a worker needs at least a steps section")
		p.Types = types.Decode(&d.Reader, nil)
		return
	}
	entries := d.Mapping(root, "protocol.yaml")
	byKey := make(map[string]*yaml.Node, len(entries))
	for _, e := range entries {
		byKey[e.Key] = e.Value
		if why, ok := interactiveOnly[e.Key]; ok {
			d.Errorf(e.KeyNode, "%q is not allowed in a worker protocol: %s", e.Key, why)
		} else if why, ok := hostedOnly[e.Key]; ok {
			// rule D16: at the key, the feature the user wrote.
			d.Errorf(e.KeyNode, "%s are not supported by octrun: %s; remove them or run this agent on Octavus", e.Key, why)
		} else if !slices.Contains(topLevelOrder, e.Key) {
			d.Errorf(e.KeyNode, "unknown top-level key %q%s", e.Key, didYouMeanKey(e.Key, topLevelOrder))
		}
	}
	p.Types = types.Decode(&d.Reader, byKey["types"])
	readers := fields{
		"input":      d.inputs,
		"variables":  d.variables,
		"resources":  d.resources,
		"tools":      d.tools,
		"mcpServers": d.mcpServers,
		"workers":    d.workers,
		"steps":      d.steps,
		"output":     d.str(&p.Output, "output"),
	}
	for _, key := range topLevelOrder[1:] {
		if n, ok := byKey[key]; ok && readers[key] != nil {
			readers[key](n)
		}
	}
	if _, ok := byKey["steps"]; !ok {
		d.Errorf(root, "a worker protocol needs a steps section listing its blocks in order")
	}
}

// hostedOnly are the top-level sections that need the hosted Octavus
// platform (rule D16), with why.
var hostedOnly = map[string]string{
	"onDemandMcpServers": "on-demand MCP servers are connected by the Octavus platform",
	"skills":             "skills run in the Octavus platform's sandbox",
	"onDemandSkills":     "skills run in the Octavus platform's sandbox",
}

func didYouMeanKey(key string, known []string) string {
	known = slices.Sorted(slices.Values(known))
	return didYouMean(key, known)
}

// str returns a reader for a string field (a name, a path, a model).
func (d *decoder) str(dst *Str, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Name(n, what); ok {
			*dst = Str{Value: v, Pos: d.Pos(n)}
		}
	}
}

// text returns a reader for free text (description, title).
func (d *decoder) text(dst *Str, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Text(n, what); ok {
			*dst = Str{Value: v, Pos: d.Pos(n)}
		}
	}
}

// plainText returns a reader for free text kept without its position.
func (d *decoder) plainText(dst *string, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Text(n, what); ok {
			*dst = v
		}
	}
}

func (d *decoder) boolean(dst *Bool, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Bool(n, what); ok {
			*dst = Bool{Value: v, Pos: d.Pos(n)}
		}
	}
}

func (d *decoder) plainBool(dst *bool, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Bool(n, what); ok {
			*dst = v
		}
	}
}

func (d *decoder) integer(dst *Int, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Int(n, what); ok {
			*dst = Int{Value: v, Pos: d.Pos(n)}
		}
	}
}

func (d *decoder) number(dst *Float, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Float(n, what); ok {
			*dst = Float{Value: v, Pos: d.Pos(n)}
		}
	}
}

// names returns a reader for a list of names.
func (d *decoder) names(dst *[]Str, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		for _, item := range d.Sequence(n, what) {
			if v, ok := d.Name(item, "each item of "+what); ok {
				*dst = append(*dst, Str{Value: v, Pos: d.Pos(item)})
			}
		}
	}
}

// value returns a reader for any JSON-like value (defaults).
func (d *decoder) value(dst *any, has *bool) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Value(n); ok {
			*dst, *has = v, true
		}
	}
}

// typeRef returns a reader for a type expression.
func (d *decoder) typeRef(dst *TypeRef, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if v, ok := d.Name(n, what+" type"); ok {
			dst.Str = Str{Value: v, Pos: d.Pos(n)}
			dst.Expr, dst.OK = d.p.Types.CheckRef(&d.Reader, n, what)
		}
	}
}

// setting returns a reader for a value that may name an input or variable.
func (d *decoder) setting(dst *Setting, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		if n.Kind != yaml.ScalarNode || yamlx.IsNull(n) {
			d.Errorf(n, "%s must be a value or the name of an input or variable, got %s", what, yamlx.Describe(n))
			return
		}
		*dst = Setting{Pos: d.Pos(n)}
		if yamlx.IsString(n) && upperSnake.MatchString(n.Value) {
			dst.Var = n.Value
			return
		}
		dst.Literal, _ = d.Value(n)
	}
}

// inputMapping returns a reader for an input mapping in any of its three
// spellings (rule §3.10): [A, B], [A, {LABEL: SOURCE}], {LABEL: SOURCE}.
func (d *decoder) inputMapping(dst *[]Mapping, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		seen := map[string]bool{}
		add := func(label, source *yaml.Node) {
			l, ok1 := d.Name(label, "a label in "+what)
			s, ok2 := d.Name(source, "the source of "+label.Value+" in "+what)
			if !ok1 || !ok2 {
				return
			}
			if seen[l] {
				d.Errorf(label, "%q is mapped twice in %s; each label may appear once", l, what)
				return
			}
			seen[l] = true
			*dst = append(*dst, Mapping{Label: Str{l, d.Pos(label)}, Source: Str{s, d.Pos(source)}})
		}
		switch n.Kind {
		case yaml.MappingNode:
			for _, e := range d.Mapping(n, what) {
				add(e.KeyNode, e.Value)
			}
		case yaml.SequenceNode:
			for _, item := range n.Content {
				switch {
				case item.Kind == yaml.ScalarNode:
					add(item, item)
				case item.Kind == yaml.MappingNode && len(item.Content) == 2:
					add(item.Content[0], item.Content[1])
				default:
					d.Errorf(item, "each item of %s must be a NAME or a single LABEL: SOURCE pair, got %s", what, yamlx.Describe(item))
				}
			}
		default:
			if !yamlx.IsNull(n) {
				d.Errorf(n, "%s must be a list of names or a mapping of LABEL: SOURCE, got %s", what, yamlx.Describe(n))
			}
		}
	}
}

func (d *decoder) inputs(n *yaml.Node) {
	for _, e := range d.Mapping(n, "the input section") {
		in := &InputDef{}
		what := fmt.Sprintf("input %q", e.Key)
		d.declaration(e, what, &in.ValueDecl, fields{
			"optional": d.plainBool(&in.Optional, what+" optional"),
			"enum":     d.enum(&in.Enum, what),
		})
		d.p.Inputs = append(d.p.Inputs, in)
	}
}

func (d *decoder) variables(n *yaml.Node) {
	for _, e := range d.Mapping(n, "the variables section") {
		v := &VariableDef{}
		d.declaration(e, fmt.Sprintf("variable %q", e.Key), &v.ValueDecl, nil)
		d.p.Variables = append(d.p.Variables, v)
	}
}

func (d *decoder) resources(n *yaml.Node) {
	for _, e := range d.Mapping(n, "the resources section") {
		r := &ResourceDef{}
		what := fmt.Sprintf("resource %q", e.Key)
		d.declaration(e, what, &r.ValueDecl, fields{
			"readonly": d.plainBool(&r.Readonly, what+" readonly"),
		})
		d.p.Resources = append(d.p.Resources, r)
	}
}

// declaration reads one input, variable or resource: a type alone
// (TOPIC: string) or a mapping of its fields, more holding the fields of
// its own kind.
func (d *decoder) declaration(e yamlx.Entry, what string, v *ValueDecl, more fields) {
	v.Name = Str{e.Key, d.Pos(e.KeyNode)}
	d.declared[e.Key] = true
	if e.Value.Kind == yaml.ScalarNode && !yamlx.IsNull(e.Value) {
		d.typeRef(&v.Type, what)(e.Value)
		return
	}
	fs := fields{
		"type":        d.typeRef(&v.Type, what),
		"description": d.plainText(&v.Description, what+" description"),
		"default":     d.value(&v.Default, &v.HasDefault),
	}
	maps.Copy(fs, more)
	entries := d.Mapping(e.Value, what)
	d.decodeFields(entries, what, fs)
	d.requireKey(e, entries, "type", what+" needs a type (string, number, integer, boolean, unknown, file, T[] or a custom type)")
}

func (d *decoder) enum(dst *[]string, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		items := d.Sequence(n, what+" enum")
		if n.Kind == yaml.SequenceNode && len(items) == 0 {
			d.Errorf(n, "%s enum is empty: list the allowed values", what)
		}
		for _, item := range items {
			if !yamlx.IsString(item) {
				d.Errorf(item, "%s enum values must be strings, got %s; quote it", what, yamlx.Describe(item))
				continue
			}
			*dst = append(*dst, item.Value)
		}
	}
}

// requireKey reports a missing required key at the entry's key. A null
// value (`NAME:` with nothing after it, or `NAME: null`) is an empty
// mapping: it lacks the key too.
func (d *decoder) requireKey(e yamlx.Entry, entries []yamlx.Entry, key, msg string) {
	if e.Value.Kind != yaml.MappingNode && !yamlx.IsNull(e.Value) {
		return
	}
	for _, x := range entries {
		if x.Key == key {
			return
		}
	}
	d.Errorf(e.KeyNode, "%s", msg)
}

func (d *decoder) tools(n *yaml.Node) {
	for _, e := range d.Mapping(n, "the tools section") {
		t := &ToolDef{Name: Str{e.Key, d.Pos(e.KeyNode)}}
		what := fmt.Sprintf("tool %q", e.Key)
		entries := d.Mapping(e.Value, what)
		d.decodeFields(entries, what, fields{
			"description": d.text(&t.Description, what+" description"),
			"display":     d.str(&t.Display, what+" display"),
			"title":       d.text(&t.Title, what+" title"),
			"parameters":  d.params(t, what),
		})
		d.requireKey(e, entries, "description", what+" needs a description: the model reads it to decide when to call the tool")
		d.p.Tools = append(d.p.Tools, t)
	}
}

func (d *decoder) params(t *ToolDef, tool string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		for _, e := range d.Mapping(n, tool+" parameters") {
			p := &ParamDef{Name: Str{e.Key, d.Pos(e.KeyNode)}}
			what := fmt.Sprintf("parameter %q of %s", e.Key, tool)
			entries := d.Mapping(e.Value, what)
			d.decodeFields(entries, what, fields{
				"type":        d.typeRef(&p.Type, what),
				"description": d.plainText(&p.Description, what+" description"),
				"optional":    d.plainBool(&p.Optional, what+" optional"),
			})
			d.requireKey(e, entries, "type", what+" needs a type")
			t.Parameters = append(t.Parameters, p)
		}
	}
}

func (d *decoder) mcpServers(n *yaml.Node) {
	for _, e := range d.Mapping(n, "the mcpServers section") {
		s := &MCPServerDef{Name: Str{e.Key, d.Pos(e.KeyNode)}}
		what := fmt.Sprintf("MCP server %q", e.Key)
		entries := d.Mapping(e.Value, what)
		d.decodeFields(entries, what, fields{
			"description": d.text(&s.Description, what+" description"),
			"source":      d.str(&s.Source, what+" source"),
			"display":     d.str(&s.Display, what+" display"),
			"title":       d.text(&s.Title, what+" title"),
			"connection":  d.mcpConnection(s, what),
			"execution":   d.str(&s.Execution, what+" execution"),
		})
		d.requireKey(e, entries, "description", what+" needs a description")
		d.requireKey(e, entries, "source", what+" needs a source (remote, device or consumer)")
		d.p.MCPServers = append(d.p.MCPServers, s)
	}
}

func (d *decoder) workers(n *yaml.Node) {
	for _, e := range d.Mapping(n, "the workers section") {
		w := &WorkerDecl{Slug: Str{e.Key, d.Pos(e.KeyNode)}}
		what := fmt.Sprintf("worker %q", e.Key)
		d.decodeFields(d.Mapping(e.Value, what), what, fields{
			"description": d.text(&w.Description, what+" description"),
			"display":     d.str(&w.Display, what+" display"),
			"title":       d.text(&w.Title, what+" title"),
			"path":        d.str(&w.Path, what+" path"),
			"tools":       d.inputMapping(&w.Tools, what+" tools"),
		})
		d.p.Workers = append(d.p.Workers, w)
	}
}

func (d *decoder) steps(n *yaml.Node) {
	for _, e := range d.Mapping(n, "steps") {
		if s := d.step(e); s != nil {
			d.p.Steps = append(d.p.Steps, s)
		}
	}
}
