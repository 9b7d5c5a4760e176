package types

import (
	"fmt"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
)

// The fields a property may have, and those array items may have.
var (
	propertyFields = []string{"type", "description", "optional", "enum", "const", "items"}
	itemFields     = []string{"type", "description", "enum", "const", "items"}
)

// decoder reads the types section. Bodies are read after every name is
// declared, so that references resolve whatever their order; unions, cycles
// and sizes are checked once every body is read.
type decoder struct {
	r   *yamlx.Reader
	reg *Registry
	// variants holds the anyOf entries of each union, for positions.
	variants map[*Type][]*yaml.Node
	// consts records the properties that wrote a `const`, valid or not.
	consts map[propertyKey]bool
	// shapeless holds the types whose body could not be read as any kind
	// of type; unions do not report them again.
	shapeless map[*Type]bool
}

type propertyKey struct {
	t    *Type
	name string
}

// Decode reads the `types:` section (n may be nil) of a protocol file.
// Every problem goes to r.Diags with the node's position; it never panics
// and returns a usable Registry even after errors.
func Decode(r *yamlx.Reader, n *yaml.Node) *Registry {
	d := &decoder{
		r:         r,
		reg:       &Registry{types: map[string]*Type{}},
		variants:  map[*Type][]*yaml.Node{},
		consts:    map[propertyKey]bool{},
		shapeless: map[*Type]bool{},
	}
	entries := r.Mapping(n, "the types section")
	for _, e := range entries {
		d.declare(e)
	}
	for _, e := range entries {
		if t, ok := d.reg.types[e.Key]; ok {
			d.body(t, e.KeyNode, e.Value)
		}
	}
	d.checkUnions()
	d.checkCycles()
	d.checkSizes()
	return d.reg
}

// declare checks a type's name and registers it. A name that is not
// PascalCase is still registered, so that its uses do not add errors.
func (d *decoder) declare(e yamlx.Entry) {
	if IsBuiltin(e.Key) || e.Key == "array" || e.Key == "object" {
		d.r.Errorf(e.KeyNode, "type name %q is a built-in type name; choose another name", e.Key)
		return
	}
	if !pascalCase.MatchString(e.Key) {
		if s := toPascal(e.Key); s != "" {
			d.r.Errorf(e.KeyNode, "type name %q must be PascalCase (like %q)", e.Key, s)
		} else {
			d.r.Errorf(e.KeyNode, "type name %q must be PascalCase: a capital letter, then letters and digits", e.Key)
		}
	}
	d.reg.types[e.Key] = &Type{Name: e.Key, Pos: d.r.Pos(e.KeyNode)}
	d.reg.order = append(d.reg.order, e.Key)
}

// body reads the definition of t, written at n under its name key.
func (d *decoder) body(t *Type, key, n *yaml.Node) {
	what := fmt.Sprintf("type %q", t.Name)
	if n.Kind != yaml.MappingNode {
		d.r.Errorf(keyIfNull(key, n), "%s must be a mapping of its properties, or \"type: array\" with \"items\", or \"anyOf\"; got %s", what, yamlx.Describe(n))
		d.shapeless[t] = true
		return
	}
	entries := d.r.Mapping(n, what)
	kind, hasKind := field(entries, "type")
	keyword := hasKind && kind.Value.Kind == yaml.ScalarNode && !yamlx.IsNull(kind.Value)
	_, hasAnyOf := field(entries, "anyOf")
	switch {
	case keyword && kind.Value.Value == "array":
		d.array(t, key, entries)
	case keyword:
		d.shapeless[t] = true
		d.r.Errorf(kind.Value, "%s cannot be \"type: %s\": a custom type is an object (its properties listed under its name), an array (\"type: array\" with \"items\") or a union (\"anyOf\")", what, kind.Value.Value)
	case hasAnyOf:
		d.union(t, key, entries)
	default:
		d.object(t, key, entries)
	}
}

// array reads a top-level array type.
func (d *decoder) array(t *Type, key *yaml.Node, entries []yamlx.Entry) {
	t.Kind = Array
	what := fmt.Sprintf("array type %q", t.Name)
	d.r.CheckKeys(entries, []string{"type", "items", "description"}, what)
	for _, e := range entries {
		switch e.Key {
		case "items":
			t.Items = d.items(e.Value, "\"items\" of "+what)
		case "description":
			t.Description, _ = d.r.Text(e.Value, "the description of "+what)
		}
	}
	if t.Items == nil {
		d.r.Errorf(key, "%s needs \"items\" (like items: { type: string })", what)
	}
}

// union reads a union type; its variants are checked by checkUnions.
func (d *decoder) union(t *Type, key *yaml.Node, entries []yamlx.Entry) {
	t.Kind = Union
	what := fmt.Sprintf("union type %q", t.Name)
	d.r.CheckKeys(entries, []string{"anyOf", "discriminator", "description"}, what)
	for _, e := range entries {
		switch e.Key {
		case "anyOf":
			d.variants[t] = d.variantList(e.Value, what)
		case "discriminator":
			t.Discriminator, _ = d.r.Name(e.Value, "the discriminator of "+what)
		case "description":
			t.Description, _ = d.r.Text(e.Value, "the description of "+what)
		}
	}
	if _, ok := field(entries, "discriminator"); !ok {
		d.r.Errorf(key, "%s needs a \"discriminator\": the property whose const tells its variants apart", what)
	}
}

// variantList reads the anyOf list of a union: at least two distinct
// names.
func (d *decoder) variantList(n *yaml.Node, what string) []*yaml.Node {
	items := d.r.Sequence(n, "the anyOf of "+what)
	if n.Kind != yaml.SequenceNode && !yamlx.IsNull(n) {
		return nil
	}
	if len(items) < 2 {
		d.r.Errorf(n, "%s needs at least 2 types in anyOf, got %d", what, len(items))
	}
	var names []*yaml.Node
	seen := map[string]bool{}
	for _, it := range items {
		switch {
		case !yamlx.IsString(it):
			d.r.Errorf(it, "each entry in the anyOf of %s must be a type name, got %s; declare the variant under types: and list its name", what, yamlx.Describe(it))
		case seen[it.Value]:
			d.r.Errorf(it, "%s lists %q twice in anyOf", what, it.Value)
		default:
			seen[it.Value] = true
			names = append(names, it)
		}
	}
	return names
}

// object reads an object type: every entry is a property, except a text
// `description`, which describes the type.
func (d *decoder) object(t *Type, key *yaml.Node, entries []yamlx.Entry) {
	t.Kind = Object
	what := fmt.Sprintf("type %q", t.Name)
	for _, e := range entries {
		if e.Key == "description" && e.Value.Kind == yaml.ScalarNode {
			t.Description, _ = d.r.Text(e.Value, "the description of "+what)
			continue
		}
		t.Properties = append(t.Properties, d.property(t, e))
	}
	if len(t.Properties) == 0 {
		d.shapeless[t] = true
		d.r.Errorf(key, "%s has no properties; an object type needs at least one", what)
	}
}

// property reads one property of object type t. A property that cannot be
// read is kept, with an empty Spec, so that later checks do not report it
// as missing.
func (d *decoder) property(t *Type, e yamlx.Entry) Property {
	what := fmt.Sprintf("property %q of type %q", e.Key, t.Name)
	p := Property{Name: e.Key, Pos: d.r.Pos(e.KeyNode)}
	if !camelCase.MatchString(e.Key) {
		if s := toCamel(e.Key); s != "" {
			d.r.Warnf(e.KeyNode, "%s should be camelCase (like %q)", what, s)
		} else {
			d.r.Warnf(e.KeyNode, "%s should be camelCase: a small letter, then letters and digits", what)
		}
	}
	if e.Value.Kind != yaml.MappingNode {
		d.r.Errorf(keyIfNull(e.KeyNode, e.Value), "%s must be a mapping like %s, got %s", what, example(e.Value), yamlx.Describe(e.Value))
		return p
	}
	entries := d.r.Mapping(e.Value, what)
	d.r.CheckKeys(entries, propertyFields, what)
	p.Spec = d.spec(e.KeyNode, entries, what)
	if o, ok := field(entries, "optional"); ok {
		p.Optional, _ = d.r.Bool(o.Value, "\"optional\" of "+what)
	}
	if _, ok := field(entries, "const"); ok {
		d.consts[propertyKey{t, e.Key}] = true
	}
	return p
}

// items reads the element type of an array, written at n.
func (d *decoder) items(n *yaml.Node, what string) *Spec {
	if n.Kind != yaml.MappingNode {
		d.r.Errorf(n, "%s must be a mapping like %s, got %s", what, example(n), yamlx.Describe(n))
		return &Spec{}
	}
	entries := d.r.Mapping(n, what)
	d.r.CheckKeys(entries, itemFields, what)
	s := d.spec(n, entries, what)
	return &s
}

// spec reads the type fields of a property or of array items; at is where
// a missing type is reported.
func (d *decoder) spec(at *yaml.Node, entries []yamlx.Entry, what string) Spec {
	var s Spec
	typ, ok := field(entries, "type")
	if !ok {
		d.r.Errorf(at, "%s needs a \"type\" (like type: string)", what)
	}
	// typeOK: the type was read and resolves (or is `array`), so the
	// fields that depend on it can be checked against it.
	name, typeOK := "", false
	if ok {
		name, typeOK = d.r.Name(typ.Value, "the type of "+what)
	}
	isArray := typeOK && name == "array"
	if typeOK && !isArray {
		s.Ref, typeOK = d.reg.resolve(d.r, typ.Value, name, what)
	}
	items, hasItems := field(entries, "items")
	switch {
	case isArray && hasItems:
		s.Items = d.items(items.Value, "\"items\" of "+what)
	case isArray:
		s.Items = &Spec{}
		d.r.Errorf(typ.Value, "%s has type \"array\" and needs \"items\" (like items: { type: string })", what)
	case hasItems && typeOK:
		d.r.Errorf(items.KeyNode, "\"items\" is only allowed with type: array, but %s has type %q", what, name)
	}
	if desc, ok := field(entries, "description"); ok {
		s.Description, _ = d.r.Text(desc.Value, "the description of "+what)
	}
	d.stringFacets(&s, entries, typeOK, name, what)
	return s
}

// stringFacets reads `enum` and `const`, which only a string may have.
func (d *decoder) stringFacets(s *Spec, entries []yamlx.Entry, typeOK bool, name, what string) {
	isString := s.Ref == Expr{Name: "string"}
	enum, hasEnum := field(entries, "enum")
	switch {
	case hasEnum && isString:
		s.Enum = d.enum(enum.Value, "the enum of "+what)
	case hasEnum && typeOK:
		d.r.Errorf(enum.KeyNode, "\"enum\" is only allowed with type: string, but %s has type %q", what, name)
	}
	c, hasConst := field(entries, "const")
	switch {
	case hasConst && hasEnum:
		d.r.Errorf(c.KeyNode, "%s has both \"enum\" and \"const\"; use one of them", what)
	case hasConst && isString && yamlx.IsString(c.Value):
		value := c.Value.Value
		s.Const = &value
	case hasConst && isString:
		d.notString(c.Value, "the const of "+what, "be a string")
	case hasConst && typeOK:
		d.r.Errorf(c.KeyNode, "\"const\" is only allowed with type: string, but %s has type %q", what, name)
	}
}

// enum reads a non-empty list of distinct strings.
func (d *decoder) enum(n *yaml.Node, what string) []string {
	items := d.r.Sequence(n, what)
	if len(items) == 0 && (n.Kind == yaml.SequenceNode || yamlx.IsNull(n)) {
		d.r.Errorf(n, "%s is empty; list at least one value", what)
	}
	var values []string
	seen := map[string]bool{}
	for _, it := range items {
		switch {
		case !yamlx.IsString(it):
			d.notString(it, what, "list strings")
		case seen[it.Value]:
			d.r.Warnf(it, "%s lists %q twice", what, it.Value)
		default:
			seen[it.Value] = true
			values = append(values, it.Value)
		}
	}
	return values
}

// notString reports n, which should have been a string; a number or a
// boolean gets the quoted spelling that makes it one.
func (d *decoder) notString(n *yaml.Node, what, must string) {
	if n.Kind == yaml.ScalarNode && !yamlx.IsNull(n) {
		d.r.Errorf(n, "%s must %s, but %s is %s; quote it: %q", what, must, n.Value, yamlx.Describe(n), n.Value)
		return
	}
	d.r.Errorf(n, "%s must %s, got %s", what, must, yamlx.Describe(n))
}

// example shows the mapping a property or items should have been,
// reusing the type name written in its place when there is one.
func example(n *yaml.Node) string {
	if yamlx.IsString(n) && n.Value != "" {
		return fmt.Sprintf("{ type: %s }", n.Value)
	}
	return "{ type: string }"
}

// keyIfNull returns where to report a wrong value: at the value, unless it
// is null (often written as nothing at all); then at its key.
func keyIfNull(key, value *yaml.Node) *yaml.Node {
	if yamlx.IsNull(value) {
		return key
	}
	return value
}

// field returns the entry called key.
func field(entries []yamlx.Entry, key string) (yamlx.Entry, bool) {
	for _, e := range entries {
		if e.Key == key {
			return e, true
		}
	}
	return yamlx.Entry{}, false
}
