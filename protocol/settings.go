package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The rules of a start-thread's settings that may be written literally or
// read from an input or variable when the block runs (rule §9.1
// rules 5 and 6, rule §9.3): model, backupModel, temperature, thinking, speed
// and maxSteps. Each rule is defined once, here: the validator applies it
// to literal values when the protocol loads (reporting positions), and
// StartThread.Resolve applies it to the values of inputs and variables
// when the block runs. A value accepted at load time is accepted at run
// time and the other way round.

// Temperature range of a thread (or "off").
const (
	MinTemperature = 0.0
	MaxTemperature = 2.0
)

var (
	thinkingLevels = []string{"high", "low", "max", "medium", "off"}
	speeds         = []string{"fast", "standard"}
	modelPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*/\S+$`)
)

// ThinkingLevels returns the values of thinking, sorted.
func ThinkingLevels() []string { return slices.Clone(thinkingLevels) }

// Speeds returns the values of speed, sorted.
func Speeds() []string { return slices.Clone(speeds) }

// settingRule is the rule of one setting.
type settingRule struct {
	field string
	// want says what a value must be, as the run-time error says it.
	want string
	// written says what a value written in the protocol must be, offering
	// the name of an input or variable too, as the validator says it.
	written string
	// accept returns the value in its resolved form, or false.
	accept func(v any) (any, bool)
}

// orVariable is what every setting may be instead of a literal.
const orVariable = ", or the name of an input or variable"

var (
	modelRule = &settingRule{
		field:   "model",
		want:    "provider/model-id",
		written: `written provider/model-id (like "openai/gpt-4o-mini"), or be the name of an input or variable`,
		accept: func(v any) (any, bool) {
			m, ok := v.(string)
			return m, ok && modelPattern.MatchString(m)
		},
	}
	backupModelRule = &settingRule{field: "backupModel", want: modelRule.want, written: modelRule.written, accept: modelRule.accept}
	temperatureRule = &settingRule{
		field:   "temperature",
		want:    fmt.Sprintf(`a number from %g to %g or "off"`, MinTemperature, MaxTemperature),
		written: fmt.Sprintf(`a number from %g to %g, "off"`, MinTemperature, MaxTemperature) + orVariable,
		accept: func(v any) (any, bool) {
			if v == "off" {
				return (*float64)(nil), true
			}
			f, ok := numeric(v)
			return &f, ok && f >= MinTemperature && f <= MaxTemperature
		},
	}
	thinkingRule = oneOfRule("thinking", thinkingLevels)
	speedRule    = oneOfRule("speed", speeds)
	maxStepsRule = &settingRule{
		field:   "maxSteps",
		want:    "a whole number of at least 1",
		written: "a whole number of at least 1" + orVariable,
		accept: func(v any) (any, bool) {
			f, ok := numeric(v)
			return int(f), ok && f >= 1 && f == math.Trunc(f) && f <= math.MaxInt32
		},
	}
)

func oneOfRule(field string, allowed []string) *settingRule {
	return &settingRule{
		field:   field,
		want:    listOf(allowed),
		written: listOf(allowed) + orVariable,
		accept: func(v any) (any, bool) {
			s, ok := v.(string)
			return s, ok && slices.Contains(allowed, s)
		},
	}
}

// check applies the rule to a value; the error names no variable.
func (r *settingRule) check(v any) (any, error) {
	if out, ok := r.accept(v); ok {
		return out, nil
	}
	return nil, &SettingError{Field: r.field, Value: v, Want: r.want}
}

// SettingError is a value that breaks the rule of a setting.
type SettingError struct {
	// Field is the setting: model, backupModel, temperature, thinking,
	// speed or maxSteps.
	Field string
	// Var is the input or variable the value was read from; "" for a
	// literal.
	Var string
	// Value is the value as read.
	Value any
	// Want says what the value must be.
	Want string
}

func (e *SettingError) Error() string {
	from := ""
	if e.Var != "" {
		from = " from " + e.Var
	}
	return fmt.Sprintf("%s%s must be %s, got %s", e.Field, from, e.Want, DescribeValue(e.Value))
}

// CheckModel checks a model: provider/model-id.
func CheckModel(v any) (string, error) {
	out, err := modelRule.check(v)
	m, _ := out.(string)
	return m, err
}

// CheckTemperature checks a temperature: a number from MinTemperature to
// MaxTemperature (a numeric string counts), or "off", which gives nil.
func CheckTemperature(v any) (*float64, error) {
	out, err := temperatureRule.check(v)
	t, _ := out.(*float64)
	return t, err
}

// CheckThinking checks a thinking level (ThinkingLevels).
func CheckThinking(v any) (string, error) {
	out, err := thinkingRule.check(v)
	s, _ := out.(string)
	return s, err
}

// CheckSpeed checks a speed (Speeds).
func CheckSpeed(v any) (string, error) {
	out, err := speedRule.check(v)
	s, _ := out.(string)
	return s, err
}

// CheckMaxSteps checks maxSteps: a whole number of at least 1 (a numeric
// string counts).
func CheckMaxSteps(v any) (int, error) {
	out, err := maxStepsRule.check(v)
	n, _ := out.(int)
	return n, err
}

// Number returns the value of a number as a JSON or YAML decoder may give
// it: any Go integer or float type, or a json.Number. Infinities, NaN and
// everything else (strings included) are not numbers.
func Number(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case int:
		f = float64(n)
	case int8:
		f = float64(n)
	case int16:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint:
		f = float64(n)
	case uint8:
		f = float64(n)
	case uint16:
		f = float64(n)
	case uint32:
		f = float64(n)
	case uint64:
		f = float64(n)
	case float32:
		f = float64(n)
	case float64:
		f = n
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// numeric is Number, with numeric strings counting too (rule §9.3:
// temperature and maxSteps accept them).
func numeric(v any) (float64, bool) {
	s, ok := v.(string)
	if !ok {
		return Number(v)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

// DescribeValue renders a value for an error message: strings quoted,
// the rest as JSON.
func DescribeValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ThreadSettings are a start-thread's model settings with every value
// resolved. A setting that is not written, or whose input or variable has
// no value, is the zero value (the provider's default).
type ThreadSettings struct {
	Model, BackupModel string
	// Temperature is nil when none is sent (unset or "off").
	Temperature *float64
	Thinking    string
	Speed       string
	// MaxSteps is 0 when not set.
	MaxSteps int
}

// threadSettings is a start-thread's settings compiled when the protocol
// loads: literals already checked and converted, variables to read.
type threadSettings struct {
	model, backupModel, temperature, thinking, speed, maxSteps compiledSetting
}

// compiledSetting is one setting: a literal's resolved value (or the
// error of a literal that breaks the rule), or the variable to read.
type compiledSetting struct {
	rule  *settingRule
	set   bool
	value any
	err   error
	from  string
}

func compileSetting(r *settingRule, s Setting) compiledSetting {
	c := compiledSetting{rule: r, set: s.IsSet(), from: s.Var}
	if c.set && s.Var == "" {
		c.value, c.err = r.check(s.Literal)
	}
	return c
}

func compileThreadSettings(b *StartThread) *threadSettings {
	return &threadSettings{
		model:       compileSetting(modelRule, b.Model),
		backupModel: compileSetting(backupModelRule, b.BackupModel),
		temperature: compileSetting(temperatureRule, b.Temperature),
		thinking:    compileSetting(thinkingRule, b.Thinking),
		speed:       compileSetting(speedRule, b.Speed),
		maxSteps:    compileSetting(maxStepsRule, b.MaxSteps),
	}
}

// resolve returns the setting's value, or nil when it is unset.
func (c compiledSetting) resolve(values map[string]any) (any, error) {
	switch {
	case !c.set:
		return nil, nil
	case c.from == "":
		return c.value, c.err
	}
	v, ok := values[c.from]
	if !ok || v == nil {
		return nil, nil
	}
	out, ok := c.rule.accept(v)
	if !ok {
		return nil, &SettingError{Field: c.rule.field, Var: c.from, Value: v, Want: c.rule.want}
	}
	return out, nil
}

// Resolve resolves the block's settings with the values of the run's
// inputs and variables (rule §9.3): a literal is as written (and was
// checked when the protocol loaded); a setting read from an input or
// variable that has no value, or null, stays unset; a value that breaks
// the setting's rule is a *SettingError naming the variable and the rule.
// A thread needs a model: an unset one is an error naming the variable
// that was not supplied.
func (b *StartThread) Resolve(values map[string]any) (ThreadSettings, error) {
	c := b.settings
	if c == nil {
		c = compileThreadSettings(b)
	}
	var out ThreadSettings
	fields := []struct {
		setting compiledSetting
		set     func(any)
	}{
		{c.model, func(v any) { out.Model = v.(string) }},
		{c.backupModel, func(v any) { out.BackupModel = v.(string) }},
		{c.temperature, func(v any) { out.Temperature = v.(*float64) }},
		{c.thinking, func(v any) { out.Thinking = v.(string) }},
		{c.speed, func(v any) { out.Speed = v.(string) }},
		{c.maxSteps, func(v any) { out.MaxSteps = v.(int) }},
	}
	for i, f := range fields {
		v, err := f.setting.resolve(values)
		if err != nil {
			return ThreadSettings{}, err
		}
		if v != nil {
			f.set(v)
		}
		if i == 0 && out.Model == "" {
			if b.Model.Var != "" {
				return ThreadSettings{}, fmt.Errorf("the thread has no model: %s was not supplied", b.Model.Var)
			}
			return ThreadSettings{}, errors.New("the thread has no model")
		}
	}
	return out, nil
}
