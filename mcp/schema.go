package mcp

import (
	"maps"
	"regexp"

	"github.com/mark3labs/mcp-go/mcp"
)

// inputSchema returns a tool's input schema as a JSON Schema object,
// normalised (rule §5.7): every object node has properties, and
// patterns with look-around or back-references are dropped. mcp-go keeps
// only type, properties, required, additionalProperties and $defs of the
// root, so there is no root anyOf/oneOf/allOf left to flatten.
func inputSchema(s mcp.ToolInputSchema) map[string]any {
	root := map[string]any{"type": s.Type}
	if s.Type == "" {
		root["type"] = "object"
	}
	if s.Properties != nil {
		root["properties"] = s.Properties
	}
	if len(s.Required) > 0 {
		root["required"] = s.Required
	}
	if s.AdditionalProperties != nil {
		root["additionalProperties"] = s.AdditionalProperties
	}
	if s.Defs != nil {
		root["$defs"] = s.Defs
	}
	return normalize(root).(map[string]any)
}

// unsupportedPattern matches the regular expression syntax that JSON Schema
// validators outside ECMAScript often lack: look-ahead, look-behind and
// back-references.
var unsupportedPattern = regexp.MustCompile(`\(\?<?[=!]|\\[1-9]|\\k<`)

// The keywords whose values are schemas: maps of names to schemas, lists of
// schemas, and single schemas. Every other keyword holds data (enum,
// default, const, a property's name...) and is left as it is.
var (
	schemaMaps  = []string{"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
	schemaLists = []string{"allOf", "anyOf", "oneOf", "prefixItems"}
	subschemas  = []string{"items", "additionalItems", "additionalProperties", "unevaluatedItems",
		"unevaluatedProperties", "contains", "propertyNames", "not", "if", "then", "else"}
)

// normalize returns a copy of the schema v with properties added to every
// object node lacking it and unsupported patterns removed.
func normalize(v any) any {
	switch v := v.(type) {
	case []any: // items as a list of schemas (draft 4 tuples)
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x)
		}
		return out
	case map[string]any:
		out := maps.Clone(v)
		for _, k := range schemaMaps {
			if m, ok := v[k].(map[string]any); ok {
				named := make(map[string]any, len(m))
				for name, x := range m {
					named[name] = normalize(x)
				}
				out[k] = named
			}
		}
		for _, k := range schemaLists {
			if list, ok := v[k].([]any); ok {
				out[k] = normalize(list)
			}
		}
		for _, k := range subschemas {
			if x, ok := v[k]; ok {
				out[k] = normalize(x)
			}
		}
		if p, ok := out["pattern"].(string); ok && unsupportedPattern.MatchString(p) {
			delete(out, "pattern")
		}
		if isObject(out["type"]) && out["properties"] == nil {
			out["properties"] = map[string]any{}
		}
		return out
	}
	return v // true or false
}

// isObject reports whether a type keyword allows objects: "object", or a
// list that holds it.
func isObject(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		for _, x := range t {
			if x == "object" {
				return true
			}
		}
	}
	return false
}
