package yamlx

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/protocol/diag"
)

// Reader turns nodes of one file into Go values, reporting each shape
// problem as a diagnostic at the node and going on, so that one pass finds
// every problem.
type Reader struct {
	File  string
	Diags *diag.List
}

// Pos returns the position of n in the reader's file.
func (r *Reader) Pos(n *yaml.Node) diag.Pos {
	if n == nil {
		return diag.Pos{File: r.File}
	}
	return diag.Pos{File: r.File, Line: n.Line, Col: n.Column}
}

// Errorf reports an error at n.
func (r *Reader) Errorf(n *yaml.Node, format string, args ...any) {
	r.Diags.Errorf(r.Pos(n), format, args...)
}

// Warnf reports a warning at n.
func (r *Reader) Warnf(n *yaml.Node, format string, args ...any) {
	r.Diags.Warnf(r.Pos(n), format, args...)
}

// Entry is one key of a mapping with its value.
type Entry struct {
	Key     string
	KeyNode *yaml.Node
	Value   *yaml.Node
}

// Describe names the kind of value n holds, for messages: "a mapping",
// "a list", "a number", "a string", "null".
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!null":
		return "nothing (null)"
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return "a string"
}

// Mapping returns the entries of a mapping in document order. what names the
// value in messages ("the input section"). Duplicate keys and keys that are
// not plain strings are reported; a null value is an empty mapping.
func (r *Reader) Mapping(n *yaml.Node, what string) []Entry {
	if n == nil || IsNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		r.Errorf(n, "%s must be a mapping of names to values, got %s", what, Describe(n))
		return nil
	}
	entries := make([]Entry, 0, len(n.Content)/2)
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.Errorf(k, "a key in %s must be a name, got %s", what, Describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			r.Errorf(k, "%q appears twice in %s (first at line %d); keys must be unique", k.Value, what, first.Line)
			continue
		}
		seen[k.Value] = k
		entries = append(entries, Entry{Key: k.Value, KeyNode: k, Value: v})
	}
	return entries
}

// IsNull reports whether n is an explicit or implicit null.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// IsString reports whether n is a scalar that YAML reads as a string.
func IsString(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!str"
}

// Name reads a scalar that must be a string (a name, a path, a model). It
// reports numbers, booleans, null and collections as errors.
func (r *Reader) Name(n *yaml.Node, what string) (string, bool) {
	if !IsString(n) {
		r.Errorf(n, "%s must be a string, got %s", what, Describe(n))
		return "", false
	}
	return n.Value, true
}

// Text reads free text (a description, a title). Any scalar is taken as
// written, so `description: 2024 report` and `title: yes` stay text.
func (r *Reader) Text(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || IsNull(n) {
		r.Errorf(n, "%s must be text, got %s", what, Describe(n))
		return "", false
	}
	return n.Value, true
}

// Bool reads a boolean.
func (r *Reader) Bool(n *yaml.Node, what string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		r.Errorf(n, "%s must be true or false, got %s", what, Describe(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		r.Errorf(n, "%s must be true or false: %v", what, err)
		return false, false
	}
	return b, true
}

// Int reads a whole number.
func (r *Reader) Int(n *yaml.Node, what string) (int64, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var v int64
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	}
	r.Errorf(n, "%s must be a whole number, got %s", what, Describe(n))
	return 0, false
}

// Float reads any number.
func (r *Reader) Float(n *yaml.Node, what string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		var v float64
		if err := n.Decode(&v); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v, true
		}
	}
	r.Errorf(n, "%s must be a number, got %s", what, Describe(n))
	return 0, false
}

// Sequence returns the items of a list; a null value is an empty list.
func (r *Reader) Sequence(n *yaml.Node, what string) []*yaml.Node {
	if n == nil || IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.Errorf(n, "%s must be a list, got %s", what, Describe(n))
		return nil
	}
	return n.Content
}

// Value converts n to the JSON-compatible Go value it denotes: string,
// float64 or int64, bool, nil, []any, map[string]any.
func (r *Reader) Value(n *yaml.Node) (any, bool) {
	v, err := Value(n)
	if err != nil {
		r.Errorf(err.node, "%s", err.msg)
		return nil, false
	}
	return v, true
}

// Value converts n to a JSON-compatible Go value. Integers become int64
// where they fit, other numbers float64.
func Value(n *yaml.Node) (any, *posError) {
	return value(n, 0)
}

func value(n *yaml.Node, depth int) (any, *posError) {
	if depth > MaxDepth {
		return nil, &posError{n, fmt.Sprintf("nesting is deeper than %d levels", MaxDepth)}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, &posError{k, "a mapping key must be a string, got " + Describe(k)}
			}
			if _, dup := m[k.Value]; dup {
				return nil, &posError{k, fmt.Sprintf("%q appears twice in this mapping; keys must be unique", k.Value)}
			}
			v, err := value(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := value(c, depth+1)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b, nil
			}
		case "!!int":
			var v int64
			if n.Decode(&v) == nil {
				return v, nil
			}
			var f float64
			if n.Decode(&f) == nil {
				return f, nil
			}
		case "!!float":
			var f float64
			if n.Decode(&f) == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, nil
			}
			return nil, &posError{n, fmt.Sprintf("%q is not a number JSON can hold", n.Value)}
		case "!!str", "!!timestamp":
			// A date stays the text it was written as: JSON has no dates.
			return n.Value, nil
		}
		return nil, &posError{n, fmt.Sprintf("values tagged %s are not supported; write plain JSON-like values", n.Tag)}
	}
	return nil, &posError{n, "unsupported YAML node"}
}

// CheckKeys reports every key of entries that is not in allowed, with a
// "did you mean" when a known key is close.
func (r *Reader) CheckKeys(entries []Entry, allowed []string, what string) {
	for _, e := range entries {
		if !slices.Contains(allowed, e.Key) {
			r.UnknownKey(e, allowed, what)
		}
	}
}

// UnknownKey reports that e's key is not one of known keys of what. A key
// with spaces is most often the tail of a text that a comma cut in two
// inside { }, so the message says so.
func (r *Reader) UnknownKey(e Entry, known []string, what string) {
	hint := diag.DidYouMean(e.Key, known)
	if hint == "" && strings.Contains(e.Key, " ") {
		hint = "; if it is the rest of a text, a comma inside { } ended that text: put the text in quotes"
	}
	r.Errorf(e.KeyNode, "unknown key %q in %s%s", e.Key, what, hint)
}
