package protocol

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/octrun/octrun/events"
)

// Inputs reach a run in one of two forms, and every host (the CLI, an HTTP
// server, a workflow worker) reads them with the functions below, so that
// the same text means the same value everywhere:
//
//   - a JSON object of inputs (DecodeInput), numbers kept exact as
//     json.Number;
//   - inputs written as text, NAME=VALUE (ParseInputArgs) or by name
//     (CoerceInputs), each VALUE read by the declared type of its input
//     (CoerceInput).
//
// Either way the result is then checked with ResolveInput (or by the run
// itself), which reports what is missing or does not fit the types and
// enums.

// InputTextError is an input written as text that cannot be read: it is not
// NAME=VALUE, or the value does not fit the input's declared type. A host shows it in its own terms: the CLI
// as "--input NAME: PROBLEM".
type InputTextError struct {
	// Input is the input's name; for text that is not NAME=VALUE, the whole
	// text, quoted.
	Input string
	// Problem says what is wrong and how to write it.
	Problem string
}

func (e *InputTextError) Error() string { return "input " + e.Input + ": " + e.Problem }

// DecodeInput reads a JSON object of inputs, keeping numbers exact
// (json.Number), as ResolveInput and the run expect them. The error is the
// JSON decoder's, or says that text follows the object; null is an empty
// input.
func DecodeInput(data []byte) (map[string]any, error) {
	v, err := events.DecodeValue(data)
	if err != nil {
		return nil, err
	}
	switch obj := v.(type) {
	case map[string]any:
		return obj, nil
	case nil:
		return map[string]any{}, nil
	}
	return nil, fmt.Errorf("got %s, not an object", jsonKind(v))
}

// jsonKind names the kind of a decoded JSON value.
func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// ParseInputArgs reads inputs written as NAME=VALUE (the CLI's -i flags), in
// order; a name given twice takes its last value. Each value is read by its
// input's declared type (see CoerceInput). The first problem is returned as
// an *InputTextError.
func (p *Protocol) ParseInputArgs(args []string) (map[string]any, error) {
	input := make(map[string]any, len(args))
	for _, arg := range args {
		name, text, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, &InputTextError{Input: strconv.Quote(arg), Problem: "write NAME=VALUE"}
		}
		v, err := p.CoerceInput(name, text)
		if err != nil {
			return nil, err
		}
		input[name] = v
	}
	return input, nil
}

// CoerceInputs reads inputs written as text, by name (form fields, query
// parameters), each by its input's declared type (see CoerceInput). The
// first problem in the order of the names is returned as an
// *InputTextError.
func (p *Protocol) CoerceInputs(texts map[string]string) (map[string]any, error) {
	input := make(map[string]any, len(texts))
	for _, name := range slices.Sorted(maps.Keys(texts)) {
		v, err := p.CoerceInput(name, texts[name])
		if err != nil {
			return nil, err
		}
		input[name] = v
	}
	return input, nil
}

// CoerceInput reads the text of the input name by its declared type: a
// string stays as written; number, integer and boolean are parsed (to
// float64, int64 and bool); any other type (objects, arrays, custom types,
// unknown) is JSON, with numbers as json.Number. A name the worker does
// not declare has no type to read it by: its text is kept as written, and
// the run ignores it with a warning (Protocol.InputWarnings, rule D18). A
// text that does not parse is an *InputTextError; whether the value fits
// the type in full (fields, enums) is for ResolveInput to say.
func (p *Protocol) CoerceInput(name, text string) (any, error) {
	i := slices.IndexFunc(p.Inputs, func(d *InputDef) bool { return d.Name.Value == name })
	if i < 0 {
		return text, nil
	}
	typ := p.Inputs[i].Type.Value
	v, err := coerce(typ, text)
	if err != nil {
		return nil, &InputTextError{Input: name, Problem: fmt.Sprintf("%q is not a valid %s: %v", text, typ, err)}
	}
	return v, nil
}

// coerce converts a text to a type: a string stays as written, number,
// integer and boolean are parsed, any other type is JSON.
func coerce(typ, text string) (any, error) {
	switch typ {
	case "string":
		return text, nil
	case "number":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("write a number, like 0.5")
		}
		return f, nil
	case "integer":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, errors.New("write a whole number, like 3")
		}
		return n, nil
	case "boolean":
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, errors.New("write true or false")
		}
		return b, nil
	}
	v, err := events.DecodeValue([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("write it as JSON: %v", err)
	}
	return v, nil
}
