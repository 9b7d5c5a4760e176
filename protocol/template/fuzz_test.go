package template

import (
	"strings"
	"testing"

	"github.com/octrun/octrun/protocol/diag"
)

// FuzzTemplate compiles arbitrary text, alone and through a file that
// includes it, and renders it with a few bindings: it must never panic, and
// text without tags must render unchanged.
func FuzzTemplate(f *testing.F) {
	for _, seed := range []string{
		"",
		"plain text\nwith lines\r\n",
		"{{A}} {{ A }} {{a}} {{}} {{{A}}} {{A",
		"{{#if A}}\nyes {{A}}\n{{else if B == \"x\"}}\nb\n{{else if !C}}\nc\n{{else}}\nno\n{{/if}}\n",
		"{{#if A}}{{#if B != \"\"}}{{@shared/tone.md}}{{/if}}{{/if}}",
		"{{#if A and B}}{{else}}{{else}}{{else if}}{{/if}}{{/if}}{{#if",
		"{{@loop.md}}{{@fuzz.md}}{{@../x.md}}{{@/a.md}}{{@a\\b.md}}{{@}}{{@x}}{{@missing.md}}",
		"  {{#if A}}  \r\n x\r\n\t{{/if}}\r",
		"é🙂{{#if A == \"é\"}}{{A}}{{/if}}\xff\xfe{{B}}",
		"{{{{{{#if A}}}}}}}}",
		"{{#if A == \"}}\"}}x{{/if}}",
	} {
		f.Add(seed)
	}
	bindings := []map[string]any{
		nil,
		{"A": "{{B}}", "B": Absent, "C": 0.0, "TONE": "{{A}}", "DEEP": true},
		{"A": []any{1, "x", map[string]any{"k": nil}}, "B": "x", "C": "0"},
	}
	files := memSource{
		"shared/tone.md": "Be {{TONE}}.\n{{#if DEEP}}\nGo deep.\n{{/if}}\n",
		"loop.md":        "<{{@fuzz.md}}>",
	}
	f.Fuzz(func(t *testing.T, text string) {
		src := memSource{"fuzz.md": text}
		for k, v := range files {
			src[k] = v
		}
		for _, root := range []string{"fuzz.md", "loop.md"} {
			var diags diag.List
			tmpl := Compile(root, src, &diags)
			for _, d := range diags {
				if d.Line < 0 || d.Line > 0 && d.Col < 1 {
					t.Fatalf("bad position: %v", d)
				}
			}
			for _, b := range bindings {
				if a, b := tmpl.Render(b), tmpl.Render(b); a != b {
					t.Fatalf("render is not repeatable: %q then %q", a, b)
				}
			}
			if root != "fuzz.md" {
				continue
			}
			if !strings.Contains(text, "{{") {
				if len(diags) > 0 {
					t.Fatalf("text without tags has diagnostics: %v", diags)
				}
				for _, b := range bindings {
					if got := tmpl.Render(b); got != text {
						t.Fatalf("text without tags rendered as %q", got)
					}
				}
			}
			onlyPlaceholders := len(diags) == 0 && len(tmpl.Includes()) == 0
			for _, r := range tmpl.Refs() {
				onlyPlaceholders = onlyPlaceholders && r.Kind == RefPlaceholder
			}
			if got := tmpl.Render(nil); onlyPlaceholders && got != text {
				t.Fatalf("text with unmapped placeholders only rendered as %q", got)
			}
		}
	})
}
