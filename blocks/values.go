package blocks

import (
	"bytes"
	"encoding/json"
	"fmt"
)

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
