package runtime_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/runtime"
)

func TestCommandTool(t *testing.T) {
	ctx := context.Background()
	args := map[string]any{"city": "Brest", "days": 2}

	got, err := runtime.CommandTool(`cat`, time.Second)(ctx, args)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"city": "Brest", "days": json.Number("2")}, got, "the arguments arrive as JSON on stdin; JSON output is the result")

	got, err = runtime.CommandTool(`echo "sunny in Brest"`, time.Second)(ctx, args)
	require.NoError(t, err)
	assert.Equal(t, "sunny in Brest", got, "output that is not JSON is text")

	got, err = runtime.CommandTool(`printf '[1,2]]]]'`, time.Second)(ctx, args)
	require.NoError(t, err)
	assert.Equal(t, "[1,2]]]]", got, "JSON followed by stray brackets is not JSON: the output is kept as text, whole")
	got, err = runtime.CommandTool(`printf '{"a":1}}\n'`, time.Second)(ctx, args)
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}}`, got)

	_, err = runtime.CommandTool(`echo "no such city" >&2; exit 3`, time.Second)(ctx, args)
	require.EqualError(t, err, "the command failed (exit status 3): no such city")

	start := time.Now()
	_, err = runtime.CommandTool(`sleep 30 & sleep 30`, 200*time.Millisecond)(ctx, args)
	require.EqualError(t, err, "the command timed out after 200ms")
	assert.Less(t, time.Since(start), 5*time.Second, "the command and its children are killed")
}

// A command's standard output is read up to runtime.MaxCommandOutput: one
// that writes more is stopped and fails, saying so.
func TestCommandToolCapsItsOutput(t *testing.T) {
	limit := runtime.MaxCommandOutput
	got, err := runtime.CommandTool(`head -c `+strconv.Itoa(limit)+` /dev/zero | tr '\0' x`, 10*time.Second)(t.Context(), nil)
	require.NoError(t, err)
	assert.True(t, got == strings.Repeat("x", limit), "up to the limit, the whole output")

	_, err = runtime.CommandTool(`head -c `+strconv.Itoa(limit+1)+` /dev/zero | tr '\0' x`, 10*time.Second)(t.Context(), nil)
	require.EqualError(t, err, "the command wrote more than 10 MiB to standard output; it was stopped")

	start := time.Now()
	_, err = runtime.CommandTool(`yes`, 10*time.Second)(t.Context(), nil)
	require.EqualError(t, err, "the command wrote more than 10 MiB to standard output; it was stopped")
	assert.Less(t, time.Since(start), 5*time.Second, "stopped, not timed out")
}
