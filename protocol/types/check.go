package types

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/protocol/diag"
)

// checkUnions resolves the variants of every union and checks its
// discriminator: each variant is an object type with a required
// discriminator property holding a const of its own.
func (d *decoder) checkUnions() {
	for _, name := range d.reg.order {
		if t := d.reg.types[name]; t.Kind == Union {
			d.checkUnion(t)
		}
	}
}

func (d *decoder) checkUnion(t *Type) {
	what := fmt.Sprintf("union type %q", t.Name)
	owners := map[string]string{} // discriminator value -> variant
	for _, n := range d.variants[t] {
		v, ok := d.variant(n, what)
		if !ok {
			continue
		}
		t.Variants = append(t.Variants, v.Name)
		if v.Kind != Object || d.shapeless[v] || t.Discriminator == "" {
			continue
		}
		c, ok := d.discriminator(v, t.Discriminator, n, what)
		if !ok {
			continue
		}
		if first, dup := owners[c]; dup {
			d.r.Errorf(n, "variants %q and %q of %s both have %s %q; each variant needs its own const", first, v.Name, what, t.Discriminator, c)
			continue
		}
		owners[c] = v.Name
	}
}

// variant resolves the anyOf entry n of a union. A custom type that is not
// an object is reported but returned, so that cycles through it are found.
func (d *decoder) variant(n *yaml.Node, what string) (*Type, bool) {
	name := n.Value
	v, ok := d.reg.types[name]
	switch {
	case ok && v.Kind != Object:
		d.r.Errorf(n, "%s lists %q in anyOf, but %q is %s type; a variant must be an object type", what, name, name, article(v.Kind))
	case ok:
	case IsBuiltin(name) || name == "array" || name == "object" || strings.HasSuffix(name, "[]"):
		d.r.Errorf(n, "%s lists %q in anyOf, but a variant must be a custom object type", what, name)
	default:
		d.r.Errorf(n, "%s lists unknown type %q in anyOf%s", what, name, diag.DidYouMean(name, d.reg.order))
	}
	return v, ok
}

// discriminator returns the const of the discriminator property of
// variant v, listed at n.
func (d *decoder) discriminator(v *Type, disc string, n *yaml.Node, what string) (string, bool) {
	p, ok := v.Property(disc)
	if !ok {
		d.r.Errorf(n, "variant %q of %s has no property %q, its discriminator", v.Name, what, disc)
		return "", false
	}
	if p.Optional {
		d.r.Diags.Errorf(p.Pos, "property %q of type %q is a discriminator and must not be optional", disc, v.Name)
	}
	if p.Const == nil {
		if !d.consts[propertyKey{v, disc}] {
			d.r.Diags.Errorf(p.Pos, "property %q of type %q is the discriminator of %s and needs a \"const\" (like %s: { type: string, const: %s })", disc, v.Name, what, disc, constExample(v.Name))
		}
		return "", false
	}
	return *p.Const, true
}

func article(k Kind) string {
	if k == Array {
		return "an array"
	}
	return "a " + k.String()
}

// constExample suggests a discriminator value for a variant.
func constExample(name string) string {
	if s := toCamel(name); s != "" {
		return s
	}
	return "value"
}

// checkCycles reports every type that refers to itself, directly or
// through other types, once per cycle. The types on a reported cycle are
// made opaque, which leaves at least one opaque type on every cycle, so
// that schemas stay finite.
func (d *decoder) checkCycles() {
	const (
		unvisited = iota
		active
		done
	)
	state := map[*Type]int{}
	var stack []*Type
	var visit func(t *Type)
	visit = func(t *Type) {
		state[t] = active
		stack = append(stack, t)
		for _, name := range d.reg.refs(t) {
			u := d.reg.types[name]
			switch state[u] {
			case active:
				d.reportCycle(stack[slices.Index(stack, u):])
			case unvisited:
				visit(u)
			}
		}
		stack = stack[:len(stack)-1]
		state[t] = done
	}
	for _, name := range d.reg.order {
		if t := d.reg.types[name]; state[t] == unvisited {
			visit(t)
		}
	}
}

// reportCycle reports the cycle that leads from cycle[0] back to itself.
func (d *decoder) reportCycle(cycle []*Type) {
	path := make([]string, 0, len(cycle)+1)
	for _, t := range cycle {
		t.opaque = true
		path = append(path, t.Name)
	}
	path = append(path, cycle[0].Name)
	d.r.Diags.Errorf(cycle[0].Pos, "type %q refers to itself through %s; recursive types are not supported",
		cycle[0].Name, strings.Join(path, " -> "))
}

// checkSizes reports every type whose schema, with the types it uses
// written out, exceeds MaxSchemaNodes, and makes it opaque. The smallest
// such type is the one reported: the types that use it then fit.
func (d *decoder) checkSizes() {
	sizes := map[*Type]int{}
	var measure func(t *Type) int
	var specSize func(s *Spec) int
	exprSize := func(e Expr) int {
		if t, ok := d.reg.types[e.Name]; ok {
			return e.Dims + measure(t)
		}
		if e.Name == "file" {
			return e.Dims + fileNodes
		}
		return e.Dims + 1
	}
	specSize = func(s *Spec) int {
		switch {
		case s == nil:
			return 1
		case s.Items != nil:
			return 1 + specSize(s.Items)
		}
		return exprSize(s.Ref)
	}
	measure = func(t *Type) int {
		if t.opaque {
			return 1
		}
		if n, ok := sizes[t]; ok {
			return n
		}
		n := 1
		switch t.Kind {
		case Array:
			n += specSize(t.Items)
		case Union:
			for _, v := range t.Variants {
				n += exprSize(Expr{Name: v})
			}
		default:
			for i := range t.Properties {
				n += specSize(&t.Properties[i].Spec)
			}
		}
		if n > MaxSchemaNodes {
			d.r.Diags.Errorf(t.Pos, "type %q expands to more than %d schema nodes once the types it uses are written out; simplify it, or use \"unknown\" for deep parts", t.Name, MaxSchemaNodes)
			t.opaque = true
			return 1
		}
		sizes[t] = n
		return n
	}
	for _, name := range d.reg.order {
		measure(d.reg.types[name])
	}
}

// refs returns the custom types that t refers to, each once, in order.
func (reg *Registry) refs(t *Type) []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if reg.has(name) && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	var spec func(s *Spec)
	spec = func(s *Spec) {
		if s != nil {
			add(s.Ref.Name)
			spec(s.Items)
		}
	}
	for i := range t.Properties {
		spec(&t.Properties[i].Spec)
	}
	spec(t.Items)
	for _, v := range t.Variants {
		add(v)
	}
	return out
}
