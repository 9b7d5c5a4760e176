package blocks

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
)

var at = diag.Pos{File: "p.yaml", Line: 1, Col: 1}

// rule §9.3: settings read from variables at run time, with the
// rules of the protocol package; a broken one fails the block.
func TestStartThreadSettings(t *testing.T) {
	values := map[string]any{
		"MODEL": "openai/gpt-4o", "BAD_MODEL": "gpt-4o", "TEMP": "0.4", "HOT": 3.5, "OFF": "off",
		"STEPS": json.Number("4"), "HALF": 2.5, "LEVEL": "high", "NULL": nil,
	}
	v := func(name string) protocol.Setting { return protocol.Setting{Var: name, Pos: at} }
	lit := func(x any) protocol.Setting { return protocol.Setting{Literal: x, Pos: at} }
	resolve := func(d protocol.StartThread) (protocol.ThreadSettings, error) {
		if !d.Model.IsSet() {
			d.Model = v("MODEL")
		}
		b := &StartThread{step: &protocol.Step{Name: protocol.Str{Value: "Start", Pos: at}}, def: &d}
		return b.settings(values)
	}

	s, err := resolve(protocol.StartThread{})
	require.NoError(t, err)
	assert.Equal(t, "openai/gpt-4o", s.Model)
	_, err = resolve(protocol.StartThread{Model: v("MISSING")})
	assert.EqualError(t, err, `block "Start": the thread has no model: MISSING was not supplied`)
	var blockErr *Error
	require.ErrorAs(t, err, &blockErr)
	assert.Equal(t, ErrExecution, blockErr.Type)
	_, err = resolve(protocol.StartThread{Model: v("BAD_MODEL")})
	assert.EqualError(t, err, `block "Start": model from BAD_MODEL must be provider/model-id, got "gpt-4o"`)
	s, err = resolve(protocol.StartThread{BackupModel: v("MISSING")})
	require.NoError(t, err, "a variable with no value leaves the setting unset")
	assert.Empty(t, s.BackupModel)

	s, err = resolve(protocol.StartThread{Temperature: v("TEMP")})
	require.NoError(t, err)
	assert.Equal(t, 0.4, *s.Temperature, "a numeric string counts")
	s, err = resolve(protocol.StartThread{Temperature: v("OFF")})
	require.NoError(t, err)
	assert.Nil(t, s.Temperature, `"off" sends no temperature`)
	s, err = resolve(protocol.StartThread{Temperature: v("NULL")})
	require.NoError(t, err)
	assert.Nil(t, s.Temperature)
	_, err = resolve(protocol.StartThread{Temperature: v("HOT")})
	assert.EqualError(t, err, `block "Start": temperature from HOT must be a number from 0 to 2 or "off", got 3.5`)
	s, err = resolve(protocol.StartThread{Temperature: lit(int64(1))})
	require.NoError(t, err)
	assert.Equal(t, 1.0, *s.Temperature)

	s, err = resolve(protocol.StartThread{MaxSteps: v("STEPS")})
	require.NoError(t, err)
	assert.Equal(t, 4, s.MaxSteps)
	_, err = resolve(protocol.StartThread{MaxSteps: v("HALF")})
	assert.Error(t, err)

	s, err = resolve(protocol.StartThread{Thinking: v("LEVEL")})
	require.NoError(t, err)
	assert.Equal(t, "high", s.Thinking)
	_, err = resolve(protocol.StartThread{Thinking: lit("extreme")})
	assert.Error(t, err)
}
