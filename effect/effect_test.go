package effect

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
)

func TestArgsJSON(t *testing.T) {
	assert.JSONEq(t, `{}`, string(ArgsJSON("")))
	assert.JSONEq(t, `{"a":1}`, string(ArgsJSON(`{"a":1}`)))
	assert.JSONEq(t, `"{oops"`, string(ArgsJSON(`{oops`)), "text that is not JSON is kept as a string")
}

// A handler's result, error or panic is data; only cancellation is an
// error of the effect.
func TestRunTool(t *testing.T) {
	req := ToolRequest{Name: "t", CallID: "c", Args: map[string]any{"n": json.Number("1")}}
	res, err := RunTool(context.Background(), "x", req, func(ctx context.Context, args map[string]any) (any, error) {
		return map[string]any{"got": args["n"], "key": ToolCallKey(ctx)}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, ToolResult{Output: json.RawMessage(`{"got":1,"key":"x/c"}`), Canonical: true}, res, "the handler gets the idempotency key")

	res, err = RunTool(context.Background(), "x", req, func(context.Context, map[string]any) (any, error) { return nil, errors.New("down") })
	require.NoError(t, err)
	assert.Equal(t, ToolResult{Error: "down"}, res)

	res, err = RunTool(context.Background(), "x", req, func(context.Context, map[string]any) (any, error) { panic("boom") })
	require.NoError(t, err)
	assert.Equal(t, `tool "t" panicked: boom`, res.Error)

	// A result that JSON cannot hold is the call's error, naming the tool,
	// not a silent null.
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	list := []any{nil}
	list[0] = list
	for what, value := range map[string]any{
		"NaN":                 math.NaN(),
		"+Inf":                math.Inf(1),
		"-Inf in a map":       map[string]any{"x": math.Inf(-1)},
		"a channel":           make(chan int),
		"a func":              func() {},
		"a cyclic map":        cyclic,
		"a cyclic list":       list,
		"invalid RawMessage":  json.RawMessage(`{"a":`),
		"RawMessage in a map": map[string]any{"raw": json.RawMessage(`[1,2]]`)},
	} {
		res, err = RunTool(context.Background(), "x", req, func(context.Context, map[string]any) (any, error) { return value, nil })
		require.NoError(t, err, what)
		assert.Empty(t, res.Output, what)
		assert.Contains(t, res.Error, `tool "t" returned a result that is not JSON: `, what)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = RunTool(ctx, "x", req, func(ctx context.Context, _ map[string]any) (any, error) { return nil, ctx.Err() })
	assert.ErrorIs(t, err, context.Canceled)
}

// Every request and result survives JSON unchanged: a host may send them
// to another process.
func TestRequestsAndResultsRoundTrip(t *testing.T) {
	values := []any{
		&GenerateResult{WorkerIDs: []string{"", "w"}, Counter: 7},
		&ToolResult{Output: json.RawMessage(`{"a":[1,2]}`)},
		&ToolResult{Client: true},
		&AwaitRequest{Key: Key{ID: "x#3", Step: 2, Block: "b"}},
		&WorkerResult{Output: json.RawMessage(`"out"`), HasOutput: true},
	}
	for _, v := range values {
		data, err := json.Marshal(v)
		require.NoError(t, err)
		back := newOf(v)
		require.NoError(t, json.Unmarshal(data, back))
		assert.Equal(t, v, back)
	}
}

func newOf(v any) any {
	switch v.(type) {
	case *GenerateResult:
		return &GenerateResult{}
	case *ToolResult:
		return &ToolResult{}
	case *AwaitRequest:
		return &AwaitRequest{}
	case *WorkerResult:
		return &WorkerResult{}
	}
	panic("unknown")
}

// Ids are the prefix, the kind and the counter, in decimal.
func TestNumberedIDs(t *testing.T) {
	ids := IDs{Prefix: "exec_1", Counter: 9}
	assert.Equal(t, "exec_1-text10", ids.New("text"))
	assert.Equal(t, 10, ids.Counter)
	assert.Equal(t, "exec_1#9223372036854775807", NumberedID("exec_1", "#", math.MaxInt64))
	long := strings.Repeat("x", 100)
	assert.Equal(t, long+"-call-3", NumberedID(long, "-call", -3), "a prefix longer than the buffer")
}

// A result made of JSON's own values is encoded once and marked canonical:
// it is what decoding it and writing it again gives. Any other result is
// not marked, and is written again where it is used.
func TestRunToolEncodesPlainResultsOnce(t *testing.T) {
	type point struct{ Y, X int }
	for _, tc := range []struct {
		value     any
		canonical bool
	}{
		{map[string]any{"b": []any{1.5, 1e21, -0.0, 1e-7, json.Number("12345678901234567890"), nil, true}, "a": "<é>\n\u2028\x01"}, true},
		{[]any{map[string]any{}, []any{}, "", 3, int64(-4)}, true},
		{"tide", true},
		{nil, true},
		{point{Y: 1, X: 2}, false},
		{map[string]any{"p": point{}}, false},
		{[]string{"a"}, false},
		{"\xff", false},
		{map[string]any{"\xff": 1}, false},
	} {
		res, err := RunTool(context.Background(), "x", ToolRequest{Name: "t"}, func(context.Context, map[string]any) (any, error) { return tc.value, nil })
		require.NoError(t, err)
		assert.Equal(t, tc.canonical, res.Canonical, "%#v", tc.value)
		v, err := res.Value()
		require.NoError(t, err)
		if tc.canonical {
			assert.Equal(t, string(events.RawValue(v)), string(res.Output), "%#v", tc.value)
		}
	}
}
