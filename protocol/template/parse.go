package template

import (
	"strings"
	"unicode/utf8"

	"github.com/octrun/octrun/protocol/diag"
)

// grammar is the condition grammar, quoted in diagnostics.
const grammar = `write NAME, !NAME, NAME == "value" or NAME != "value"`

// nodeKind says what a node is.
type nodeKind uint8

const (
	nodeText    nodeKind = iota // text written as is
	nodeValue                   // a {{NAME}} placeholder
	nodeIf                      // an {{#if}} ... {{/if}} conditional
	nodeInclude                 // an included file
)

// node is an element of a compiled template.
type node struct {
	kind nodeKind
	// text is the text of a nodeText, or the tag of a nodeValue (written
	// when the name is unmapped).
	text string
	// name and pos are the variable and the tag position of a nodeValue.
	name string
	pos  diag.Pos
	// branches are the branches of a nodeIf, in order.
	branches []branch
	// file is the file of a nodeInclude.
	file *file
}

// branch is one branch of a conditional: the first whose condition holds is
// rendered.
type branch struct {
	cond cond
	body []node
}

// cond is a branch's condition.
type cond struct {
	op   Op
	name string
	lit  string
	pos  diag.Pos
}

// tokKind says what a token is. Conditional tags come last.
type tokKind uint8

const (
	tokText tokKind = iota
	tokValue
	tokInclude
	tokIf
	tokElseIf
	tokElse
	tokEnd
)

// token is a run of text or a tag of a prompt file.
type token struct {
	kind tokKind
	// start and end are the token's byte offsets in the file.
	start, end int
	// arg is the name of a placeholder, the path of an include, or the
	// condition of an {{#if}} or {{else if}}.
	arg string
	// pos is where a tag starts.
	pos diag.Pos
}

// conditional reports whether the token is a conditional tag.
func (t *token) conditional() bool { return t.kind >= tokIf }

// lex splits src into text and tags. Text holds anything that is not a
// recognised tag.
func lex(src, file string) []token {
	var toks []token
	lines := cursor{src: src, line: 1, col: 1}
	text, i, end := 0, 0, -1 // text: start of the pending text; end: the next "}}"
	for {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			break
		}
		open := i + j
		if end < open+2 {
			k := strings.Index(src[open+2:], "}}")
			if k < 0 {
				break
			}
			end = open + 2 + k
		}
		if k := strings.Index(src[open+1:end], "{{"); k >= 0 {
			i = open + 1 + k // a later "{{" opens the tag
			continue
		}
		i = end + 2
		kind, arg, ok := classify(src[open+2 : end])
		if !ok {
			continue
		}
		if text < open {
			toks = append(toks, token{kind: tokText, start: text, end: open})
		}
		line, col := lines.at(open)
		toks = append(toks, token{kind: kind, start: open, end: i, arg: arg, pos: diag.Pos{File: file, Line: line, Col: col}})
		text = i
	}
	if text < len(src) {
		toks = append(toks, token{kind: tokText, start: text, end: len(src)})
	}
	return toks
}

// classify recognises the content of a tag (between the braces).
func classify(content string) (kind tokKind, arg string, ok bool) {
	if isName(content) {
		return tokValue, content, true
	}
	if path, ok := strings.CutPrefix(content, "@"); ok {
		return tokInclude, path, true
	}
	if c, ok := keyword(content, "#if"); ok {
		return tokIf, c, true
	}
	if rest, ok := keyword(content, "else"); ok {
		if rest == "" {
			return tokElse, "", true
		}
		if c, ok := keyword(rest, "if"); ok {
			return tokElseIf, c, true
		}
	}
	if rest, ok := keyword(content, "/if"); ok && rest == "" {
		return tokEnd, "", true
	}
	return 0, "", false
}

// keyword reports whether s is kw, alone or followed by white space, and
// returns what follows it, trimmed.
func keyword(s, kw string) (string, bool) {
	rest, ok := strings.CutPrefix(s, kw)
	if !ok || rest != "" && !strings.ContainsRune(" \t\r\n", rune(rest[0])) {
		return "", false
	}
	return strings.Trim(rest, " \t\r\n"), true
}

// isName reports whether s is UPPER_SNAKE_CASE: [A-Z][A-Z0-9_]*.
func isName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// cursor turns increasing byte offsets of a file into lines and columns.
type cursor struct {
	src       string
	off       int
	line, col int
}

// at returns the 1-based line and column (in characters) of offset off,
// which must not be before the previous one.
func (c *cursor) at(off int) (line, col int) {
	seg := c.src[c.off:off]
	if nl := strings.LastIndexByte(seg, '\n'); nl >= 0 {
		c.line += strings.Count(seg, "\n")
		c.col = 1
		seg = seg[nl+1:]
	}
	c.col += utf8.RuneCountInString(seg)
	c.off = off
	return c.line, c.col
}

// stripStandalone removes, from the text around them, the rest of the line
// of every conditional tag that is alone on its line, with the line ending.
func stripStandalone(src string, toks []token) {
	alone := make([]bool, len(toks))
	for i := range toks {
		alone[i] = toks[i].conditional() && blankBefore(src, toks, i) && blankAfter(src, toks, i)
	}
	for i, ok := range alone {
		if !ok {
			continue
		}
		if i > 0 {
			toks[i-1].end = strings.LastIndexByte(src[:toks[i-1].end], '\n') + 1
		}
		if i+1 < len(toks) {
			next := &toks[i+1]
			if nl := strings.IndexByte(src[next.start:next.end], '\n'); nl >= 0 {
				next.start += nl + 1
			} else {
				next.start = next.end
			}
		}
	}
}

// blankBefore reports whether only spaces and tabs precede tag i on its line.
func blankBefore(src string, toks []token, i int) bool {
	if i == 0 {
		return true
	}
	prev := toks[i-1]
	if prev.kind != tokText {
		return false
	}
	text := src[prev.start:prev.end]
	nl := strings.LastIndexByte(text, '\n')
	if nl < 0 && i > 1 {
		return false // a tag precedes on the same line
	}
	return isBlank(text[nl+1:])
}

// blankAfter reports whether only spaces and tabs follow tag i on its line.
func blankAfter(src string, toks []token, i int) bool {
	if i == len(toks)-1 {
		return true
	}
	next := toks[i+1]
	if next.kind != tokText {
		return false
	}
	text := src[next.start:next.end]
	nl := strings.IndexByte(text, '\n')
	if nl < 0 {
		if i+2 < len(toks) {
			return false // a tag follows on the same line
		}
		nl = len(text)
	}
	return isBlank(strings.TrimSuffix(text[:nl], "\r"))
}

// isBlank reports whether s holds only spaces and tabs.
func isBlank(s string) bool {
	return strings.Trim(s, " \t") == ""
}

// builder builds the tree of one file from its tokens.
type builder struct {
	c     *compiler
	depth int // include depth of the file
	// body is the node list being built; open the conditionals not yet
	// closed, innermost last.
	body []node
	open []openIf
	// text gathers consecutive text until the next node.
	text   strings.Builder
	size   int
	height int
}

// openIf is a conditional whose {{/if}} is not reached yet.
type openIf struct {
	outer    []node // the body the conditional belongs to
	branches []branch
	pos      diag.Pos
	hasElse  bool
}

// parse compiles the text of the prompt file at path, named name in
// diagnostics, included at depth.
func (c *compiler) parse(path, src, name string, depth int) *file {
	toks := lex(src, name)
	stripStandalone(src, toks)
	b := &builder{c: c, depth: depth}
	for _, t := range toks {
		tag := src[t.start:t.end]
		switch t.kind {
		case tokText:
			b.addText(tag)
		case tokValue:
			b.add(node{kind: nodeValue, text: tag, name: t.arg, pos: t.pos})
		case tokInclude:
			b.include(t, tag)
		case tokIf:
			b.flush()
			b.open = append(b.open, openIf{outer: b.body, pos: t.pos, branches: []branch{{cond: c.cond(t)}}})
			b.body = nil
		case tokElseIf, tokElse:
			b.branch(t, tag)
		case tokEnd:
			if len(b.open) == 0 {
				c.diags.Errorf(t.pos, "{{/if}} without a matching {{#if}}")
				b.addText(tag)
				continue
			}
			b.closeIf()
		}
	}
	for _, o := range b.open {
		c.diags.Errorf(o.pos, "unclosed {{#if}}: add a matching {{/if}}")
	}
	for len(b.open) > 0 {
		b.closeIf()
	}
	b.flush()
	return &file{path: path, nodes: b.body, size: b.size, height: b.height}
}

// addText appends text to the body.
func (b *builder) addText(s string) {
	b.text.WriteString(s)
	b.size += len(s)
}

// flush turns the gathered text into a node.
func (b *builder) flush() {
	if b.text.Len() > 0 {
		b.body = append(b.body, node{kind: nodeText, text: b.text.String()})
		b.text.Reset()
	}
}

// add appends a node other than text to the body.
func (b *builder) add(n node) {
	b.flush()
	b.body = append(b.body, n)
}

// include adds the include tag t (written as tag), or keeps the tag as text
// after reporting why the file cannot be included.
func (b *builder) include(t token, tag string) {
	c := b.c
	if problem := checkPath(t.arg); problem != "" {
		c.diags.Errorf(t.pos, "include path %q %s", t.arg, problem)
		b.addText(tag)
		return
	}
	f := c.include(t.arg, t.pos, b.depth+1)
	switch {
	case f == nil:
		b.addText(tag)
	case b.size+f.size > maxSize:
		if !c.sizeReported {
			c.sizeReported = true
			c.diags.Errorf(t.pos, "includes expand the prompt beyond %d MiB (include chain: %s)", maxSize>>20, c.chainTo(t.arg))
		}
		b.addText(tag)
	default:
		b.add(node{kind: nodeInclude, file: f})
		b.size += f.size
		b.height = max(b.height, f.height+1)
	}
}

// branch starts the {{else if}} or {{else}} branch t (written as tag) of the
// innermost open conditional.
func (b *builder) branch(t token, tag string) {
	c := b.c
	what := "{{else}}"
	if t.kind == tokElseIf {
		what = "{{else if}}"
	}
	if len(b.open) == 0 {
		c.diags.Errorf(t.pos, "%s without a matching {{#if}}", what)
		b.addText(tag)
		return
	}
	o := &b.open[len(b.open)-1]
	if o.hasElse {
		c.diags.Errorf(t.pos, "%s after {{else}}: {{else}} must be the last branch of an {{#if}}", what)
	}
	b.flush()
	o.branches[len(o.branches)-1].body = b.body
	b.body = nil
	next := cond{op: opElse, pos: t.pos}
	if t.kind == tokElseIf {
		next = c.cond(t)
	}
	o.branches = append(o.branches, branch{cond: next})
	o.hasElse = o.hasElse || t.kind == tokElse
}

// closeIf closes the innermost open conditional.
func (b *builder) closeIf() {
	b.flush()
	o := b.open[len(b.open)-1]
	b.open = b.open[:len(b.open)-1]
	o.branches[len(o.branches)-1].body = b.body
	b.body = append(o.outer, node{kind: nodeIf, branches: o.branches})
}

// cond parses the condition of the {{#if}} or {{else if}} tag t, reporting a
// malformed one, which never holds.
func (c *compiler) cond(t token) cond {
	if t.arg == "" {
		c.diags.Errorf(t.pos, "empty condition: %s", grammar)
		return cond{op: opNever, pos: t.pos}
	}
	k, hint, ok := parseCond(t.arg)
	if !ok {
		c.diags.Errorf(t.pos, "malformed condition %q: %s%s", t.arg, grammar, hint)
		return cond{op: opNever, pos: t.pos}
	}
	k.pos = t.pos
	return k
}

// parseCond parses COND := NAME | !NAME | NAME == "literal" | NAME != "literal"
// (s is trimmed). When s is malformed it returns ok false and possibly a hint
// on what is wrong.
func parseCond(s string) (k cond, hint string, ok bool) {
	if name, found := strings.CutPrefix(s, "!"); found {
		if !isName(name) {
			return cond{}, nameHint(name), false
		}
		return cond{op: OpNot, name: name}, "", true
	}
	n := 0
	for n < len(s) && isWordByte(s[n]) {
		n++
	}
	name, rest := s[:n], strings.TrimLeft(s[n:], " \t\r\n")
	if !isName(name) {
		return cond{}, nameHint(name), false
	}
	if rest == "" {
		return cond{op: OpNone, name: name}, "", true
	}
	var op Op
	switch {
	case strings.HasPrefix(rest, "=="):
		op = OpEq
	case strings.HasPrefix(rest, "!="):
		op = OpNe
	default:
		return cond{}, "", false
	}
	lit := strings.TrimLeft(rest[2:], " \t\r\n")
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' || strings.Contains(lit[1:len(lit)-1], `"`) {
		if !strings.Contains(lit, `"`) {
			hint = " (put the value in double quotes)"
		}
		return cond{}, hint, false
	}
	return cond{op: op, name: name, lit: lit[1 : len(lit)-1]}, "", true
}

// nameHint returns a hint when s looks like a variable name that is not
// UPPER_SNAKE_CASE.
func nameHint(s string) string {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return ""
		}
	}
	return " (names are UPPER_SNAKE_CASE)"
}

// isWordByte reports whether c is an ASCII letter, digit or underscore.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
