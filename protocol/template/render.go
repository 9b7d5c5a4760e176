package template

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// absent is the type of Absent.
type absent struct{}

// Absent is the value a caller binds to a label that is mapped but has no
// value (an optional input not supplied, rule D3): it renders as NONE
// and is falsy.
var Absent any = absent{}

// Render renders the template with the block's input-mapping bindings:
// label -> value. A label missing from the map is unmapped: {{LABEL}} stays
// verbatim in the output; in a condition it is absent (falsy).
func (t *Template) Render(bindings map[string]any) string {
	var b strings.Builder
	b.Grow(t.size)
	render(&b, t.nodes, bindings)
	return b.String()
}

// render writes nodes to b.
func render(b *strings.Builder, nodes []node, vars map[string]any) {
	for i := range nodes {
		n := &nodes[i]
		switch n.kind {
		case nodeText:
			b.WriteString(n.text)
		case nodeValue:
			if v, ok := vars[n.name]; ok {
				writeValue(b, v)
			} else {
				b.WriteString(n.text)
			}
		case nodeIf:
			for j := range n.branches {
				if br := &n.branches[j]; br.cond.holds(vars) {
					render(b, br.body, vars)
					break
				}
			}
		case nodeInclude:
			render(b, n.file.nodes, vars)
		}
	}
}

// writeValue writes the string form of v to b.
func writeValue(b *strings.Builder, v any) {
	if s, ok := v.(string); ok {
		b.WriteString(s)
		return
	}
	var buf [64]byte
	b.Write(appendForm(buf[:0], v, true))
}

// holds reports whether the condition is true with vars.
func (k *cond) holds(vars map[string]any) bool {
	switch k.op {
	case opElse:
		return true
	case opNever:
		return false
	}
	v, ok := vars[k.name]
	if _, isAbsent := v.(absent); isAbsent {
		ok = false
	}
	switch k.op {
	case OpNot:
		return !ok || !truthy(v)
	case OpEq:
		return ok && equals(v, k.lit)
	case OpNe:
		return !ok || !equals(v, k.lit)
	}
	return ok && truthy(v)
}

// truthy reports whether a bound value is truthy: anything but nil, false,
// "", "false", "0" and a numeric zero. Other types act as their JSON
// encoding.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil, absent:
		return false
	case string:
		return v != "" && v != "false" && v != "0"
	case bool:
		return v
	case int:
		return v != 0
	case int64:
		return v != 0
	case float64:
		return v != 0
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return err != nil || f != 0
	}
	data, err := json.Marshal(v)
	if err != nil {
		return false // renders as null
	}
	switch data[0] {
	case '"':
		var s string
		return json.Unmarshal(data, &s) == nil && truthy(s)
	case 'n', 'f':
		return false
	case '{', '[', 't':
		return true
	}
	return truthy(json.Number(data))
}

// equals reports whether the string form of v, with maps and slices in
// compact JSON, is lit.
func equals(v any, lit string) bool {
	if s, ok := v.(string); ok {
		return s == lit
	}
	var buf [64]byte
	return string(appendForm(buf[:0], v, false)) == lit
}

// appendForm appends the string form of v to dst; pretty indents JSON.
// Callers handle strings themselves, without copying.
func appendForm(dst []byte, v any, pretty bool) []byte {
	switch v := v.(type) {
	case absent:
		return append(dst, "NONE"...)
	case nil:
		return append(dst, "null"...)
	case bool:
		return strconv.AppendBool(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10)
	case int64:
		return strconv.AppendInt(dst, v, 10)
	case float64:
		return appendFloat(dst, v)
	case json.Number:
		return appendNumber(dst, v)
	}
	return appendJSON(dst, v, pretty)
}

// appendFloat appends f as JavaScript writes a number, which is also how
// encoding/json writes a finite float64.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		return append(dst, '0') // -0 too
	}
	if abs := math.Abs(f); abs >= 1e-6 && abs < 1e21 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
	// Write 1e-7, not Go's 1e-07.
	if n := len(dst); dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
		dst[n-2] = dst[n-1]
		dst = dst[:n-1]
	}
	return dst
}

// appendNumber appends the JSON number n in its shortest form, as JavaScript
// would write it once parsed; n is appended as it is if it is not a number.
func appendNumber(dst []byte, n json.Number) []byte {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return strconv.AppendInt(dst, i, 10)
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil {
		return appendFloat(dst, f)
	}
	return append(dst, n...)
}

// appendJSON appends the JSON encoding of v without HTML escaping, indented
// by two spaces when pretty. A JSON string is appended unquoted, and a value
// that JSON cannot encode as null.
func appendJSON(dst []byte, v any, pretty bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if enc.Encode(v) != nil {
		return append(dst, "null"...)
	}
	data := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	var s string
	if data[0] == '"' && json.Unmarshal(data, &s) == nil {
		return append(dst, s...)
	}
	return append(dst, data...)
}
