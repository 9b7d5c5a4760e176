// Package diag holds the diagnostics that loading and validating a worker
// protocol produce: a position (file, line, column), a severity and a message
// that states the rule broken and, where it is obvious, the fix.
//
// Problems are collected, never thrown: a List gathers every diagnostic of a
// pass so that a user sees all of them at once.
package diag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Severity says whether a diagnostic stops the protocol from running.
type Severity int

const (
	// Error makes the protocol invalid: nothing is run.
	Error Severity = iota
	// Warning is reported but does not stop the run.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalJSON writes the severity as its name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	switch name {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	default:
		return fmt.Errorf("unknown severity %q", name)
	}
	return nil
}

// Pos is a place in a source file. Line and Col are 1-based; a zero Line
// means the diagnostic is about the file as a whole.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"column"`
}

// String formats the position as file:line:col (or just file when Line is 0).
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Diagnostic is one problem found in a protocol.
type Diagnostic struct {
	Pos
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// String formats the diagnostic as "file:line:col: severity: message".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Message)
}

// List collects diagnostics. The zero value is ready to use.
type List []Diagnostic

// Errorf adds an error at pos.
func (l *List) Errorf(pos Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: Error, Message: fmt.Sprintf(format, args...)})
}

// Warnf adds a warning at pos.
func (l *List) Warnf(pos Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: Warning, Message: fmt.Sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	return slices.ContainsFunc(l, func(d Diagnostic) bool { return d.Severity == Error })
}

// Errors returns the diagnostics of severity Error.
func (l List) Errors() List {
	return slices.DeleteFunc(slices.Clone(l), func(d Diagnostic) bool { return d.Severity != Error })
}

// Sort orders the diagnostics by file, line and column, keeping the order
// in which they were found for equal positions, and drops exact repeats.
func (l List) Sort() List {
	slices.SortStableFunc(l, func(a, b Diagnostic) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return slices.Compact(l)
}

// Error joins the diagnostics one per line, so that a List can be returned
// as an error.
func (l List) Error() string {
	var b strings.Builder
	for i, d := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Write prints each diagnostic as "file:line:col: severity: message", then,
// when source returns the file's text, the offending line and a caret under
// the column.
func Write(w io.Writer, l List, source func(file string) []byte) error {
	var b bytes.Buffer
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
		if d.Line > 0 && source != nil {
			if line, ok := sourceLine(source(d.File), d.Line); ok {
				b.WriteString("    ")
				b.WriteString(line)
				b.WriteString("\n    ")
				b.WriteString(caretPad(line, d.Col))
				b.WriteString("^\n")
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// sourceLine returns line n (1-based) of src without its line ending.
func sourceLine(src []byte, n int) (string, bool) {
	for i := 1; len(src) > 0; i++ {
		line, rest, _ := bytes.Cut(src, []byte("\n"))
		if i == n {
			return strings.TrimRight(string(line), "\r"), true
		}
		src = rest
	}
	return "", false
}

// caretPad returns the white space that puts a caret under column col
// (1-based, counted in characters), keeping tabs so the caret lines up.
func caretPad(line string, col int) string {
	var b strings.Builder
	i := 1
	for _, r := range line {
		if i >= col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		i++
	}
	return b.String()
}
