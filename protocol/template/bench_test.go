package template

import (
	"testing"

	"github.com/octrun/octrun/protocol/diag"
)

// benchFiles is a realistic prompt of about 2 KB, with placeholders,
// conditionals and an include.
var benchFiles = memSource{
	"system.md": `# Role

You are a research assistant working for {{COMPANY}}. Your job is to write a
clear, well-sourced report on the topic below for {{AUDIENCE}}.

## Topic

{{TOPIC}}

{{@shared/tone.md}}

## How to work

1. Read the notes and the sources you are given before you write anything.
2. Plan the report: list the questions it must answer, then answer them in order.
3. Cite every claim with the source it comes from. Never invent a source.
4. Keep each section short; prefer lists and tables to long paragraphs.
{{#if DEPTH == "deep"}}
5. Go deep: compare at least three sources for each key claim and point out
   where they disagree, with the strength of the evidence on each side.
{{else if DEPTH == "quick"}}
5. Keep it quick: one paragraph per question, the most reliable source only.
{{else}}
5. Aim for a balanced report: two sources per key claim where you can.
{{/if}}

## Notes from the user

{{#if NOTES}}
The user left these notes; follow them unless they contradict the rules above:

{{NOTES}}
{{else}}
The user left no notes.
{{/if}}

## Output

{{#if FORMAT == "markdown"}}
Write the report in Markdown with a title, a summary of at most {{MAX_WORDS}}
words, one section per question and a list of sources at the end.
{{else if FORMAT == "json"}}
Answer with a JSON object with the fields title, summary, sections and sources.
Do not wrap it in a code block.
{{else}}
Write the report as plain text.
{{/if}}
{{#if !INTERNAL}}

The report is for people outside {{COMPANY}}: leave out internal names, prices
and anything marked confidential in the notes.
{{/if}}

Today is {{DATE}}. The user's language is {{LANGUAGE}}; write in it.
`,
	"shared/tone.md": `## Tone

Be {{TONE}}, precise and calm. Avoid hype and filler words; say "I don't know"
when the sources do not settle a question, and never pretend to certainty.
{{#if AUDIENCE == "experts"}}
Use the field's terms without defining them.
{{else}}
Define every technical term the first time you use it.
{{/if}}
`,
}

var benchBindings = map[string]any{
	"COMPANY":   "Acme Research",
	"AUDIENCE":  "experts",
	"TOPIC":     "The effect of sleep on long-term memory consolidation in adults",
	"TONE":      "friendly",
	"DEPTH":     "deep",
	"NOTES":     map[string]any{"focus": "studies after 2015", "avoid": []any{"blogs", "press releases"}},
	"FORMAT":    "markdown",
	"MAX_WORDS": 200,
	"INTERNAL":  false,
	"DATE":      "2025-03-14",
	"LANGUAGE":  Absent,
}

func BenchmarkRender(b *testing.B) {
	var diags diag.List
	tmpl := Compile("system.md", benchFiles, &diags)
	if len(diags) > 0 {
		b.Fatal(diags)
	}
	b.ReportAllocs()
	for b.Loop() {
		tmpl.Render(benchBindings)
	}
}

func BenchmarkRenderStrings(b *testing.B) {
	var diags diag.List
	tmpl := Compile("system.md", benchFiles, &diags)
	if len(diags) > 0 {
		b.Fatal(diags)
	}
	bindings := map[string]any{}
	for k, v := range benchBindings {
		bindings[k] = v
	}
	bindings["NOTES"] = "Focus on studies after 2015; avoid blogs and press releases."
	bindings["MAX_WORDS"] = "200"
	b.ReportAllocs()
	for b.Loop() {
		tmpl.Render(bindings)
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var diags diag.List
		Compile("system.md", benchFiles, &diags)
	}
}
