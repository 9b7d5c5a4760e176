package protocol_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
)

// FuzzLoad writes arbitrary protocol.yaml and prompt text into an agent
// folder and loads it: loading must never panic, and every failure must be
// a diagnostic with a file and a sane position that renders.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/valid/*/protocol.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err == nil {
			f.Add(string(data), "You help with {{TOPIC}}.\n{{#if TIER == \"pro\"}}\nPro.\n{{/if}}\n")
		}
	}
	archives, _ := filepath.Glob("../testdata/invalid/*.txtar")
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err != nil {
			continue
		}
		var yaml, prompt string
		for _, file := range ar.Files {
			switch file.Name {
			case "protocol.yaml", "main/protocol.yaml":
				yaml = string(file.Data)
			case "prompts/system.md":
				prompt = string(file.Data)
			}
		}
		f.Add(yaml, prompt)
	}
	dir := f.TempDir()
	must(f, os.MkdirAll(filepath.Join(dir, "prompts"), 0o755))
	must(f, os.WriteFile(filepath.Join(dir, "settings.json"), []byte(`{"slug": "fuzz", "name": "Fuzz", "format": "worker"}`), 0o644))
	f.Fuzz(func(t *testing.T, yaml, prompt string) {
		must(t, os.WriteFile(filepath.Join(dir, "protocol.yaml"), []byte(yaml), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, "prompts", "system.md"), []byte(prompt), 0o644))
		p, err := protocol.Load(dir)
		if p == nil {
			t.Fatal("Load returned a nil protocol")
		}
		if (err != nil) != p.Diagnostics.HasErrors() {
			t.Fatalf("error %v but diagnostics %v", err, p.Diagnostics)
		}
		for _, d := range p.Diagnostics {
			if d.File == "" || d.Line < 0 || d.Col < 0 || d.Message == "" {
				t.Fatalf("malformed diagnostic %+v", d)
			}
		}
		must(t, diag.Write(io.Discard, p.Diagnostics, p.Source))
		if err == nil {
			// A valid protocol accepts its own defaults as input.
			_, _ = p.ResolveInput(map[string]any{})
		}
	})
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
