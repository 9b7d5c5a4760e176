package blocks

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/threads"
)

// StartThread creates a named thread: it resolves the thread's settings,
// renders its system prompt and registers it with no messages.
type StartThread struct {
	step *protocol.Step
	def  *protocol.StartThread
}

// defaultMaxSteps is the number of model steps of a next-message when the
// thread does not set maxSteps (D10): one generation, no tool loop.
const defaultMaxSteps = 1

// Run implements Block.
func (b *StartThread) Run(_ context.Context, env *Env) error {
	d := b.def
	cfg := ThreadConfig{
		MaxSteps:            defaultMaxSteps,
		MaxOutputTokens:     int(d.MaxOutputTokens.Value),
		MaxToolOutputTokens: int(d.MaxToolOutputTokens.Value),
		LoopGuard:           d.LoopGuard.Value,
	}
	r := settingResolver{values: env.State.Values, block: b.step.Name.Value}
	var err error
	if cfg.Model, err = r.model("model", d.Model); err != nil {
		return err
	}
	if cfg.Model == "" {
		return executionError("block %q: the thread has no model: %s was not supplied", b.step.Name.Value, d.Model.Var)
	}
	if cfg.BackupModel, err = r.model("backupModel", d.BackupModel); err != nil {
		return err
	}
	if cfg.Temperature, err = r.temperature(d.Temperature); err != nil {
		return err
	}
	if cfg.Thinking, err = r.word("thinking", d.Thinking, "low", "medium", "high", "max", "off"); err != nil {
		return err
	}
	if _, err = r.word("speed", d.Speed, "fast", "standard"); err != nil {
		return err
	}
	if steps, err := r.positiveInt("maxSteps", d.MaxSteps); err != nil {
		return err
	} else if steps > 0 {
		cfg.MaxSteps = steps
	}
	for _, t := range d.Tools {
		cfg.Tools = append(cfg.Tools, t.Value)
	}
	for _, w := range d.Workers {
		cfg.Workers = append(cfg.Workers, w.Value)
	}
	for _, ns := range d.MCPServers {
		cfg.MCPServers = append(cfg.MCPServers, ns.Value)
	}
	for _, r := range d.References {
		cfg.References = append(cfg.References, r.Value)
	}
	system := renderPrompt(env, d.System.Value, d.Input) + referenceListing(env.Protocol, cfg.References)
	env.State.Threads[d.ThreadName] = &Thread{
		Thread: threads.Thread{Name: d.ThreadName, System: system},
		Config: cfg,
	}
	return nil
}

// settingResolver reads literal-or-variable settings at run time
// (PROTOCOL.md 9.3): a variable that has no value leaves the setting unset.
type settingResolver struct {
	values map[string]any
	block  string
}

// lookup returns the setting's value and whether it is set.
func (r settingResolver) lookup(s protocol.Setting) (any, bool) {
	if !s.IsSet() {
		return nil, false
	}
	if s.Var == "" {
		return s.Literal, true
	}
	v, ok := r.values[s.Var]
	return v, ok && v != nil
}

func (r settingResolver) invalid(field string, s protocol.Setting, v any, want string) error {
	return executionError("block %q: %s from %s must be %s, got %s", r.block, field, s.Var, want, describe(v))
}

var modelID = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*/\S+$`)

func (r settingResolver) model(field string, s protocol.Setting) (string, error) {
	v, ok := r.lookup(s)
	if !ok {
		return "", nil
	}
	if m, isStr := v.(string); isStr && modelID.MatchString(m) {
		return m, nil
	}
	return "", r.invalid(field, s, v, "provider/model-id")
}

func (r settingResolver) temperature(s protocol.Setting) (*float64, error) {
	v, ok := r.lookup(s)
	if !ok || v == "off" {
		return nil, nil
	}
	if f, isNum := number(v); isNum && f >= 0 && f <= 2 {
		return &f, nil
	}
	return nil, r.invalid("temperature", s, v, `a number from 0 to 2 or "off"`)
}

func (r settingResolver) word(field string, s protocol.Setting, allowed ...string) (string, error) {
	v, ok := r.lookup(s)
	if !ok {
		return "", nil
	}
	if w, isStr := v.(string); isStr && slices.Contains(allowed, w) {
		return w, nil
	}
	return "", r.invalid(field, s, v, fmt.Sprintf("one of %v", allowed))
}

func (r settingResolver) positiveInt(field string, s protocol.Setting) (int, error) {
	v, ok := r.lookup(s)
	if !ok {
		return 0, nil
	}
	if f, isNum := number(v); isNum && f >= 1 && f == math.Trunc(f) && f <= math.MaxInt32 {
		return int(f), nil
	}
	return 0, r.invalid(field, s, v, "a positive whole number")
}

// number reads a number from a JSON-like value; numeric strings count
// (PROTOCOL.md 9.3).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// describe renders a value for an error message.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
