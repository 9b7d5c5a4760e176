package blocks

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// marshalValue encodes a value for an event, without HTML escaping.
func marshalValue(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("cannot encode %T as JSON: %w", v, err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// mustMarshal encodes a value known to be JSON-compatible (decoded from
// JSON or YAML); a value that is not becomes null.
func mustMarshal(v any) json.RawMessage {
	raw, err := marshalValue(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return raw
}

// decodeJSON decodes JSON text keeping numbers exact (json.Number).
func decodeJSON(text string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected text after the JSON value")
	}
	return v, nil
}
