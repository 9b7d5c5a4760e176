// Package template owns prompt templating (rule §4): it compiles
// a prompt file of the prompts/ folder, with its {{NAME}} placeholders,
// {{@path.md}} includes and {{#if}} conditionals, once into a tree, reporting
// every problem as a diagnostic, and renders that tree as often as needed with
// a block's input bindings.
//
// Processing follows the order of rule §4: includes are expanded
// at compile time, then conditionals are evaluated, then placeholders are
// interpolated, in a single pass: a substituted value is never scanned again,
// so a value holding "{{X}}" renders as written.
//
// # Tags
//
// A tag runs from "{{" to the first "}}" after it and holds no "{{" (in
// "{{{A}}}" the tag is "{{A}}"). White space directly after "{{" means the
// text is not a tag. Recognised tags are:
//
//	{{NAME}}          placeholder; NAME is UPPER_SNAKE_CASE, [A-Z][A-Z0-9_]*
//	{{@path.md}}      include of prompts/path.md
//	{{#if COND}}      opens a conditional
//	{{else if COND}}  further branch
//	{{else}}          last branch
//	{{/if}}           closes the conditional
//
// Any other "{{...}}" text (such as "{{ NAME }}" or "{{lower}}") is ordinary
// text, kept verbatim without a diagnostic. Conditional tags may have white
// space before "}}".
//
// COND is NAME, !NAME, NAME == "literal" or NAME != "literal". A literal is a
// double quote, any characters but a double quote, and a double quote; there
// are no escapes, and as a tag ends at the first "}}" a literal cannot hold
// "}}" either.
//
// # Includes
//
// An include path is relative to prompts/, uses "/" between folders and ends
// in ".md". Absolute paths, ".." or "." segments, empty segments, backslashes
// and surrounding spaces are errors. Each file is compiled once and its tree
// shared by every place that includes it; conditionals must balance within
// each file. Includes nest at most 32 levels deep, and the text of a prompt
// with its includes expanded (every branch counted) may not exceed 4 MiB.
//
// # Rendering
//
// A label missing from the bindings is unmapped: its placeholder stays
// verbatim and a condition on it is false. A label bound to Absent renders as
// NONE and is falsy (rule D3). A value renders as its string form:
// strings as they are; int, int64, float64 and json.Number in their shortest
// decimal form, as JavaScript writes numbers (1.5, 3, 1e+21, 1e-7; -0 as 0,
// NaN and ±Infinity by name); booleans as true or false; nil as null; maps,
// slices and any other type as their JSON encoding, indented by two spaces
// like JSON.stringify(v, null, 2), without HTML escaping (a JSON string
// result is written unquoted, and a value JSON cannot encode renders as null).
//
// A value is falsy when it is unmapped, Absent, nil, false, "", "false", "0"
// or a numeric zero; any other value, such as "NONE", 0.5 or an empty slice,
// is truthy. == and != compare the value's string form, exact and
// case-sensitive, with maps and slices in compact JSON. An unmapped or Absent
// value is never equal to a literal, so != is true for it (rule D4).
//
// A line holding only a conditional tag and spaces or tabs is removed with
// its line ending (\n or \r\n), so that tag lines leave no blank lines
// (Handlebars "standalone" tags). Placeholders and includes are never removed.
package template

import (
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/octrun/octrun/protocol/diag"
)

const (
	// maxDepth is how many levels includes may nest.
	maxDepth = 32
	// maxSize bounds a prompt's text with its includes expanded, in bytes.
	maxSize = 4 << 20
)

// Source gives the compiler the text of prompt files.
type Source interface {
	// Read returns the text of the prompt at path (relative to prompts/,
	// with the .md suffix, '/' separated) and the file name to use in
	// diagnostics (e.g. "agents/x/prompts/shared/tone.md"). It returns an
	// error (wrapping fs.ErrNotExist when missing) if the file cannot be
	// read.
	Read(path string) (text []byte, file string, err error)
}

// RefKind says what a Ref is.
type RefKind int

const (
	// RefPlaceholder is a {{NAME}} placeholder.
	RefPlaceholder RefKind = iota
	// RefCondition is the condition of an {{#if}} or {{else if}}.
	RefCondition
)

// Op is the form of a condition.
type Op int

const (
	// OpNone is a placeholder, or the condition NAME (the value is truthy).
	OpNone Op = iota
	// OpNot is the condition !NAME (the value is falsy).
	OpNot
	// OpEq is the condition NAME == "literal".
	OpEq
	// OpNe is the condition NAME != "literal".
	OpNe

	// opElse is the condition of an {{else}} branch: always true.
	opElse
	// opNever is the condition of a malformed tag: never true.
	opNever
)

// Compares reports whether the condition compares its variable with a
// literal (== or !=).
func (o Op) Compares() bool { return o == OpEq || o == OpNe }

// Ref is a placeholder or a condition written in a prompt.
type Ref struct {
	Kind RefKind
	// Name is the variable the placeholder or condition uses.
	Name string
	// Op is the form of a condition; OpNone for a placeholder.
	Op Op
	// Literal is the value a condition compares with (without quotes), for
	// OpEq and OpNe.
	Literal string
	// Pos is where the tag's "{{" is written.
	Pos diag.Pos
}

// Template is a compiled prompt. It is safe for concurrent use.
type Template struct {
	nodes    []node
	size     int
	refs     []Ref
	includes []string
}

// Compile parses the prompt at path (e.g. "system.md"), expanding includes
// recursively at compile time, and reports every problem into diags. It
// returns a usable *Template even when there were errors (best effort): a
// faulty tag is kept as text and a malformed condition is never true. It
// never returns nil.
func Compile(path string, src Source, diags *diag.List) *Template {
	if diags == nil {
		diags = new(diag.List)
	}
	t := &Template{}
	if problem := checkPath(path); problem != "" {
		diags.Errorf(diag.Pos{File: path}, "prompt path %q %s", path, problem)
		return t
	}
	c := &compiler{src: src, diags: diags, files: map[string]*file{}}
	f := c.compile(path, diag.Pos{}, 0)
	if f == nil {
		return t
	}
	t.nodes, t.size = f.nodes, f.size
	t.collect(f.nodes, map[*file]bool{})
	return t
}

// Refs lists every placeholder and condition of the template, includes
// expanded, in the order they are written. A file included several times is
// listed once. Malformed conditions, already reported, are left out.
func (t *Template) Refs() []Ref { return slices.Clone(t.refs) }

// Includes lists the path of every file the template includes, directly or
// not, once each, in the order first included. Files that could not be read
// are left out.
func (t *Template) Includes() []string { return slices.Clone(t.includes) }

// collect gathers the refs and includes of nodes, walking each included file
// once.
func (t *Template) collect(nodes []node, seen map[*file]bool) {
	for i := range nodes {
		n := &nodes[i]
		switch n.kind {
		case nodeValue:
			t.refs = append(t.refs, Ref{Kind: RefPlaceholder, Name: n.name, Pos: n.pos})
		case nodeIf:
			for _, b := range n.branches {
				if b.cond.op <= OpNe {
					t.refs = append(t.refs, Ref{Kind: RefCondition, Name: b.cond.name, Op: b.cond.op, Literal: b.cond.lit, Pos: b.cond.pos})
				}
				t.collect(b.body, seen)
			}
		case nodeInclude:
			if !seen[n.file] {
				seen[n.file] = true
				t.includes = append(t.includes, n.file.path)
				t.collect(n.file.nodes, seen)
			}
		}
	}
}

// compiler holds the state of one Compile call.
type compiler struct {
	src   Source
	diags *diag.List
	// files holds each file compiled so far, by path.
	files map[string]*file
	// chain is the include chain of the file being compiled, root first.
	chain []string
	// sizeReported is set once the expanded size limit has been reported.
	sizeReported bool
}

// file is a compiled prompt file.
type file struct {
	path  string
	nodes []node
	// size is the length of the file's text with its includes expanded,
	// every branch counted.
	size int
	// height is how many levels of includes lie below the file.
	height int
}

// compile reads and parses the file at path, included at depth by the tag
// at at, or the root prompt when depth is 0. It returns nil if the file
// cannot be read.
func (c *compiler) compile(path string, at diag.Pos, depth int) *file {
	text, name, err := c.src.Read(path)
	if name == "" {
		name = path
	}
	what := "include"
	if depth == 0 {
		what, at = "prompt", diag.Pos{File: name}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.diags.Errorf(at, "%s %q not found%s", what, path, c.chainNote(path))
		return nil
	case err != nil:
		c.diags.Errorf(at, "cannot read %s %q: %v%s", what, path, err, c.chainNote(path))
		return nil
	case len(text) > maxSize:
		c.diags.Errorf(at, "%s %q is larger than %d MiB%s", what, path, maxSize>>20, c.chainNote(path))
		return nil
	}
	c.chain = append(c.chain, path)
	f := c.parse(path, string(text), name, depth)
	c.chain = c.chain[:len(c.chain)-1]
	c.files[path] = f
	return f
}

// include returns the compiled file for the include of path at depth by the
// tag at at, or nil after reporting why it cannot be included.
func (c *compiler) include(path string, at diag.Pos, depth int) *file {
	f, done := c.files[path]
	below := 0 // include levels below path, known once it is compiled
	if done {
		below = f.height
	}
	switch {
	case slices.Contains(c.chain, path):
		c.diags.Errorf(at, "circular include: %s", c.chainTo(path))
		return nil
	case depth+below > maxDepth:
		c.diags.Errorf(at, "includes nest more than %d levels deep (include chain: %s)", maxDepth, c.chainTo(path))
		return nil
	case done:
		return f
	}
	return c.compile(path, at, depth)
}

// chainTo returns the include chain that leads to path, as
// "system.md -> a.md -> path".
func (c *compiler) chainTo(path string) string {
	return strings.Join(append(slices.Clone(c.chain), path), " -> ")
}

// chainNote returns " (include chain: ...)" for an included path, or "" for
// the root prompt.
func (c *compiler) chainNote(path string) string {
	if len(c.chain) == 0 {
		return ""
	}
	return " (include chain: " + c.chainTo(path) + ")"
}

// checkPath returns why path cannot name a prompt file, or "" if it can.
func checkPath(path string) string {
	switch {
	case path == "":
		return "is empty: name a file relative to prompts/, like {{@shared/tone.md}}"
	case strings.TrimSpace(path) != path:
		return "has spaces around it: remove them"
	case strings.Contains(path, `\`):
		return `contains a backslash: separate folders with "/"`
	case path[0] == '/':
		return "is absolute: write it relative to prompts/"
	case slices.Contains(strings.Split(path, "/"), ".."):
		return `leaves prompts/: ".." is not allowed`
	case !fs.ValidPath(path):
		return `is not clean: remove empty and "." segments and any trailing "/"`
	case !strings.HasSuffix(path, ".md"):
		return "must end in .md"
	}
	return ""
}
