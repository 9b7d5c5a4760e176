package protocol_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// settingAgent is an agent whose start-thread writes field as text (a
// YAML literal or the name of the input V).
func settingAgent(field, text string) fstest.MapFS {
	model := "openai/gpt-4o-mini"
	if field == "model" {
		model = text
	}
	extra := ""
	if field != "model" {
		extra = fmt.Sprintf("    %s: %s\n", field, text)
	}
	return fstest.MapFS{
		"settings.json":     {Data: []byte(`{"slug": "s", "name": "S", "format": "worker"}`)},
		"prompts/system.md": {Data: []byte("You help.\n")},
		"protocol.yaml": {Data: []byte(fmt.Sprintf(`input:
  V: { type: string, optional: true }
steps:
  Start:
    block: start-thread
    thread: main
    model: %s
    system: system
%s`, model, extra))},
	}
}

// loadTimeProblem loads the agent with the literal and returns the error
// about the field, or "".
func loadTimeProblem(t *testing.T, field, literal string) string {
	t.Helper()
	p, _ := protocol.LoadFS(settingAgent(field, literal), ".")
	var problems []string
	for _, d := range p.Diagnostics {
		if d.Severity.String() == "error" {
			problems = append(problems, d.Message)
		}
	}
	require.LessOrEqual(t, len(problems), 1, "%s: %s: %v", field, literal, problems)
	if len(problems) == 1 {
		require.Contains(t, problems[0], `"Start" `+field+" must be", literal)
		return problems[0]
	}
	return ""
}

// runTimeResolve resolves the field read from the input V holding value.
func runTimeResolve(t *testing.T, field string, value any) (protocol.ThreadSettings, error) {
	t.Helper()
	p, err := protocol.LoadFS(settingAgent(field, "V"), ".")
	require.NoError(t, err, messages(p))
	return p.Steps[0].Block.(*protocol.StartThread).Resolve(map[string]any{"V": value})
}

// TestSettingRulesAgreeAtLoadAndRunTime checks each setting's rule on the
// same values written in the protocol (load time, the validator) and read
// from a variable (run time, StartThread.Resolve): both accept or refuse.
func TestSettingRulesAgreeAtLoadAndRunTime(t *testing.T) {
	type value struct {
		yaml string // as written in protocol.yaml
		held any    // as a variable holds it
		ok   bool
	}
	cases := map[string][]value{
		"model": {
			{"openai/gpt-4o", "openai/gpt-4o", true},
			{"acme/large", "acme/large", true}, // an unknown provider only warns
			{"gpt-4o", "gpt-4o", false},
			{"Openai/gpt-4o", "Openai/gpt-4o", false},
			{"7", int64(7), false},
		},
		"temperature": {
			{"0", int64(0), true},
			{"2", int64(2), true},
			{"1.5", 1.5, true},
			{"2.0", 2.0, true},
			{`"0.4"`, "0.4", true}, // a numeric string counts (rule §9.3)
			{"off", "off", true},
			{"2.5", 2.5, false},
			{"-1", int64(-1), false},
			{"true", true, false},
			{"hot", "hot", false},
			{"3", int(3), false},
			{`"NaN"`, "NaN", false},
		},
		"thinking": {
			{"high", "high", true},
			{"off", "off", true},
			{"max", "max", true},
			{"extreme", "extreme", false},
			{"1", int64(1), false},
		},
		"speed": {
			{"standard", "standard", true},
			{"fast", "fast", true},
			{"slow", "slow", false},
		},
		"maxSteps": {
			{"1", int64(1), true},
			{"8", int64(8), true},
			{"3.0", 3.0, true},
			{`"4"`, "4", true},
			{"0", int64(0), false},
			{"2.5", 2.5, false},
			{"-1", int64(-1), false},
			{"3000000000", int64(3000000000), false},
			{"many", "many", false},
		},
	}
	for field, values := range cases {
		for _, v := range values {
			t.Run(field+"="+v.yaml, func(t *testing.T) {
				atLoad := loadTimeProblem(t, field, v.yaml)
				assert.Equal(t, v.ok, atLoad == "", "load time: %s", atLoad)
				_, err := runTimeResolve(t, field, v.held)
				if v.ok {
					assert.NoError(t, err, "run time")
					return
				}
				var se *protocol.SettingError
				require.ErrorAs(t, err, &se, "run time")
				assert.Equal(t, field, se.Field)
				assert.Equal(t, "V", se.Var)
				// Both name the same rule.
				assert.Contains(t, err.Error(), field+" from V must be "+se.Want)
				assert.Contains(t, atLoad, strings.SplitN(se.Want, " or ", 2)[0])
			})
		}
	}
}

func TestResolveMessages(t *testing.T) {
	_, err := runTimeResolve(t, "temperature", 2.5)
	assert.EqualError(t, err, `temperature from V must be a number from 0 to 2 or "off", got 2.5`)
	_, err = runTimeResolve(t, "thinking", "extreme")
	assert.EqualError(t, err, `thinking from V must be high, low, max, medium or off, got "extreme"`)
	_, err = runTimeResolve(t, "speed", json.Number("1"))
	assert.EqualError(t, err, `speed from V must be fast or standard, got 1`)
	_, err = runTimeResolve(t, "maxSteps", 0.5)
	assert.EqualError(t, err, `maxSteps from V must be a whole number of at least 1, got 0.5`)
	_, err = runTimeResolve(t, "model", "gpt-4o")
	assert.EqualError(t, err, `model from V must be provider/model-id, got "gpt-4o"`)
	_, err = runTimeResolve(t, "model", nil)
	assert.EqualError(t, err, `the thread has no model: V was not supplied`)
}

func TestResolveValues(t *testing.T) {
	s, err := runTimeResolve(t, "temperature", json.Number("0.7"))
	require.NoError(t, err)
	assert.Equal(t, 0.7, *s.Temperature)
	s, err = runTimeResolve(t, "temperature", "off")
	require.NoError(t, err)
	assert.Nil(t, s.Temperature)
	s, err = runTimeResolve(t, "temperature", nil)
	require.NoError(t, err, "a null leaves the setting unset")
	assert.Nil(t, s.Temperature)
	s, err = runTimeResolve(t, "maxSteps", int(5))
	require.NoError(t, err)
	assert.Equal(t, 5, s.MaxSteps)
	s, err = runTimeResolve(t, "speed", "fast")
	require.NoError(t, err)
	assert.Equal(t, "fast", s.Speed)

	// Literals are compiled when the protocol loads.
	p, err := protocol.LoadFS(settingAgent("temperature", "1.25"), ".")
	require.NoError(t, err)
	s, err = p.Steps[0].Block.(*protocol.StartThread).Resolve(nil)
	require.NoError(t, err)
	assert.Equal(t, "openai/gpt-4o-mini", s.Model)
	assert.Equal(t, 1.25, *s.Temperature)
	assert.Zero(t, s.MaxSteps, "not written: unset")
}

func TestNumber(t *testing.T) {
	for _, v := range []any{int(3), int8(3), int16(3), int32(3), int64(3), uint(3), uint8(3), uint16(3), uint32(3), uint64(3), float32(3), float64(3), json.Number("3"), json.Number("3.0"), json.Number("3e0")} {
		f, ok := protocol.Number(v)
		assert.True(t, ok, "%T %v", v, v)
		assert.Equal(t, 3.0, f, "%T %v", v, v)
	}
	f, ok := protocol.Number(-0.25)
	assert.True(t, ok)
	assert.Equal(t, -0.25, f)
	for _, v := range []any{"3", nil, true, json.Number("x"), json.Number("1e400"), math.NaN(), math.Inf(1), []any{1}} {
		_, ok := protocol.Number(v)
		assert.False(t, ok, "%T %v", v, v)
	}
}

func TestCheckFunctions(t *testing.T) {
	m, err := protocol.CheckModel("anthropic/claude-opus-4-6")
	require.NoError(t, err)
	assert.Equal(t, "anthropic/claude-opus-4-6", m)
	_, err = protocol.CheckModel("claude")
	assert.EqualError(t, err, `model must be provider/model-id, got "claude"`)

	temp, err := protocol.CheckTemperature(json.Number("2"))
	require.NoError(t, err)
	assert.Equal(t, 2.0, *temp)
	temp, err = protocol.CheckTemperature("off")
	require.NoError(t, err)
	assert.Nil(t, temp)
	_, err = protocol.CheckTemperature(2.5)
	var se *protocol.SettingError
	require.True(t, errors.As(err, &se))
	assert.Equal(t, 2.5, se.Value)

	level, err := protocol.CheckThinking("medium")
	require.NoError(t, err)
	assert.Equal(t, "medium", level)
	_, err = protocol.CheckSpeed("slow")
	assert.Error(t, err)
	n, err := protocol.CheckMaxSteps("12")
	require.NoError(t, err)
	assert.Equal(t, 12, n)

	assert.Equal(t, []string{"high", "low", "max", "medium", "off"}, protocol.ThinkingLevels())
	assert.Equal(t, []string{"fast", "standard"}, protocol.Speeds())
}
