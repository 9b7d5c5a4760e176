package types

import "slices"

// fileNodes is the number of schema objects in the file schema: the
// object and its five properties.
const fileNodes = 6

// Field is one member of an object schema built by ObjectSchema: an input
// or a tool parameter.
type Field struct {
	Name        string
	Type        Expr
	Description string
	Optional    bool
	// Enum lists the allowed values; it is added to the schema of Type,
	// so callers allow it only on `string` fields.
	Enum []string
}

// Schema returns the JSON Schema of e as a fresh map that the caller may
// change. It is JSON-marshalable and deterministic (encoding/json sorts
// map keys). Referenced types are written out in place; a type that did
// not resolve, or that Decode reported as recursive or too large, has the
// empty schema {} (any value).
func (reg *Registry) Schema(e Expr) map[string]any {
	s := reg.named(e.Name)
	for range e.Dims {
		s = arrayOf(s)
	}
	return s
}

// ObjectSchema returns the schema of an object with the given fields, in
// the way the protocol declares inputs and tool parameters: {type: object,
// properties, required: [names of non-optional fields, in order],
// additionalProperties: false}. Field names must be distinct.
func (reg *Registry) ObjectSchema(fields []Field) map[string]any {
	props := make([]Property, len(fields))
	for i, f := range fields {
		props[i] = Property{
			Name:     f.Name,
			Optional: f.Optional,
			Spec:     Spec{Ref: f.Type, Description: f.Description, Enum: f.Enum},
		}
	}
	return reg.object(props)
}

// named returns the schema of a built-in or custom type name; unknown (and
// any name that resolves to nothing) is {}.
func (reg *Registry) named(name string) map[string]any {
	switch name {
	case "string", "number", "integer", "boolean":
		return map[string]any{"type": name}
	case "file":
		return fileSchema()
	}
	if t, ok := reg.Lookup(name); ok {
		return reg.typeSchema(t)
	}
	return map[string]any{}
}

// typeSchema returns the schema of a custom type.
func (reg *Registry) typeSchema(t *Type) map[string]any {
	var s map[string]any
	switch {
	case t.opaque:
		s = map[string]any{}
	case t.Kind == Array:
		s = arrayOf(reg.spec(t.Items))
	case t.Kind == Union:
		s = reg.union(t.Variants)
	default:
		s = reg.object(t.Properties)
	}
	if t.Description != "" {
		s["description"] = t.Description
	}
	return s
}

// union returns {anyOf: [variant schemas]}, or {} when no variant
// resolved (after errors), since an empty anyOf is not a valid schema.
func (reg *Registry) union(variants []string) map[string]any {
	if len(variants) == 0 {
		return map[string]any{}
	}
	anyOf := make([]any, len(variants))
	for i, v := range variants {
		anyOf[i] = reg.named(v)
	}
	return map[string]any{"anyOf": anyOf}
}

// object returns the schema of an object with the given properties.
func (reg *Registry) object(props []Property) map[string]any {
	properties := make(map[string]any, len(props))
	required := []string{}
	for i := range props {
		p := &props[i]
		properties[p.Name] = reg.spec(&p.Spec)
		if !p.Optional {
			required = append(required, p.Name)
		}
	}
	return map[string]any{
		"type":                 "object",
		"properties":           properties,
		"required":             required,
		"additionalProperties": false,
	}
}

// spec returns the schema of a property or of array items. Its own
// description replaces that of the type it refers to.
func (reg *Registry) spec(s *Spec) map[string]any {
	if s == nil {
		return map[string]any{}
	}
	var out map[string]any
	if s.Items != nil {
		out = arrayOf(reg.spec(s.Items))
	} else {
		out = reg.Schema(s.Ref)
	}
	if s.Description != "" {
		out["description"] = s.Description
	}
	if len(s.Enum) > 0 {
		out["enum"] = slices.Clone(s.Enum)
	}
	if s.Const != nil {
		out["const"] = *s.Const
	}
	return out
}

func arrayOf(items map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}

// fileSchema is the schema of a FileReference. Unlike custom object types
// it allows more properties: the TypeScript SDK's FileReference may carry
// width and height.
func fileSchema() map[string]any {
	str := func() map[string]any { return map[string]any{"type": "string"} }
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"id":        str(),
			"mediaType": str(),
			"url":       str(),
			"filename":  str(),
			"size":      map[string]any{"type": "number"},
		},
		"required": []string{"id", "mediaType", "url"},
	}
}
