// Package types owns the type system of a worker protocol: the built-in
// types (string, number, integer, boolean, unknown, file), the `T[]` array
// shorthand, and the custom types declared under `types:` — object types,
// top-level array types and discriminated unions (anyOf), with their
// enum, const and optional properties.
//
// Decode reads and checks the `types:` section; CheckRef checks a type
// expression written elsewhere (an input, a variable, a tool parameter).
// Schema and ObjectSchema compile type expressions to JSON Schema, and a
// Validator checks JSON values against such a schema.
//
// Decisions beyond the protocol reference:
//   - Nested shorthand (`string[][]`) is allowed, up to MaxArrayDims levels:
//     `T[]` is an array of T whatever T is.
//   - Array items (`items:`) take the same fields as a property except
//     `optional`: type, description, enum, const and nested items.
//   - An object type may carry `description: <text>` among its properties:
//     a property's value is always a mapping, so a text value is the type's
//     own description (the same reasoning that tells `type: array` apart).
//   - A discriminator property must be required (not optional).
//   - Referenced types are written out in full (no $ref); a type whose
//     schema would exceed MaxSchemaNodes is an error.
//   - The `file` schema tolerates extra properties (a FileReference may
//     carry width and height), unlike custom object types.
package types

import (
	"slices"

	"github.com/octrun/octrun/protocol/diag"
)

// Limits on what a type may cost.
const (
	// MaxArrayDims is the deepest array nesting a type expression may
	// write with the `[]` shorthand (`string[][]` is 2).
	MaxArrayDims = 8
	// MaxSchemaNodes is the most schema objects one custom type may expand
	// to once every type it refers to is written out in place. Real types
	// stay far below; the bound keeps schemas, and the time to compile
	// them for validation, small.
	MaxSchemaNodes = 5_000
)

// builtins are the built-in type names, in the order used for suggestions.
var builtins = []string{"string", "number", "integer", "boolean", "unknown", "file"}

// IsBuiltin reports whether name is a built-in type.
func IsBuiltin(name string) bool { return slices.Contains(builtins, name) }

// Expr is a resolved type expression: a built-in or custom type name
// followed by Dims pairs of `[]`. The zero Expr stands for a type that did
// not resolve; its schema accepts anything.
type Expr struct {
	Name string
	Dims int
}

// String writes the expression as in a protocol file: "Finding[]".
func (e Expr) String() string {
	s := e.Name
	for range e.Dims {
		s += "[]"
	}
	return s
}

// Kind says which of the three shapes a custom type has.
type Kind int

const (
	// Object is a type whose body lists properties.
	Object Kind = iota
	// Array is a top-level array type (`type: array` with `items`).
	Array
	// Union is a discriminated union (`anyOf` with a `discriminator`).
	Union
)

// String returns "object", "array" or "union".
func (k Kind) String() string {
	switch k {
	case Array:
		return "array"
	case Union:
		return "union"
	}
	return "object"
}

// Type is one custom type declared under `types:`.
type Type struct {
	Name        string
	Kind        Kind
	Description string
	// Pos is where the type's name is written.
	Pos diag.Pos
	// Properties of an Object type, in document order.
	Properties []Property
	// Items is the element type of an Array type.
	Items *Spec
	// Variants of a Union type, in order; only names that resolved to
	// custom types are kept.
	Variants      []string
	Discriminator string

	// opaque is set for types that are part of a reported cycle or too
	// large to write out; their schema is empty so that it stays finite.
	opaque bool
}

// Property returns the property called name of an object type.
func (t *Type) Property(name string) (*Property, bool) {
	for i := range t.Properties {
		if t.Properties[i].Name == name {
			return &t.Properties[i], true
		}
	}
	return nil, false
}

// Property is one property of an object type.
type Property struct {
	Name     string
	Optional bool
	// Pos is where the property's name is written.
	Pos diag.Pos
	Spec
}

// Spec is the type of a property or of array items.
type Spec struct {
	// Ref is the referenced type when Items is nil. It is the zero Expr
	// when the type did not resolve.
	Ref Expr
	// Items is set for `type: array`: the element type.
	Items       *Spec
	Description string
	// Enum lists the allowed values of a string.
	Enum []string
	// Const is the one allowed value of a string (a discriminator).
	Const *string
}

// Registry holds a protocol's custom types. The zero value (and a nil
// *Registry) holds none.
type Registry struct {
	types map[string]*Type
	order []string // names in document order
}

// Lookup returns the custom type called name.
func (reg *Registry) Lookup(name string) (*Type, bool) {
	if reg == nil {
		return nil, false
	}
	t, ok := reg.types[name]
	return t, ok
}

// IsObject reports whether name is a custom object type: not a union, an
// array type or a built-in. A responseType must be one.
func (reg *Registry) IsObject(name string) bool {
	t, ok := reg.Lookup(name)
	return ok && t.Kind == Object
}

// Names returns the names of the custom types, sorted.
func (reg *Registry) Names() []string {
	if reg == nil {
		return nil
	}
	return slices.Sorted(slices.Values(reg.order))
}
