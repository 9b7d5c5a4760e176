package types

import (
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/diag"
)

// CheckRef validates a type expression written at node n (a scalar such as
// `string`, `Finding`, `string[]`, `Finding[]`) as used by an input, a
// variable or a tool parameter; what names the user for messages, e.g.
// `input "TOPIC"`. Unknown names get a "did you mean"; bare `array` and
// `object` get an error that says what to write instead. It returns the
// parsed expression, and ok=false when it is invalid.
func (reg *Registry) CheckRef(r *yamlx.Reader, n *yaml.Node, what string) (Expr, bool) {
	if n == nil {
		r.Errorf(n, "%s needs a type", what)
		return Expr{}, false
	}
	s, ok := r.Name(n, "the type of "+what)
	if !ok {
		return Expr{}, false
	}
	return reg.resolve(r, n, s, what)
}

// resolve parses s, written at n, and checks that it names a known type.
func (reg *Registry) resolve(r *yamlx.Reader, n *yaml.Node, s, what string) (Expr, bool) {
	e := parseExpr(s)
	switch {
	case e.Name == "":
		r.Errorf(n, "%s has an empty type name; write a built-in type or a custom type name", what)
	case e.Dims > MaxArrayDims:
		r.Errorf(n, "%s has type %q, which nests arrays more than %d deep", what, s, MaxArrayDims)
	case e.Name == "array":
		r.Errorf(n, "%s has type %q; there is no bare array type: use \"T[]\" (like \"string[]\"), a custom type, or \"unknown\"", what, s)
	case e.Name == "object":
		r.Errorf(n, "%s has type %q; there is no bare object type: define a custom type under types: and use its name, or use \"unknown\"", what, s)
	case IsBuiltin(e.Name):
		return e, true
	case reg.has(e.Name):
		return e, true
	case strings.ContainsAny(e.Name, "<>"):
		r.Errorf(n, "%s has type %q; generic types are not supported: use \"T[]\" for an array of T, or a custom type", what, s)
	default:
		r.Errorf(n, "%s has unknown type %q%s", what, e.Name, diag.DidYouMean(e.Name, reg.candidates()))
	}
	return Expr{}, false
}

// parseExpr splits "Finding[][]" into the name and the number of `[]`.
func parseExpr(s string) Expr {
	e := Expr{Name: s}
	for strings.HasSuffix(e.Name, "[]") {
		e.Name = strings.TrimSuffix(e.Name, "[]")
		e.Dims++
	}
	return e
}

// has reports whether name is a declared custom type.
func (reg *Registry) has(name string) bool {
	_, ok := reg.Lookup(name)
	return ok
}

// candidates lists every type name, built-ins first, for suggestions.
func (reg *Registry) candidates() []string {
	names := append([]string(nil), builtins...)
	if reg != nil {
		names = append(names, reg.order...)
	}
	return names
}
