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
	"slices"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/protocol/diag"
)

// Limits bound what one YAML document may cost to read.
const (
	// MaxNodes is the most nodes a document may expand to, counting every
	// use of an alias as a copy of its anchor. It stops alias bombs.
	MaxNodes = 200_000
	// MaxText is the most bytes of text (scalars, keys included) a
	// document may expand to, counting every use of an alias as a copy of
	// its anchor's text: the size of the largest protocol.yaml, so aliases
	// never make a document hold more than it could hold written out. It
	// stops alias bombs of long strings, which need few nodes.
	MaxText = 4 << 20
	// MaxDepth is the deepest nesting of mappings and lists accepted.
	MaxDepth = 64
)

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
		pos, msg := syntaxError(file, src, err)
		diags.Errorf(pos, "%s", msg)
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil && emptyDocument(&next):
	case err == nil:
		diags.Errorf(diag.Pos{File: file, Line: next.Line, Col: next.Column},
			`"---" starts a second YAML document, which would be ignored: a file holds one document; remove this line (and the "..." before it, if any)`)
	case !errors.Is(err, io.EOF):
		pos, msg := syntaxError(file, src, err)
		diags.Errorf(pos, "%s", msg)
		return nil, false
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, true
	}
	root = doc.Content[0]
	e := expander{file: file, size: map[*yaml.Node]size{}}
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

type posError struct {
	node *yaml.Node
	msg  string
}

func (e *posError) Error() string { return e.msg }

// expander resolves aliases in place while counting how large the document
// becomes when every alias is expanded, in nodes and in bytes of text.
// Sizes of anchored nodes (the only ones an alias can reach twice) are
// memoised, so the work is linear in the document as written even when the
// expansion is huge.
type expander struct {
	file string
	size map[*yaml.Node]size // expanded size of anchored nodes; nodes -1 while being computed
}

// size is how large a node is once every alias under it is expanded.
type size struct {
	nodes int // the node and every node under it
	text  int // bytes of its scalars, keys included
}

// resolve resolves the aliases under n and returns n's expanded size.
func (e *expander) resolve(n *yaml.Node, depth int) (size, error) {
	if depth > MaxDepth {
		return size{}, &posError{n, fmt.Sprintf("nesting is deeper than %d levels; flatten the structure", MaxDepth)}
	}
	anchored := n.Anchor != ""
	if anchored {
		switch s, seen := e.size[n]; {
		case seen && s.nodes < 0:
			return size{}, &posError{n, "an alias refers to a node that contains it; remove the cycle"}
		case seen:
			return s, nil
		}
		e.size[n] = size{nodes: -1}
	}
	total := size{nodes: 1, text: len(n.Value)}
	for i, c := range n.Content {
		for c.Kind == yaml.AliasNode {
			if c.Alias == nil {
				return size{}, &posError{c, "alias refers to an unknown anchor"}
			}
			c = c.Alias
		}
		n.Content[i] = c
		s, err := e.resolve(c, depth+1)
		if err != nil {
			return size{}, err
		}
		total.nodes += s.nodes
		total.text += s.text
		switch {
		case total.nodes > MaxNodes:
			return size{}, &posError{n, fmt.Sprintf("the document expands to more than %d nodes through aliases; use fewer aliases", MaxNodes)}
		case total.text > MaxText:
			return size{}, &posError{n, fmt.Sprintf("the document expands to more than %d bytes of text through aliases (each use of an alias copies its anchor's text); use fewer aliases of long values", MaxText)}
		}
	}
	if n.Kind == yaml.MappingNode {
		if err := applyMerges(n); err != nil {
			return size{}, err
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

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Tag == "!!merge"
}
