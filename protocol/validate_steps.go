package protocol

import (
	"fmt"
	"slices"
	"strings"

	"github.com/octrun/octrun/llm/provider"
	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/protocol/template"
)

func (v *validator) checkSteps() {
	for _, s := range v.p.Steps {
		what := fmt.Sprintf("%s block %q", s.Block.Kind(), s.Name.Value)
		base := s.Block.Base()
		v.checkDisplay(what, base.Display, base.Title)
		def := kindOf(s.Block)
		switch def.thread {
		case threadMain:
			v.useThread(s, what, "main")
		case threadOptional:
			v.useThread(s, what, "")
		}
		def.check(v, s, what)
	}
}

// useThread resolves the block's thread (def when not written; "" means
// the block needs no thread) and checks that an earlier start-thread
// created it (rule D2).
func (v *validator) useThread(s *Step, what, def string) {
	base := s.Block.Base()
	name := base.Thread.Or(def)
	base.ThreadName = name
	if name == "" || v.threads[name] != nil {
		return
	}
	at := base.Thread.Pos
	if !base.Thread.IsSet() {
		at = s.Name.Pos
	}
	msg := fmt.Sprintf("%s uses thread %q, but no start-thread block before it creates that thread", what, name)
	if later := v.laterStart(s, name); later != nil {
		msg += fmt.Sprintf("; block %q starts it later, at line %d: move that block before this one", later.Name.Value, later.Name.Pos.Line)
	} else if started := sortedKeys(v.threads); len(started) > 0 {
		msg += fmt.Sprintf("; threads started so far: %s. Set thread: to one of them%s", quoted(started), didYouMean(name, started))
	} else {
		msg += "; add a start-thread block before it"
	}
	v.errorf(at, "%s", msg)
}

// laterStart returns the first start-thread after s that starts name.
func (v *validator) laterStart(s *Step, name string) *Step {
	i := slices.Index(v.p.Steps, s)
	for _, later := range v.p.Steps[i+1:] {
		if st, ok := later.Block.(*StartThread); ok && st.Thread.Or(later.Name.Value) == name {
			return later
		}
	}
	return nil
}

// threadPos is where a diagnostic about a block's thread points.
func (v *validator) threadPos(s *Step) diag.Pos {
	if t := s.Block.Base().Thread; t.IsSet() {
		return t.Pos
	}
	return s.Name.Pos
}

// checkSetting checks a literal-or-variable setting: a variable must be
// declared (rule §9.1.5), a literal must follow the setting's
// rule (the rule StartThread.Resolve applies to variables at run time).
func (v *validator) checkSetting(what string, s Setting, rule *settingRule) {
	if !s.IsSet() {
		return
	}
	if s.Var != "" {
		if !v.isDeclared(s.Var) {
			v.errorf(s.Pos, "%s refers to %s, which is not a declared input or variable%s", what, s.Var, didYouMean(s.Var, v.declaredNames()))
		}
		return
	}
	if _, ok := rule.accept(s.Literal); !ok {
		v.errorf(s.Pos, "%s must be %s; got %v", what, rule.written, formatLiteral(s.Literal))
	}
}

func formatLiteral(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// checkModelSetting checks a model written as provider/model-id, or a
// variable.
func (v *validator) checkModelSetting(what string, s Setting, rule *settingRule) {
	v.checkSetting(what, s, rule)
	if m, ok := s.Literal.(string); ok && s.Var == "" && modelPattern.MatchString(m) {
		prefix, _ := provider.Split(m)
		if _, known := provider.Lookup(prefix); !known {
			v.warnf(s.Pos, "%s: provider %q is not one octrun routes (%s); the call fails unless --llm-base-url sends every model call to one endpoint%s", what, prefix, listOf(knownProviders), didYouMean(prefix, knownProviders))
		}
	}
}

// checkMappingSources checks an input mapping: labels are prompt
// placeholders (UPPER_SNAKE_CASE), sources are declared values.
func (v *validator) checkMappingSources(what string, m []Mapping) {
	for _, e := range m {
		if !upperSnake.MatchString(e.Label.Value) {
			v.errorf(e.Label.Pos, "%s input label %q must be UPPER_SNAKE_CASE (like %q), as prompt placeholders are", what, e.Label.Value, toUpperSnake(e.Label.Value))
		}
		v.checkReadable(what+" input "+e.Label.Value, e.Source)
	}
}

// checkPrompt checks that a referenced prompt exists, compiles it, and
// checks its placeholders and conditions against the block's mapping.
func (v *validator) checkPrompt(what string, ref Str, m []Mapping) {
	name := ref.Value
	if !v.prompts.exists(name) {
		hint := didYouMean(name, v.prompts.names)
		if trimmed, ok := trimMD(name); ok && v.prompts.exists(trimmed) {
			hint = fmt.Sprintf("; prompts are named without .md: write %q", trimmed)
		}
		v.errorf(ref.Pos, "%s: prompt %q not found: there is no prompts/%s.md%s", what, name, name, hint)
		return
	}
	t := v.prompts.compile(name)
	labels := make(map[string]string, len(m))
	for _, e := range m {
		labels[e.Label.Value] = e.Source.Value
	}
	for _, r := range t.Refs() {
		source, mapped := labels[r.Name]
		switch {
		case r.Kind == template.RefPlaceholder && !mapped:
			v.warnf(r.Pos, "{{%s}} is not in the input of %s, so it is left as written; map it with input: [%s]", r.Name, what, r.Name)
		case r.Kind == template.RefCondition && !mapped:
			v.errorf(r.Pos, "the condition uses %s, which is not in the input of %s, so it is never true; map it with input: [%s]", r.Name, what, r.Name)
		case r.Kind == template.RefCondition && r.Op.Compares():
			if in := v.inputs[source]; in != nil && len(in.Enum) > 0 && !slices.Contains(in.Enum, r.Literal) {
				v.errorf(r.Pos, "the condition compares %s with %q, which is not a value of input %s (%s), so it can never be true for %s", r.Name, r.Literal, source, quoted(in.Enum), what)
			}
		}
	}
}

func trimMD(name string) (string, bool) {
	if len(name) > 3 && name[len(name)-3:] == ".md" {
		return name[:len(name)-3], true
	}
	return "", false
}

// checkArgs checks the names a block passes (tool parameters, worker
// inputs) against those the callee takes: unknown names are errors with a
// hint, and so are required names left out.
func (v *validator) checkArgs(s *Step, what, noun, callee string, passed []Str, takes, required []string) {
	given := map[string]bool{}
	for _, name := range passed {
		given[name.Value] = true
		if !slices.Contains(takes, name.Value) {
			v.errorf(name.Pos, "%s passes %q, which is not %s %s of %s%s", what, name.Value, article(noun), noun, callee, argHint(name.Value, noun, takes))
		}
	}
	for _, name := range required {
		if !given[name] {
			v.errorf(s.Name.Pos, "%s does not pass the required %s %q of %s; add it under input:", what, noun, name, callee)
		}
	}
}

func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an"
	}
	return "a"
}

func argHint(name, noun string, names []string) string {
	if hint := didYouMean(name, names); hint != "" {
		return hint
	}
	if len(names) == 0 {
		return fmt.Sprintf("; it takes no %ss", noun)
	}
	return fmt.Sprintf("; its %ss are %s", noun, quoted(names))
}

func hasType(p *Protocol, name string) bool {
	_, ok := p.Types.Lookup(name)
	return ok
}

// needs reports a missing required field of a block at the block's name,
// unless the field is written (then its own problem was reported already).
func (v *validator) needs(s *Step, field, format string, args ...any) {
	if !slices.Contains(s.Block.Base().written, field) {
		v.errorf(s.Name.Pos, format, args...)
	}
}
