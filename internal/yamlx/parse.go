// Package yamlx reads YAML into position-carrying nodes for the protocol
// loader. It parses with limits that make hostile input an error instead of
// a crash or an explosion (file size, alias expansion, nesting), and offers
// small helpers that turn a wrong shape into a diagnostic at the node.
package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/octrun/octrun/protocol/diag"
)

// Limits bound what one YAML document may cost to read.
const (
	// MaxNodes is the most nodes a document may expand to, counting every
	// use of an alias as a copy of its anchor. It stops alias bombs.
	MaxNodes = 200_000
	// MaxDepth is the deepest nesting of mappings and lists accepted.
	MaxDepth = 64
)

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// Parse parses src (the text of file) and returns the content of its single
// document, with every alias replaced by the node it refers to and merge keys
// (<<) applied. Problems are added to diags; ok is false when the file
// cannot be used. An empty document gives a nil node and ok true. A "---"
// that starts a second document with content is an error at its line (the
// second document would be ignored); the first is still returned, for its
// own diagnostics. A trailing "---" with nothing after it is fine.
func Parse(file string, src []byte, diags *diag.List) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		syntaxError(file, src, err, diags)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil && emptyDocument(&next):
	case err == nil:
		diags.Errorf(diag.Pos{File: file, Line: next.Line, Col: next.Column},
			`"---" starts a second YAML document, which would be ignored: a file holds one document; remove this line (and the "..." before it, if any)`)
	case !errors.Is(err, io.EOF):
		syntaxError(file, src, err, diags)
		return nil, false
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, true
	}
	root = doc.Content[0]
	e := expander{file: file, size: map[*yaml.Node]int{}}
	if _, err := e.resolve(root, 0); err != nil {
		var pe *posError
		if errors.As(err, &pe) {
			diags.Errorf(diag.Pos{File: file, Line: pe.node.Line, Col: pe.node.Column}, "%s", pe.msg)
		}
		return nil, false
	}
	return root, true
}

// emptyDocument reports whether a document holds nothing: a trailing
// "---" (or one followed by comments only) ignores nothing.
func emptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == ""
}

// syntaxError adds the YAML parser's error at its line.
func syntaxError(file string, src []byte, err error, diags *diag.List) {
	line, msg := 1, err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = m[2]
	}
	diags.Errorf(diag.Pos{File: file, Line: line, Col: 1}, "invalid YAML: %s%s", msg, flowHint(src, line))
}

type posError struct {
	node *yaml.Node
	msg  string
}

func (e *posError) Error() string { return e.msg }

// expander resolves aliases in place while counting how large the document
// becomes when every alias is expanded. Sizes of anchored nodes (the only
// ones an alias can reach twice) are memoised, so the work is linear in the
// document as written even when the expansion is huge.
type expander struct {
	file string
	size map[*yaml.Node]int // expanded size of anchored nodes; -1 while being computed
}

// resolve resolves the aliases under n and returns n's expanded size.
func (e *expander) resolve(n *yaml.Node, depth int) (int, error) {
	if depth > MaxDepth {
		return 0, &posError{n, fmt.Sprintf("nesting is deeper than %d levels; flatten the structure", MaxDepth)}
	}
	anchored := n.Anchor != ""
	if anchored {
		switch s, seen := e.size[n]; {
		case seen && s < 0:
			return 0, &posError{n, "an alias refers to a node that contains it; remove the cycle"}
		case seen:
			return s, nil
		}
		e.size[n] = -1
	}
	total := 1
	for i, c := range n.Content {
		for c.Kind == yaml.AliasNode {
			if c.Alias == nil {
				return 0, &posError{c, "alias refers to an unknown anchor"}
			}
			c = c.Alias
		}
		n.Content[i] = c
		size, err := e.resolve(c, depth+1)
		if err != nil {
			return 0, err
		}
		total += size
		if total > MaxNodes {
			return 0, &posError{n, fmt.Sprintf("the document expands to more than %d nodes through aliases; use fewer aliases", MaxNodes)}
		}
	}
	if n.Kind == yaml.MappingNode {
		if err := applyMerges(n); err != nil {
			return 0, err
		}
	}
	if anchored {
		e.size[n] = total
	}
	return total, nil
}

// applyMerges replaces merge keys (<<: *base or <<: [*a, *b]) by the entries
// they bring in; keys written in the mapping itself win.
func applyMerges(n *yaml.Node) error {
	if !slices.ContainsFunc(n.Content, isMergeKey) {
		return nil
	}
	var merged []*yaml.Node
	own := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !isMergeKey(k) {
			own[k.Value] = true
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMergeKey(k) {
			merged = append(merged, k, v)
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			if src.Kind != yaml.MappingNode {
				return &posError{src, "a merge key (<<) must refer to a mapping or a list of mappings"}
			}
			for j := 0; j+1 < len(src.Content); j += 2 {
				if key := src.Content[j].Value; !own[key] {
					own[key] = true
					merged = append(merged, src.Content[j], src.Content[j+1])
				}
			}
		}
	}
	n.Content = merged
	return nil
}

// flowHint explains the most common YAML trap of protocols: inside a flow
// mapping ({ ... }), brackets end a plain value, so `type: Finding[]` must
// be quoted there.
func flowHint(src []byte, line int) string {
	for i, l := range bytes.Split(src, []byte("\n")) {
		if n := i + 1; n >= line-1 && n <= line+1 {
			if bytes.Contains(l, []byte("[]")) && bytes.Contains(l, []byte("{")) {
				return `; inside { } a type ending in [] must be quoted, as in { type: "Finding[]" }`
			}
		}
	}
	return ""
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}
