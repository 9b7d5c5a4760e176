package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/protocol/diag"
)

// syntaxError turns the YAML library's error for src into a diagnostic at
// the problem itself: the library's problem mark (where it found what it
// could not read), not its context mark (where the construct it was
// reading began, which the message names instead). A problem at the end
// of the file, such as a bracket or a quote never closed, is placed just
// after the last text of the file. Reader errors (text that is not UTF-8,
// control characters) carry only a byte offset, which is turned into a
// line and column.
func syntaxError(file string, src []byte, err error) (diag.Pos, string) {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		line, msg := fallbackLine(err)
		return diag.Pos{File: file, Line: line, Col: 1}, "invalid YAML: " + msg + flowHint(src, line)
	}
	// Do the arithmetic on the text as the library counts it: without a
	// byte order mark, as UTF-8. A reader error's offset counts the raw
	// bytes, the mark included.
	text, off := src, le.Mark.Index
	switch {
	case utf16Text(src):
		text, off = utf8Of(src), len(utf8Of(src[:min(off, len(src))]))
	case bytes.HasPrefix(src, utf8BOM):
		text, off = src[len(utf8BOM):], max(off-len(utf8BOM), 0)
	}
	if le.Stage != yaml.ReaderStage {
		off = markOffset(text, le.Mark.Line, le.Mark.Column)
	}
	line, col := lineCol(text, off)
	msg := "invalid YAML: " + le.Message
	if c := le.ContextMark; le.ContextMsg != "" && c.Line > 0 {
		if cl, cc := lineCol(text, markOffset(text, c.Line, c.Column)); cl != line || cc != col {
			msg += fmt.Sprintf(" (%s that starts at line %d, column %d)", le.ContextMsg, cl, cc)
		}
	}
	return diag.Pos{File: file, Line: line, Col: col}, msg + syntaxHint(text, off, le) + flowHint(text, line)
}

// syntaxHint says how to fix the most common YAML mistakes, when the
// problem makes it plain.
func syntaxHint(src []byte, off int, le *yaml.LoadError) string {
	switch {
	case off < len(src) && src[off] == '\t':
		return "; YAML indents with spaces: replace the tab"
	case le.Message == "did not find expected ',' or ']'":
		return "; close the list with ] and separate its items with commas"
	case le.Message == "did not find expected ',' or '}'":
		return "; close the mapping with } and separate its entries with commas"
	case le.Message == "found unexpected end of stream" && strings.Contains(le.ContextMsg, "quoted scalar"):
		return "; close the quoted text with the quote it opens with"
	case le.Message == "mapping values are not allowed in this context":
		return `; quote a text that holds ": ", or indent this line like the keys beside it`
	case le.Message == "did not find expected key":
		return "; indent this line like the keys beside it, and write nothing after a closing quote or bracket"
	}
	return ""
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

// markOffset returns the byte offset of a 1-based line and column (in
// characters, as the YAML library counts them) of src; a place past the
// end of a line or of the file is its end.
func markOffset(src []byte, line, col int) int {
	off := 0
	for ; line > 1; line-- {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	for ; col > 1 && off < len(src) && src[off] != '\n'; col-- {
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	return off
}

// lineCol returns the 1-based line and column (in characters) of a byte
// offset of src. A place in the white space that ends the file (the end
// of the file, where the library finds a bracket or a quote never closed)
// is placed just after the last text of the file.
func lineCol(src []byte, off int) (line, col int) {
	off = min(off, len(bytes.TrimRight(src, " \t\r\n")))
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return 1 + bytes.Count(src[:off], []byte("\n")), 1 + utf8.RuneCount(src[start:off])
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// utf16Text reports whether src starts with a UTF-16 byte order mark.
func utf16Text(src []byte) bool {
	return bytes.HasPrefix(src, []byte{0xFF, 0xFE}) || bytes.HasPrefix(src, []byte{0xFE, 0xFF})
}

// utf8Of returns UTF-16 text (with its byte order mark) as UTF-8, without
// the mark; an odd last byte is left out, a lone surrogate becomes U+FFFD.
func utf8Of(src []byte) []byte {
	units := make([]uint16, 0, len(src)/2)
	for i := 2; i+1 < len(src); i += 2 {
		if src[0] == 0xFF {
			units = append(units, uint16(src[i])|uint16(src[i+1])<<8)
		} else {
			units = append(units, uint16(src[i])<<8|uint16(src[i+1]))
		}
	}
	return []byte(string(utf16.Decode(units)))
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// fallbackLine reads the line out of an error that carries no position
// (the library gives every syntax error one; this is for anything else).
func fallbackLine(err error) (int, string) {
	line, msg := 1, err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = m[2]
	}
	return max(line, 1), msg
}
