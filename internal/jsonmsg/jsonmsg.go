// Package jsonmsg words the errors of encoding/json for the people who
// wrote the JSON: in JSON terms (an object, an array, a string, a number,
// field "a.b"), never in the Go types the JSON was decoded into, which
// encoding/json names ("cannot unmarshal string into Go struct field
// executeRequest.input of type map[string]interface {}").
package jsonmsg

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Error returns err, an error of decoding JSON, worded in JSON terms; it
// wraps err. Other errors, and nil, are returned as they are.
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := Describe(err)
	if msg == err.Error() {
		return err
	}
	return &wrapped{msg: msg, err: err}
}

// Describe words err in JSON terms: `field "a.b": expected a string, got
// a number` for a value of the wrong JSON type; the message of encoding/json
// without its "json: " prefix for the others (a syntax error, an unknown
// field); "the JSON ends too early" for a cut document.
func Describe(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		msg := fmt.Sprintf("expected %s, got %s", expected(typeErr.Type), got(typeErr.Value))
		if typeErr.Field != "" {
			msg = fmt.Sprintf("field %q: %s", typeErr.Field, msg)
		}
		return msg
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// expected names the JSON values that decode into t.
func expected(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return expected(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another kind of value"
}

// got names the JSON value encoding/json describes as value: "string",
// "number", "number 1.5", "bool", "array", "object".
func got(value string) string {
	switch {
	case value == "string":
		return "a string"
	case value == "number":
		return "a number"
	case strings.HasPrefix(value, "number "):
		return "the number " + strings.TrimPrefix(value, "number ")
	case value == "bool":
		return "a boolean"
	case value == "array":
		return "an array"
	case value == "object":
		return "an object"
	}
	return value
}
