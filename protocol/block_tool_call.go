package protocol

import (
	"fmt"
	"github.com/octrun/octrun/internal/display"
	"maps"
	"slices"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/diag"
)

// KindToolCall is the kind of a tool-call block.
const KindToolCall = "tool-call"

// ToolCall calls a tool deterministically.
type ToolCall struct {
	BlockBase
	Tool Str
	// Input maps parameter names to arguments: a reference to an input or
	// variable, or a literal (rule D1).
	Input  []ToolArg
	Output Str
}

// ToolArg is one argument of a tool-call block.
type ToolArg struct {
	Name Str
	// Ref names the input or variable whose value is passed; empty for a
	// literal.
	Ref     string
	Literal any
	Pos     diag.Pos
}

// Kind returns "tool-call".
func (*ToolCall) Kind() string { return KindToolCall }

// toolCallKind is the tool-call entry of the kinds registry.
var toolCallKind = kindDef{
	display: display.Description,
	thread:  threadOptional,
	decode:  (*decoder).toolCall,
	check: func(v *validator, s *Step, what string) {
		v.checkToolCall(s, s.Block.(*ToolCall), what)
	},
}

// toolCall returns an empty tool-call block and the readers of its
// fields.
func (d *decoder) toolCall(what string) (Block, fields) {
	b := &ToolCall{}
	return b, fields{
		"tool":   d.str(&b.Tool, what+" tool"),
		"input":  d.toolArgs(&b.Input, what+" input"),
		"output": d.str(&b.Output, what+" output"),
	}
}

// toolArgs reads the input of a tool-call block: each value is a reference
// when it is a string naming a declared input, variable or resource, and a
// literal otherwise (rule D1).
func (d *decoder) toolArgs(dst *[]ToolArg, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		for _, e := range d.Mapping(n, what) {
			arg := ToolArg{Name: Str{e.Key, d.Pos(e.KeyNode)}, Pos: d.Pos(e.Value)}
			if yamlx.IsString(e.Value) && d.declared[e.Value.Value] {
				arg.Ref = e.Value.Value
			} else if v, ok := d.Value(e.Value); ok {
				arg.Literal = v
				if s, isStr := v.(string); isStr && upperSnake.MatchString(s) && len(s) > 1 {
					d.Warnf(e.Value, "%s %q: %q looks like a variable name but names no input, variable or resource, so it is passed as the literal text %q; declare it or fix the name%s",
						what, e.Key, s, s, didYouMean(s, slices.Sorted(maps.Keys(d.declared))))
				}
			}
			*dst = append(*dst, arg)
		}
	}
}

func (v *validator) checkToolCall(s *Step, b *ToolCall, what string) {
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
	if !b.Tool.IsSet() {
		v.needs(s, "tool", "%s needs a tool: the name of a tool under tools:", what)
		return
	}
	tool := v.p.Tool(b.Tool.Value)
	if tool == nil {
		v.errorf(b.Tool.Pos, "%s tool %q is not defined in the tools section%s", what, b.Tool.Value, didYouMean(b.Tool.Value, v.p.lookup().toolNames))
		return
	}
	params := map[string]*ParamDef{}
	var takes, required []string
	for _, p := range tool.Parameters {
		params[p.Name.Value] = p
		takes = append(takes, p.Name.Value)
		if !p.Optional {
			required = append(required, p.Name.Value)
		}
	}
	passed := make([]Str, len(b.Input))
	for i, a := range b.Input {
		passed[i] = a.Name
		if p := params[a.Name.Value]; p != nil && a.Ref == "" && p.Type.OK {
			for _, problem := range v.problems(p.Type.Expr, a.Literal) {
				v.errorf(a.Pos, "%s passes %s to parameter %q of type %s: %s", what, formatLiteral(a.Literal), a.Name.Value, p.Type.Value, problem)
			}
		}
	}
	v.checkArgs(s, what, "parameter", fmt.Sprintf("tool %q", b.Tool.Value), passed, takes, required)
}
