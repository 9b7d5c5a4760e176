package jsonmsg_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/internal/jsonmsg"
)

type request struct {
	Input   map[string]any `json:"input"`
	Results []struct {
		ID    string `json:"toolCallId"`
		Count int    `json:"count"`
		Data  []byte `json:"data"`
		Score *float64
	} `json:"results"`
}

func TestDescribe(t *testing.T) {
	cases := []struct{ json, want string }{
		{`{"input": "x"}`, `field "input": expected an object, got a string`},
		{`{"results": {}}`, `field "results": expected an array, got an object`},
		{`{"results": [{"toolCallId": 5}]}`, `field "results.toolCallId": expected a string, got a number`},
		{`{"results": [{"count": 1.5}]}`, `field "results.count": expected a whole number, got the number 1.5`},
		{`{"results": [{"count": true}]}`, `field "results.count": expected a whole number, got a boolean`},
		{`{"results": [{"data": 1}]}`, `field "results.data": expected a base64 string, got a number`},
		{`{"results": [{"Score": "high"}]}`, `field "results.Score": expected a number, got a string`},
		{`[1]`, `expected an object, got an array`},
		{`{"input": }`, `invalid character '}' looking for beginning of value`},
	}
	for _, c := range cases {
		var r request
		err := json.Unmarshal([]byte(c.json), &r)
		require.Error(t, err, c.json)
		assert.Equal(t, c.want, jsonmsg.Describe(err), c.json)
		assert.EqualError(t, jsonmsg.Error(err), c.want)
		assert.True(t, errors.Is(jsonmsg.Error(err), err), "it wraps the error")
	}

	dec := json.NewDecoder(strings.NewReader(`{"input": {"a": 1}, "extra": 2}`))
	dec.DisallowUnknownFields()
	var r request
	assert.Equal(t, `unknown field "extra"`, jsonmsg.Describe(dec.Decode(&r)))

	dec = json.NewDecoder(strings.NewReader(`{"input": {"a": `))
	assert.Equal(t, "the JSON ends too early", jsonmsg.Describe(dec.Decode(&r)))

	assert.NoError(t, jsonmsg.Error(nil))
	other := errors.New("disk full")
	assert.Same(t, other, jsonmsg.Error(other))
}
