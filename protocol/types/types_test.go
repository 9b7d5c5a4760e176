package types

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/diag"
)

// decodeSrc parses a whole protocol file and decodes its `types:` section,
// returning the registry and the diagnostics as "line:col: severity:
// message".
func decodeSrc(t testing.TB, src string) (*Registry, []string) {
	t.Helper()
	var dl diag.List
	root, ok := yamlx.Parse("p.yaml", []byte(src), &dl)
	require.True(t, ok, "YAML does not parse: %v", dl)
	require.NotNil(t, root)
	reg := Decode(&yamlx.Reader{File: "p.yaml", Diags: &dl}, section(root, "types"))
	return reg, lines(dl)
}

// section returns the value of key in mapping n, or nil.
func section(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func lines(dl diag.List) []string {
	var out []string
	for _, d := range dl.Sort() {
		out = append(out, strings.TrimSpace(strings.TrimPrefix(d.String(), "p.yaml:")))
	}
	return out
}

func TestDecodeValid(t *testing.T) {
	reg, diags := decodeSrc(t, `types:
  Finding:
    description: A claim with its support
    claim:      { type: string, description: One-sentence claim }
    confidence: { type: string, enum: [low, medium, high] }
    sources:    { type: array, items: { type: string }, optional: true }
    matrix:     { type: "number[][]" }
  FindingList:
    type: array
    items: { type: Finding, description: One finding }
    description: Ordered findings
  Outcome:
    anyOf: [Success, Failure]
    discriminator: status
  Success: { status: { type: string, const: ok },   value:  { type: unknown } }
  Failure: { status: { type: string, const: fail }, reason: { type: string } }
  ClickAction:
    type: { type: string, const: click }
    target: { type: file }
`)
	require.Empty(t, diags)
	assert.Equal(t, []string{"ClickAction", "Failure", "Finding", "FindingList", "Outcome", "Success"}, reg.Names())

	finding, ok := reg.Lookup("Finding")
	require.True(t, ok)
	assert.Equal(t, Object, finding.Kind)
	assert.Equal(t, "A claim with its support", finding.Description)
	assert.Equal(t, diag.Pos{File: "p.yaml", Line: 2, Col: 3}, finding.Pos)
	require.Len(t, finding.Properties, 4)
	assert.Equal(t, Property{
		Name: "claim",
		Pos:  diag.Pos{File: "p.yaml", Line: 4, Col: 5},
		Spec: Spec{Ref: Expr{Name: "string"}, Description: "One-sentence claim"},
	}, finding.Properties[0])
	assert.Equal(t, []string{"low", "medium", "high"}, finding.Properties[1].Enum)
	assert.True(t, finding.Properties[2].Optional)
	assert.Equal(t, &Spec{Ref: Expr{Name: "string"}}, finding.Properties[2].Items)
	assert.Equal(t, Expr{Name: "number", Dims: 2}, finding.Properties[3].Ref)

	list, _ := reg.Lookup("FindingList")
	assert.Equal(t, Array, list.Kind)
	assert.Equal(t, "Ordered findings", list.Description)
	assert.Equal(t, &Spec{Ref: Expr{Name: "Finding"}, Description: "One finding"}, list.Items)

	outcome, _ := reg.Lookup("Outcome")
	assert.Equal(t, Union, outcome.Kind)
	assert.Equal(t, []string{"Success", "Failure"}, outcome.Variants)
	assert.Equal(t, "status", outcome.Discriminator)

	click, _ := reg.Lookup("ClickAction")
	assert.Equal(t, Object, click.Kind, "a property named type whose value is a mapping is a property")
	p, ok := click.Property("type")
	require.True(t, ok)
	require.NotNil(t, p.Const)
	assert.Equal(t, "click", *p.Const)
	_, ok = click.Property("missing")
	assert.False(t, ok)

	assert.True(t, reg.IsObject("Finding"))
	assert.False(t, reg.IsObject("FindingList"))
	assert.False(t, reg.IsObject("Outcome"))
	assert.False(t, reg.IsObject("string"))
	assert.False(t, reg.IsObject("Nope"))
}

func TestDecodeNilAndEmpty(t *testing.T) {
	var dl diag.List
	reg := Decode(&yamlx.Reader{File: "p.yaml", Diags: &dl}, nil)
	assert.Empty(t, dl)
	assert.Empty(t, reg.Names())
	assert.Equal(t, map[string]any{}, reg.Schema(Expr{Name: "Finding"}))

	var none *Registry
	assert.Nil(t, none.Names())
	assert.False(t, none.IsObject("Finding"))
	assert.Equal(t, map[string]any{"type": "string"}, none.Schema(Expr{Name: "string"}))
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "types section is not a mapping",
			src:  "types: [Finding]\n",
			want: []string{`1:8: error: the types section must be a mapping of names to values, got a list`},
		},
		{
			name: "type names are PascalCase",
			src: `types:
  finding: { a: { type: string } }
  my_type: { a: { type: string } }
  2fa: { a: { type: string } }
  User: { a: { type: finding }, b: { type: my_type } }
`,
			want: []string{
				`2:3: error: type name "finding" must be PascalCase (like "Finding")`,
				`3:3: error: type name "my_type" must be PascalCase (like "MyType")`,
				`4:3: error: type name "2fa" must be PascalCase: a capital letter, then letters and digits`,
			},
		},
		{
			name: "type names may not be built-in names",
			src: `types:
  string: { a: { type: string } }
  object: { a: { type: string } }
`,
			want: []string{
				`2:3: error: type name "string" is a built-in type name; choose another name`,
				`3:3: error: type name "object" is a built-in type name; choose another name`,
			},
		},
		{
			name: "body is not a mapping",
			src: `types:
  Alias: string
  Empty:
  Nothing: {}
  OnlyDescription: { description: Nothing here }
`,
			want: []string{
				`2:10: error: type "Alias" must be a mapping of its properties, or "type: array" with "items", or "anyOf"; got a string`,
				`3:3: error: type "Empty" must be a mapping of its properties, or "type: array" with "items", or "anyOf"; got nothing (null)`,
				`4:3: error: type "Nothing" has no properties; an object type needs at least one`,
				`5:3: error: type "OnlyDescription" has no properties; an object type needs at least one`,
			},
		},
		{
			name: "a top-level type other than array",
			src: `types:
  Status: { type: string, enum: [a, b] }
  Thing:
    type: object
    properties: { a: { type: string } }
`,
			want: []string{
				`2:19: error: type "Status" cannot be "type: string": a custom type is an object (its properties listed under its name), an array ("type: array" with "items") or a union ("anyOf")`,
				`4:11: error: type "Thing" cannot be "type: object": a custom type is an object (its properties listed under its name), an array ("type: array" with "items") or a union ("anyOf")`,
			},
		},
		{
			name: "property is not a mapping",
			src: `types:
  Finding:
    claim: string
    score:
    tags: [a]
`,
			want: []string{
				`3:12: error: property "claim" of type "Finding" must be a mapping like { type: string }, got a string`,
				`4:5: error: property "score" of type "Finding" must be a mapping like { type: string }, got nothing (null)`,
				`5:11: error: property "tags" of type "Finding" must be a mapping like { type: string }, got a list`,
			},
		},
		{
			name: "property names should be camelCase",
			src: `types:
  Finding:
    Claim: { type: string }
    source_url: { type: string }
    URLList: { type: "string[]" }
    _: { type: string }
`,
			want: []string{
				`3:5: warning: property "Claim" of type "Finding" should be camelCase (like "claim")`,
				`4:5: warning: property "source_url" of type "Finding" should be camelCase (like "sourceUrl")`,
				`5:5: warning: property "URLList" of type "Finding" should be camelCase (like "urlList")`,
				`6:5: warning: property "_" of type "Finding" should be camelCase: a small letter, then letters and digits`,
			},
		},
		{
			name: "unknown property fields",
			src: `types:
  Finding:
    claim: { type: string, descripton: x }
    tags: { type: array, items: { type: string }, minItems: 1 }
    box: { type: "Box<string>" }
`,
			want: []string{
				`3:28: error: unknown key "descripton" in property "claim" of type "Finding" (did you mean "description"?)`,
				`4:51: error: unknown key "minItems" in property "tags" of type "Finding"`,
				`5:18: error: property "box" of type "Finding" has type "Box<string>"; generic types are not supported: use "T[]" for an array of T, or a custom type`,
			},
		},
		{
			name: "property type is required and must resolve",
			src: `types:
  Finding:
    claim: { description: no type }
    kind: { type: [string] }
    score: { type: nmber }
    label: { type: String }
    other: { type: "Findng[]" }
    blank: { type: "" }
    deep: { type: "string[][][][][][][][][]" }
`,
			want: []string{
				`3:5: error: property "claim" of type "Finding" needs a "type" (like type: string)`,
				`4:19: error: the type of property "kind" of type "Finding" must be a string, got a list`,
				`5:20: error: property "score" of type "Finding" has unknown type "nmber" (did you mean "number"?)`,
				`6:20: error: property "label" of type "Finding" has unknown type "String" (did you mean "string"?)`,
				`7:20: error: property "other" of type "Finding" has unknown type "Findng" (did you mean "Finding"?)`,
				`8:20: error: property "blank" of type "Finding" has an empty type name; write a built-in type or a custom type name`,
				`9:19: error: property "deep" of type "Finding" has type "string[][][][][][][][][]", which nests arrays more than 8 deep`,
			},
		},
		{
			name: "bare object and array",
			src: `types:
  Finding:
    meta: { type: object }
    list: { type: array }
    grid: { type: "array[]" }
`,
			want: []string{
				`3:19: error: property "meta" of type "Finding" has type "object"; there is no bare object type: define a custom type under types: and use its name, or use "unknown"`,
				`4:19: error: property "list" of type "Finding" has type "array" and needs "items" (like items: { type: string })`,
				`5:19: error: property "grid" of type "Finding" has type "array[]"; there is no bare array type: use "T[]" (like "string[]"), a custom type, or "unknown"`,
			},
		},
		{
			name: "items",
			src: `types:
  Finding:
    name: { type: string, items: { type: string } }
    tags: { type: array, items: string }
    rows:
      type: array
      items:
        type: array
        items: { type: string, enum: [a, b], optional: true }
    cells: { type: array, items: { description: x } }
`,
			want: []string{
				`3:27: error: "items" is only allowed with type: array, but property "name" of type "Finding" has type "string"`,
				`4:33: error: "items" of property "tags" of type "Finding" must be a mapping like { type: string }, got a string`,
				`9:46: error: unknown key "optional" in "items" of "items" of property "rows" of type "Finding"`,
				`10:34: error: "items" of property "cells" of type "Finding" needs a "type" (like type: string)`,
			},
		},
		{
			name: "enum",
			src: `types:
  Finding:
    a: { type: string, enum: low }
    b: { type: string, enum: [] }
    c: { type: string, enum: [low, 3, true, ~, [x]] }
    d: { type: string, enum: [low, low] }
    e: { type: number, enum: [1, 2] }
    f: { type: nope, enum: [x] }
`,
			want: []string{
				`3:30: error: the enum of property "a" of type "Finding" must be a list, got a string`,
				`4:30: error: the enum of property "b" of type "Finding" is empty; list at least one value`,
				`5:36: error: the enum of property "c" of type "Finding" must list strings, but 3 is a number; quote it: "3"`,
				`5:39: error: the enum of property "c" of type "Finding" must list strings, but true is a boolean; quote it: "true"`,
				`5:45: error: the enum of property "c" of type "Finding" must list strings, got nothing (null)`,
				`5:48: error: the enum of property "c" of type "Finding" must list strings, got a list`,
				`6:36: warning: the enum of property "d" of type "Finding" lists "low" twice`,
				`7:24: error: "enum" is only allowed with type: string, but property "e" of type "Finding" has type "number"`,
				`8:16: error: property "f" of type "Finding" has unknown type "nope"`,
			},
		},
		{
			name: "const",
			src: `types:
  Finding:
    a: { type: string, const: 1 }
    b: { type: integer, const: x }
    c: { type: string, const: x, enum: [x] }
    d: { type: string, const: [x] }
`,
			want: []string{
				`3:31: error: the const of property "a" of type "Finding" must be a string, but 1 is a number; quote it: "1"`,
				`4:25: error: "const" is only allowed with type: string, but property "b" of type "Finding" has type "integer"`,
				`5:24: error: property "c" of type "Finding" has both "enum" and "const"; use one of them`,
				`6:31: error: the const of property "d" of type "Finding" must be a string, got a list`,
			},
		},
		{
			name: "description and optional",
			src: `types:
  Finding:
    a: { type: string, description: { x: 1 } }
    b: { type: string, optional: yes }
    description: [x]
`,
			want: []string{
				`3:37: error: the description of property "a" of type "Finding" must be text, got a mapping`,
				`4:34: error: "optional" of property "b" of type "Finding" must be true or false, got a string`,
				`5:18: error: property "description" of type "Finding" must be a mapping like { type: string }, got a list`,
			},
		},
		{
			name: "array types",
			src: `types:
  NoItems: { type: array, description: x }
  BadItems: { type: array, items: Finding }
  Extra: { type: array, items: { type: string }, minItems: 1, description: [x] }
  Nested: { type: array, items: { type: "string[]" } }
`,
			want: []string{
				`2:3: error: array type "NoItems" needs "items" (like items: { type: string })`,
				`3:35: error: "items" of array type "BadItems" must be a mapping like { type: Finding }, got a string`,
				`4:50: error: unknown key "minItems" in array type "Extra"`,
				`4:76: error: the description of array type "Extra" must be text, got a list`,
			},
		},
		{
			name: "union shape",
			src: `types:
  A: { kind: { type: string, const: a } }
  B: { kind: { type: string, const: b } }
  NotList: { anyOf: A, discriminator: kind }
  One: { anyOf: [A], discriminator: kind }
  Inline: { anyOf: [A, { x: { type: string } }, A], discriminator: kind }
  NoDiscriminator: { anyOf: [A, B] }
  BadDiscriminator: { anyOf: [A, B], discriminator: [kind], oneOf: [] }
`,
			want: []string{
				`4:21: error: the anyOf of union type "NotList" must be a list, got a string`,
				`5:17: error: union type "One" needs at least 2 types in anyOf, got 1`,
				`6:24: error: each entry in the anyOf of union type "Inline" must be a type name, got a mapping; declare the variant under types: and list its name`,
				`6:49: error: union type "Inline" lists "A" twice in anyOf`,
				`7:3: error: union type "NoDiscriminator" needs a "discriminator": the property whose const tells its variants apart`,
				`8:53: error: the discriminator of union type "BadDiscriminator" must be a string, got a list`,
				`8:61: error: unknown key "oneOf" in union type "BadDiscriminator"`,
			},
		},
		{
			name: "union variants",
			src: `types:
  A: { kind: { type: string, const: a } }
  List: { type: array, items: { type: A } }
  Other: { anyOf: [A, Bee], discriminator: kind }
  Bee: { kind: { type: string, const: b } }
  U: { anyOf: [A, Be, string, "A[]", List, Other, Broken], discriminator: kind }
  Broken: kind
`,
			want: []string{
				`6:19: error: union type "U" lists unknown type "Be" in anyOf (did you mean "Bee"?)`,
				`6:23: error: union type "U" lists "string" in anyOf, but a variant must be a custom object type`,
				`6:31: error: union type "U" lists "A[]" in anyOf, but a variant must be a custom object type`,
				`6:38: error: union type "U" lists "List" in anyOf, but "List" is an array type; a variant must be an object type`,
				`6:44: error: union type "U" lists "Other" in anyOf, but "Other" is a union type; a variant must be an object type`,
				`7:11: error: type "Broken" must be a mapping of its properties, or "type: array" with "items", or "anyOf"; got a string`,
			},
		},
		{
			name: "union discriminators",
			src: `types:
  Missing: { name: { type: string } }
  NoConst: { kind: { type: string } }
  BadConst: { kind: { type: number, const: 1 } }
  Optional: { kind: { type: string, const: opt, optional: true } }
  First: { kind: { type: string, const: same } }
  Second: { kind: { type: string, const: same } }
  U: { anyOf: [Missing, NoConst, BadConst, Optional, First, Second], discriminator: kind }
`,
			want: []string{
				`3:14: error: property "kind" of type "NoConst" is the discriminator of union type "U" and needs a "const" (like kind: { type: string, const: noConst })`,
				`4:37: error: "const" is only allowed with type: string, but property "kind" of type "BadConst" has type "number"`,
				`5:15: error: property "kind" of type "Optional" is a discriminator and must not be optional`,
				`8:16: error: variant "Missing" of union type "U" has no property "kind", its discriminator`,
				`8:61: error: variants "First" and "Second" of union type "U" both have kind "same"; each variant needs its own const`,
			},
		},
		{
			name: "recursive types",
			src: `types:
  Self: { me: { type: Self } }
  A: { b: { type: "B[]" } }
  B: { a: { type: A, optional: true } }
  UsesCycle: { a: { type: A } }
  Tree: { children: { type: TreeList } }
  TreeList: { type: array, items: { type: Tree } }
  Node: { next: { type: array, items: { type: Choice } } }
  Choice: { anyOf: [Leaf, Node], discriminator: kind }
  Leaf: { kind: { type: string, const: leaf } }
`,
			want: []string{
				`2:3: error: type "Self" refers to itself through Self -> Self; recursive types are not supported`,
				`3:3: error: type "A" refers to itself through A -> B -> A; recursive types are not supported`,
				`6:3: error: type "Tree" refers to itself through Tree -> TreeList -> Tree; recursive types are not supported`,
				`8:3: error: type "Node" refers to itself through Node -> Choice -> Node; recursive types are not supported`,
				`9:27: error: variant "Node" of union type "Choice" has no property "kind", its discriminator`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := decodeSrc(t, tt.src)
			assert.Equal(t, tt.want, diags)
		})
	}
}

func TestDecodeObjectDescriptionDisambiguation(t *testing.T) {
	reg, diags := decodeSrc(t, `types:
  Doc:
    description: { type: string, description: The document's own description field }
`)
	require.Empty(t, diags)
	doc, _ := reg.Lookup("Doc")
	assert.Empty(t, doc.Description)
	require.Len(t, doc.Properties, 1)
	assert.Equal(t, "description", doc.Properties[0].Name)
}

func TestDecodeSchemaSizeLimit(t *testing.T) {
	// Each level doubles the size of the schema once written out: Lk has
	// two properties of type Lk+1, so Lk has 3*2^(12-k)-1 schema nodes:
	// L2 has 3071, L1 6143.
	var b strings.Builder
	b.WriteString("types:\n")
	const levels = 12
	for i := range levels {
		fmt.Fprintf(&b, "  L%d: { a: { type: L%d }, b: { type: L%d } }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "  L%d: { a: { type: string } }\n", levels)
	reg, diags := decodeSrc(t, b.String())
	assert.Equal(t, []string{
		`3:3: error: type "L1" expands to more than 5000 schema nodes once the types it uses are written out; simplify it, or use "unknown" for deep parts`,
	}, diags, "only the smallest type over the limit is reported")

	l0 := reg.Schema(Expr{Name: "L0"})
	assert.Equal(t, map[string]any{}, l0["properties"].(map[string]any)["a"], "the oversized type is written as {}")
	l2 := reg.Schema(Expr{Name: "L2"})
	assert.Equal(t, "object", l2["type"])
}

func TestCheckRef(t *testing.T) {
	reg, diags := decodeSrc(t, `types:
  Finding: { claim: { type: string } }
  Cycle: { next: { type: Cycle } }
`)
	require.Len(t, diags, 1)

	tests := []struct {
		src    string
		want   Expr
		wantOK bool
		diags  []string
	}{
		{src: `string`, want: Expr{Name: "string"}, wantOK: true},
		{src: `number`, want: Expr{Name: "number"}, wantOK: true},
		{src: `integer`, want: Expr{Name: "integer"}, wantOK: true},
		{src: `boolean`, want: Expr{Name: "boolean"}, wantOK: true},
		{src: `unknown`, want: Expr{Name: "unknown"}, wantOK: true},
		{src: `file`, want: Expr{Name: "file"}, wantOK: true},
		{src: `Finding`, want: Expr{Name: "Finding"}, wantOK: true},
		{src: `Cycle`, want: Expr{Name: "Cycle"}, wantOK: true},
		{src: `string[]`, want: Expr{Name: "string", Dims: 1}, wantOK: true},
		{src: `file[]`, want: Expr{Name: "file", Dims: 1}, wantOK: true},
		{src: `Finding[][]`, want: Expr{Name: "Finding", Dims: 2}, wantOK: true},
		{src: `array`, diags: []string{`1:7: error: input "TOPIC" has type "array"; there is no bare array type: use "T[]" (like "string[]"), a custom type, or "unknown"`}},
		{src: `object`, diags: []string{`1:7: error: input "TOPIC" has type "object"; there is no bare object type: define a custom type under types: and use its name, or use "unknown"`}},
		{src: `strng`, diags: []string{`1:7: error: input "TOPIC" has unknown type "strng" (did you mean "string"?)`}},
		{src: `Findings[]`, diags: []string{`1:7: error: input "TOPIC" has unknown type "Findings" (did you mean "Finding"?)`}},
		{src: `Zebra`, diags: []string{`1:7: error: input "TOPIC" has unknown type "Zebra"`}},
		{src: `Array<string>`, diags: []string{`1:7: error: input "TOPIC" has type "Array<string>"; generic types are not supported: use "T[]" for an array of T, or a custom type`}},
		{src: `[string]`, diags: []string{`1:7: error: the type of input "TOPIC" must be a string, got a list`}},
		{src: `3`, diags: []string{`1:7: error: the type of input "TOPIC" must be a string, got a number`}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			var dl diag.List
			root, ok := yamlx.Parse("p.yaml", []byte("type: "+tt.src), &dl)
			require.True(t, ok)
			got, ok := reg.CheckRef(&yamlx.Reader{File: "p.yaml", Diags: &dl}, root.Content[1], `input "TOPIC"`)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.diags, lines(dl))
		})
	}

	t.Run("nil node", func(t *testing.T) {
		var dl diag.List
		_, ok := reg.CheckRef(&yamlx.Reader{File: "p.yaml", Diags: &dl}, nil, `input "TOPIC"`)
		assert.False(t, ok)
		assert.Equal(t, []string{`error: input "TOPIC" needs a type`}, lines(dl))
	})
}

func TestExprString(t *testing.T) {
	assert.Equal(t, "string", Expr{Name: "string"}.String())
	assert.Equal(t, "Finding[][]", Expr{Name: "Finding", Dims: 2}.String())
	assert.Equal(t, "object", Object.String())
	assert.Equal(t, "array", Array.String())
	assert.Equal(t, "union", Union.String())
}

func TestNameSuggestions(t *testing.T) {
	for name, want := range map[string]string{
		"finding":      "Finding",
		"finding_list": "FindingList",
		"FINDING_LIST": "FindingList",
		"finding-list": "FindingList",
		"findingList":  "FindingList",
		"2fa":          "",
		"":             "",
	} {
		assert.Equal(t, want, toPascal(name), name)
	}
	for name, want := range map[string]string{
		"Claim":      "claim",
		"ClaimText":  "claimText",
		"CLAIM":      "claim",
		"ID":         "id",
		"URLList":    "urlList",
		"source_url": "sourceUrl",
		"_":          "",
	} {
		assert.Equal(t, want, toCamel(name), name)
	}
}

// schemaJSON returns the JSON of a schema, indented, for comparisons.
func schemaJSON(t *testing.T, s map[string]any) string {
	t.Helper()
	b, err := json.MarshalIndent(s, "", "  ")
	require.NoError(t, err)
	return string(b)
}

const schemaTypes = `types:
  Finding:
    description: A claim with its support
    claim:      { type: string, description: One-sentence claim }
    confidence: { type: string, enum: [low, medium, high] }
    sources:    { type: array, items: { type: string, description: A URL }, optional: true }
  FindingList:
    type: array
    items: { type: Finding }
    description: Ordered findings
  Outcome:
    anyOf: [Success, Failure]
    discriminator: status
    description: How it went
  Success: { status: { type: string, const: ok },   value:  { type: unknown } }
  Failure: { status: { type: string, const: fail }, reason: { type: string, optional: true } }
  Wrapper:
    finding: { type: Finding, description: The main finding }
    grid:    { type: "integer[][]" }
    files:   { type: array, items: { type: array, items: { type: file } } }
  Loop: { self: { type: Loop } }
`

func TestSchema(t *testing.T) {
	reg, diags := decodeSrc(t, schemaTypes)
	require.Len(t, diags, 1, "only the recursive type is an error")

	file := `{"type": "object", "properties": {"id": {"type": "string"}, "mediaType": {"type": "string"},
		"url": {"type": "string"}, "filename": {"type": "string"}, "size": {"type": "number"}},
		"required": ["id", "mediaType", "url"]}`
	finding := `{
		"type": "object",
		"description": "A claim with its support",
		"properties": {
			"claim": {"type": "string", "description": "One-sentence claim"},
			"confidence": {"type": "string", "enum": ["low", "medium", "high"]},
			"sources": {"type": "array", "items": {"type": "string", "description": "A URL"}}
		},
		"required": ["claim", "confidence"],
		"additionalProperties": false
	}`
	tests := []struct {
		expr Expr
		want string
	}{
		{Expr{Name: "string"}, `{"type": "string"}`},
		{Expr{Name: "number"}, `{"type": "number"}`},
		{Expr{Name: "integer"}, `{"type": "integer"}`},
		{Expr{Name: "boolean"}, `{"type": "boolean"}`},
		{Expr{Name: "unknown"}, `{}`},
		{Expr{Name: "file"}, file},
		{Expr{Name: "string", Dims: 1}, `{"type": "array", "items": {"type": "string"}}`},
		{Expr{Name: "unknown", Dims: 2}, `{"type": "array", "items": {"type": "array", "items": {}}}`},
		{Expr{Name: "Finding"}, finding},
		{Expr{Name: "Finding", Dims: 1}, `{"type": "array", "items": ` + finding + `}`},
		{Expr{Name: "FindingList"}, `{"type": "array", "description": "Ordered findings", "items": ` + finding + `}`},
		{Expr{Name: "Outcome"}, `{
			"description": "How it went",
			"anyOf": [
				{"type": "object", "properties": {"status": {"type": "string", "const": "ok"}, "value": {}},
				 "required": ["status", "value"], "additionalProperties": false},
				{"type": "object", "properties": {"status": {"type": "string", "const": "fail"}, "reason": {"type": "string"}},
				 "required": ["status"], "additionalProperties": false}
			]
		}`},
		{Expr{Name: "Wrapper"}, `{
			"type": "object",
			"properties": {
				"finding": ` + strings.Replace(finding, `"A claim with its support"`, `"The main finding"`, 1) + `,
				"grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
				"files": {"type": "array", "items": {"type": "array", "items": ` + file + `}}
			},
			"required": ["finding", "grid", "files"],
			"additionalProperties": false
		}`},
		{Expr{Name: "Loop"}, `{}`},
		{Expr{Name: "Undeclared"}, `{}`},
		{Expr{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.expr.String(), func(t *testing.T) {
			got := reg.Schema(tt.expr)
			assert.JSONEq(t, tt.want, schemaJSON(t, got))
			_, err := NewValidator(got)
			assert.NoError(t, err, "the schema compiles")
		})
	}
}

func TestSchemaIsFreshAndDeterministic(t *testing.T) {
	reg, _ := decodeSrc(t, schemaTypes)
	a := reg.Schema(Expr{Name: "Wrapper"})
	first := schemaJSON(t, a)
	a["properties"].(map[string]any)["finding"].(map[string]any)["description"] = "changed"
	assert.Equal(t, first, schemaJSON(t, reg.Schema(Expr{Name: "Wrapper"})), "changing a returned schema changes nothing else")
	for range 10 {
		assert.Equal(t, first, schemaJSON(t, reg.Schema(Expr{Name: "Wrapper"})))
	}
}

func TestObjectSchema(t *testing.T) {
	reg, _ := decodeSrc(t, schemaTypes)
	got := reg.ObjectSchema([]Field{
		{Name: "TOPIC", Type: Expr{Name: "string"}, Description: "What to research"},
		{Name: "DEPTH", Type: Expr{Name: "string"}, Enum: []string{"quick", "deep"}, Optional: true},
		{Name: "SEED", Type: Expr{Name: "Finding", Dims: 1}, Optional: true},
		{Name: "COUNT", Type: Expr{Name: "integer"}},
	})
	assert.JSONEq(t, `{
		"type": "object",
		"properties": {
			"TOPIC": {"type": "string", "description": "What to research"},
			"DEPTH": {"type": "string", "enum": ["quick", "deep"]},
			"SEED": {"type": "array", "items": `+schemaJSON(t, reg.Schema(Expr{Name: "Finding"}))+`},
			"COUNT": {"type": "integer"}
		},
		"required": ["TOPIC", "COUNT"],
		"additionalProperties": false
	}`, schemaJSON(t, got))

	assert.JSONEq(t, `{"type": "object", "properties": {}, "required": [], "additionalProperties": false}`,
		schemaJSON(t, reg.ObjectSchema(nil)), "a tool without parameters")
}
