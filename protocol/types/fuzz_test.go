package types

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/diag"
)

// FuzzDecode feeds arbitrary YAML text, indented under `types:`, through
// yamlx.Parse, Decode and the schema of every type. Nothing may panic,
// every diagnostic must have a position, every schema must be JSON and
// must compile.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"Finding:\n  claim: { type: string }\n  confidence: { type: string, enum: [low, high] }\n  sources: { type: array, items: { type: string }, optional: true }",
		"FindingList:\n  type: array\n  items: { type: Finding }\n  description: Ordered\nFinding: { claim: { type: string } }",
		"Outcome:\n  anyOf: [Success, Failure]\n  discriminator: status\nSuccess: { status: { type: string, const: ok } }\nFailure: { status: { type: string, const: fail } }",
		"A: { b: { type: B } }\nB: { a: { type: \"A[]\" } }",
		"U: { anyOf: [U, V], discriminator: k }\nV: { k: { type: U } }",
		"L0: { a: { type: L1 }, b: { type: L1 } }\nL1: { a: { type: L2 }, b: { type: L2 } }\nL2: { a: { type: string } }",
		"x: 1\nY: [a]\nZ: { type: object }\nW: { p: { type: array, items: { type: array, items: { type: \"file[][]\" } } } }",
		"C: { type: { type: string, const: \"\" }, e: { type: string, enum: [\"\", a] } }",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		src := "types:\n  " + strings.ReplaceAll(text, "\n", "\n  ")
		var dl diag.List
		root, ok := yamlx.Parse("p.yaml", []byte(src), &dl)
		if !ok || root == nil || root.Kind != yaml.MappingNode {
			return
		}
		dl = nil
		reg := Decode(&yamlx.Reader{File: "p.yaml", Diags: &dl}, section(root, "types"))
		for _, d := range dl {
			if d.Line == 0 {
				t.Errorf("diagnostic without a position: %v", d)
			}
		}
		for _, name := range reg.Names() {
			checkSchema(t, reg.Schema(Expr{Name: name, Dims: 1}))
		}
		fields := make([]Field, 0, len(reg.Names()))
		for _, name := range reg.Names() {
			fields = append(fields, Field{Name: name, Type: Expr{Name: name}})
		}
		checkSchema(t, reg.ObjectSchema(fields))
	})
}

// checkSchema checks that s is JSON and a valid schema, and that
// validating with it does not panic.
func checkSchema(t *testing.T, s map[string]any) {
	t.Helper()
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	v, err := NewValidator(s)
	if err != nil {
		t.Fatalf("schema does not compile: %v\n%v", err, s)
	}
	for _, value := range []any{nil, "x", []any{map[string]any{}}, []any{map[string]any{"type": 1.0, "a": []any{}}}} {
		v.Validate(value)
	}
}
