package protocol

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/diag"
)

// readReferences loads references/*.md: one document a file, named by the
// file name without .md, with YAML front matter that must hold a
// description (rules §1.1, D16).
func (l *loader) readReferences(p *Protocol, agent folder) {
	st, err := fs.Stat(agent, "references")
	if err != nil || !st.IsDir() {
		return
	}
	root, err := agent.sub("references")
	if err != nil {
		p.Diagnostics.Errorf(diag.Pos{File: l.host.join(p.Dir, "references")}, "cannot open references/: %v", cleanErr(err))
		return
	}
	defer root.Close()
	entries, err := fs.ReadDir(root, ".")
	if err != nil {
		p.Diagnostics.Errorf(diag.Pos{File: l.host.join(p.Dir, "references")}, "cannot list references/: %v", cleanErr(err))
		return
	}
	for _, e := range entries {
		file := l.host.join(p.Dir, "references", e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			p.Diagnostics.Warnf(diag.Pos{File: file}, "references/ holds one markdown file per reference; %s is ignored", e.Name())
			continue
		}
		src, ok := l.readFile(p, root, e.Name(), file, MaxPromptSize)
		if !ok {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".md")
		if !slugPattern.MatchString(name) {
			p.Diagnostics.Errorf(diag.Pos{File: file}, "reference name %q must be lowercase letters, digits and dashes (like %q); rename the file", name, toSlug(name))
		}
		ref := &Reference{Name: name, File: file}
		ref.Description, ref.Content = frontMatter(file, src, &p.Diagnostics)
		p.References[name] = ref
	}
}

// frontMatter splits a reference into the description of its front matter
// and its body.
func frontMatter(file string, src []byte, diags *diag.List) (description, body string) {
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	if !strings.HasPrefix(text, "---\n") {
		diags.Errorf(diag.Pos{File: file, Line: 1, Col: 1}, "a reference starts with front matter holding its description: ---, description: ..., ---")
		return "", text
	}
	head, body, found := strings.Cut(text[len("---\n"):], "\n---")
	if !found {
		diags.Errorf(diag.Pos{File: file, Line: 1, Col: 1}, "the front matter is not closed: add a line --- after it")
		return "", text
	}
	body = strings.TrimPrefix(strings.TrimPrefix(body, "\n"), "\n")
	// Parse the head with its real line numbers: pad with the opening line.
	var meta diag.List
	n, _ := yamlx.Parse(file, append([]byte("\n"), head...), &meta)
	*diags = append(*diags, meta...)
	r := yamlx.Reader{File: file, Diags: diags}
	d := &decoder{Reader: r}
	var desc Str
	// Only description is required (rule §9.1.3); any other key (a title,
	// tags, a date that markdown tools write) is accepted and ignored.
	entries := d.Mapping(n, "the front matter")
	misspelt := diag.Pos{File: file, Line: 1, Col: 1}
	hint := ""
	for _, e := range entries {
		if e.Key == "description" {
			d.text(&desc, "description")(e.Value)
		} else if dym := diag.DidYouMean(e.Key, []string{"description"}); dym != "" && hint == "" {
			misspelt, hint = d.Pos(e.KeyNode), fmt.Sprintf("; %q is not description%s", e.Key, dym)
		}
	}
	if !desc.IsSet() && !meta.HasErrors() {
		diags.Errorf(misspelt, "the front matter needs a description: the model reads it to decide when to open the reference%s", hint)
	}
	return desc.Value, body
}
