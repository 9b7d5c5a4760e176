package protocol

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/octrun/octrun/llm/provider"
	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/protocol/template"
)

// defaultDisplay is each block kind's display mode when none is written
// (rule §3.1; run-worker takes its declaration's, which defaults to
// stream).
var defaultDisplay = map[string]string{
	KindStartThread:     "hidden",
	KindAddMessage:      "hidden",
	KindNextMessage:     "stream",
	KindToolCall:        "description",
	KindRunWorker:       "stream",
	KindSerializeThread: "name",
	KindSetResource:     "name",
	KindGenerateImage:   "description",
	KindGenerateSpeech:  "description",
	KindTranscribeAudio: "description",
}

// DisplayMode returns the block's display mode after defaults.
func (s *Step) DisplayMode(p *Protocol) string {
	b := s.Block.Base()
	if b.Display.IsSet() {
		return b.Display.Value
	}
	if rw, ok := s.Block.(*RunWorker); ok {
		if w := p.Worker(rw.Worker.Value); w != nil && w.Display.IsSet() {
			return w.Display.Value
		}
	}
	return defaultDisplay[s.Block.Kind()]
}

func (v *validator) checkSteps() {
	for _, s := range v.p.Steps {
		what := fmt.Sprintf("%s block %q", s.Block.Kind(), s.Name.Value)
		base := s.Block.Base()
		v.checkDisplay(what, base.Display, base.Title)
		switch b := s.Block.(type) {
		case *StartThread:
			v.checkStartThread(s, b, what)
		case *AddMessage:
			v.useThread(s, what, "main")
			v.checkAddMessage(s, b, what)
		case *NextMessage:
			v.useThread(s, what, "main")
			v.checkNextMessage(b, what)
		case *SerializeThread:
			v.useThread(s, what, "main")
			v.checkSerialize(s, b, what)
		case *ToolCall:
			v.useThread(s, what, "")
			v.checkToolCall(s, b, what)
		case *RunWorker:
			v.useThread(s, what, "")
			v.checkRunWorker(s, b, what)
		case *SetResource:
			v.checkSetResource(s, b, what)
		case *GenerateImage:
			v.useThread(s, what, "")
			v.checkGenerateImage(s, b, what)
		case *GenerateSpeech:
			v.useThread(s, what, "")
			v.checkGenerateSpeech(s, b, what)
		case *TranscribeAudio:
			v.useThread(s, what, "")
			v.checkTranscribeAudio(s, b, what)
		}
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

var cacheModes = []string{"auto", "extended", "off"}

// maxSandboxTimeout is the largest sandboxTimeout accepted (1 hour).
const maxSandboxTimeout = 3_600_000

func (v *validator) checkStartThread(s *Step, b *StartThread, what string) {
	name := b.Thread.Or(s.Name.Value)
	b.ThreadName = name
	if first := v.threads[name]; first != nil {
		v.errorf(v.threadPos(s), "%s starts thread %q again; block %q already started it at line %d. A thread is started once: give this one another thread name", what, name, first.Name.Value, first.Name.Pos.Line)
	} else {
		v.threads[name] = s
	}
	if !b.System.IsSet() {
		v.needs(s, "system", "%s needs a system prompt: add system: <prompt name> naming a file in prompts/ (without .md)", what)
	} else {
		v.checkPrompt(what, b.System, b.Input)
	}
	v.checkMappingSources(what, b.Input)
	if !b.Model.IsSet() {
		v.needs(s, "model", "%s needs a model: add model: provider/model-id (like openai/gpt-4o-mini) or the name of an input that holds one", what)
	}
	v.checkModelSetting(what+" model", b.Model, modelRule)
	v.checkModelSetting(what+" backupModel", b.BackupModel, backupModelRule)
	v.checkSetting(what+" temperature", b.Temperature, temperatureRule)
	v.checkSetting(what+" thinking", b.Thinking, thinkingRule)
	v.checkSetting(what+" speed", b.Speed, speedRule)
	if model, ok := b.Model.Literal.(string); ok && b.Speed.Literal == "fast" && !fastCapable(model) {
		v.warnf(b.Speed.Pos, "%s speed: fast has no effect on %s: only Anthropic Opus models (4.6 and later) have a fast mode (rule §9.1.15)", what, model)
	}
	v.checkSetting(what+" maxSteps", b.MaxSteps, maxStepsRule)
	b.settings = compileThreadSettings(b)
	if b.Cache.IsSet() && !slices.Contains(cacheModes, b.Cache.Value) {
		v.errorf(b.Cache.Pos, "%s cache %q is not a cache mode: use %s%s", what, b.Cache.Value, listOf(cacheModes), didYouMean(b.Cache.Value, cacheModes))
	}
	for field, n := range map[string]Int{"maxOutputTokens": b.MaxOutputTokens, "maxToolOutputTokens": b.MaxToolOutputTokens, "maxImageDimension": b.MaxImageDimension} {
		if n.IsSet() && n.Value < 1 {
			v.errorf(n.Pos, "%s %s must be at least 1", what, field)
		}
	}
	if t := b.SandboxTimeout; t.IsSet() {
		if t.Value < 1 || t.Value > maxSandboxTimeout {
			v.errorf(t.Pos, "%s sandboxTimeout must be from 1 to %d milliseconds (one hour)", what, maxSandboxTimeout)
		} else {
			v.warnf(t.Pos, "%s sandboxTimeout has no effect: octrun has no skills sandbox", what)
		}
	}
	names := v.p.lookup()
	v.checkNameList(what, "tools", b.Tools, names.toolNames, "the tools section")
	v.checkNameList(what, "workers", b.Workers, names.workerSlugs, "the workers section")
	v.checkNameList(what, "mcpServers", b.MCPServers, names.mcpNames, "the mcpServers section")
	v.checkNameList(what, "references", b.References, sortedKeys(v.p.References), "references/")
	for _, r := range b.References {
		v.usedReferences[r.Value] = true
	}
	if len(b.OnDemandMCPServers) > 0 {
		v.errorf(b.OnDemandMCPServers[0].Pos, "%s onDemandMcpServers are not supported by octrun: on-demand MCP servers are connected by the Octavus platform; remove them", what)
	}
	if len(b.Skills) > 0 {
		v.errorf(b.Skills[0].Pos, "%s skills are not supported by octrun: skills run in the Octavus platform's sandbox; remove them", what)
	}
	if b.WebSearch.Value {
		v.errorf(b.WebSearch.Pos, "%s webSearch is not supported by octrun: the built-in octavus_web_search tool needs the Octavus platform; declare a search tool of your own", what)
	}
	if b.TodoList.Value {
		v.errorf(b.TodoList.Pos, "%s todoList is not supported by octrun: the built-in octavus_todo_write tool is not provided; remove it", what)
	}
	for field, m := range map[string]Str{"imageModel": b.ImageModel, "videoModel": b.VideoModel, "speechModel": b.SpeechModel, "speechVoice": b.SpeechVoice, "transcriptionModel": b.TranscriptionModel} {
		if m.IsSet() {
			v.errorf(m.Pos, "%s %s is not supported by octrun: it enables a built-in octavus_* media tool that octrun does not provide; use a generate-image, generate-speech or transcribe-audio block, or a tool of your own", what, field)
		}
	}
}

// fastCapable reports whether a model may honour speed: fast.
func fastCapable(model string) bool {
	return strings.HasPrefix(model, "anthropic/") && strings.Contains(model, "opus")
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

// checkNameList checks that every name of a start-thread list is declared.
func (v *validator) checkNameList(what, field string, names []Str, declared []string, section string) {
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case seen[n.Value]:
			v.errorf(n.Pos, "%s lists %q twice in %s", what, n.Value, field)
		case !slices.Contains(declared, n.Value):
			v.errorf(n.Pos, "%s %s: %q is not defined in %s%s", what, field, n.Value, section, didYouMean(n.Value, declared))
		}
		seen[n.Value] = true
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

var roles = []string{"assistant", "system", "user"}

func (v *validator) checkAddMessage(s *Step, b *AddMessage, what string) {
	switch {
	case !b.Role.IsSet():
		v.needs(s, "role", "%s needs a role: user, assistant or system", what)
	case !slices.Contains(roles, b.Role.Value):
		v.errorf(b.Role.Pos, "%s role %q is not a role: use %s%s", what, b.Role.Value, listOf(roles), didYouMean(b.Role.Value, roles))
	}
	if !b.Prompt.IsSet() {
		v.needs(s, "prompt", "%s needs a prompt: add prompt: <prompt name> naming a file in prompts/ (without .md)", what)
	} else {
		v.checkPrompt(what, b.Prompt, b.Input)
	}
	v.checkMappingSources(what, b.Input)
	if b.UIContent.IsSet() {
		v.checkReadable(what+" uiContent", b.UIContent)
	}
	for _, f := range b.Files {
		v.checkReadable(what+" files", f)
	}
}

func (v *validator) checkNextMessage(b *NextMessage, what string) {
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
	if rt := b.ResponseType; rt.IsSet() {
		switch {
		case !hasType(v.p, rt.Value):
			v.errorf(rt.Pos, "%s responseType %q is not a type defined under types:%s", what, rt.Value, didYouMean(rt.Value, v.p.Types.Names()))
		case !v.p.Types.IsObject(rt.Value):
			v.errorf(rt.Pos, "%s responseType %q must be an object type, not a union or array type; wrap it in an object property", what, rt.Value)
		}
	}
}

var serializeFormats = []string{"json", "markdown"}

func (v *validator) checkSerialize(s *Step, b *SerializeThread, what string) {
	if b.Format.IsSet() && !slices.Contains(serializeFormats, b.Format.Value) {
		v.errorf(b.Format.Pos, "%s format %q is not a format: use markdown or json%s", what, b.Format.Value, didYouMean(b.Format.Value, serializeFormats))
	}
	if !b.Output.IsSet() {
		v.needs(s, "output", "%s needs an output: the variable that receives the serialized thread", what)
	} else {
		v.checkWritable(what+" output", b.Output)
	}
}

func (v *validator) checkToolCall(s *Step, b *ToolCall, what string) {
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
	if !b.Tool.IsSet() {
		v.needs(s, "tool", "%s needs a tool: the name of a tool under tools:", what)
		return
	}
	tool := v.p.Tool(b.Tool.Value)
	if tool == nil {
		v.errorf(b.Tool.Pos, "%s tool %q is not defined in the tools section%s", what, b.Tool.Value, didYouMean(b.Tool.Value, v.p.lookup().toolNames))
		return
	}
	params := map[string]*ParamDef{}
	var takes, required []string
	for _, p := range tool.Parameters {
		params[p.Name.Value] = p
		takes = append(takes, p.Name.Value)
		if !p.Optional {
			required = append(required, p.Name.Value)
		}
	}
	passed := make([]Str, len(b.Input))
	for i, a := range b.Input {
		passed[i] = a.Name
		if p := params[a.Name.Value]; p != nil && a.Ref == "" && p.Type.OK {
			for _, problem := range v.problems(p.Type.Expr, a.Literal) {
				v.errorf(a.Pos, "%s passes %s to parameter %q of type %s: %s", what, formatLiteral(a.Literal), a.Name.Value, p.Type.Value, problem)
			}
		}
	}
	v.checkArgs(s, what, "parameter", fmt.Sprintf("tool %q", b.Tool.Value), passed, takes, required)
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

func (v *validator) checkRunWorker(s *Step, b *RunWorker, what string) {
	for _, m := range b.Input {
		v.checkReadable(what+" input "+m.Label.Value, m.Source)
	}
	if !b.Worker.IsSet() {
		v.needs(s, "worker", "%s needs a worker: the slug of a worker declared under workers:", what)
		return
	}
	decl := v.p.Worker(b.Worker.Value)
	if decl == nil {
		v.errorf(b.Worker.Pos, "%s worker %q is not declared in the workers section%s", what, b.Worker.Value, didYouMean(b.Worker.Value, v.p.lookup().workerSlugs))
		return
	}
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
	callee := decl.Protocol
	if callee == nil {
		return
	}
	var takes, required []string
	for _, in := range callee.Inputs {
		takes = append(takes, in.Name.Value)
		if !in.Optional && !in.HasDefault {
			required = append(required, in.Name.Value)
		}
	}
	passed := make([]Str, len(b.Input))
	for i, m := range b.Input {
		passed[i] = m.Label
	}
	v.checkArgs(s, what, "input", fmt.Sprintf("worker %q", b.Worker.Value), passed, takes, required)
	if b.Output.IsSet() && !callee.Output.IsSet() {
		v.errorf(b.Output.Pos, "%s assigns the output of worker %q, but that worker declares no output", what, b.Worker.Value)
	}
}

func (v *validator) checkSetResource(s *Step, b *SetResource, what string) {
	v.warnf(b.KindPos, "%s: set-resource is deprecated (rule D13); prefer variables and the worker's output", what)
	if !b.Resource.IsSet() {
		v.needs(s, "resource", "%s needs a resource: the name of a resource under resources:", what)
	} else if r := v.resources[b.Resource.Value]; r == nil {
		v.errorf(b.Resource.Pos, "%s resource %q is not declared in the resources section%s", what, b.Resource.Value, didYouMean(b.Resource.Value, sortedKeys(v.resources)))
	} else if r.Readonly {
		v.errorf(b.Resource.Pos, "%s writes resource %q, which is readonly", what, b.Resource.Value)
	}
	if !b.Value.IsSet() {
		v.needs(s, "value", "%s needs a value: the input or variable whose value is written", what)
	} else {
		v.checkReadable(what+" value", b.Value)
	}
}

var (
	aspectRatio        = regexp.MustCompile(`^[1-9][0-9]*:[1-9][0-9]*$`)
	imageResolutions   = []string{"1K", "2K", "4K"}
	imageSizes         = []string{"1024x1024", "1024x1792", "1792x1024"}
	speechFormats      = []string{"aac", "flac", "mp3", "opus", "wav"}
	languageCode       = regexp.MustCompile(`^[a-z]{2}$`)
	minSpeed, maxSpeed = 0.25, 4.0
)

// checkMediaModel checks a required literal model of a media block.
func (v *validator) checkMediaModel(s *Step, what, field string, m Str) {
	switch {
	case !m.IsSet():
		v.needs(s, field, "%s needs %s: provider/model-id", what, field)
	case !modelPattern.MatchString(m.Value):
		v.errorf(m.Pos, "%s %s %q must be written provider/model-id (like \"openai/gpt-image-1\")", what, field, m.Value)
	}
}

// checkRequiredValue checks a required field that names an input or
// variable.
func (v *validator) checkRequiredValue(s *Step, what, field, purpose string, name Str) {
	if !name.IsSet() {
		v.needs(s, field, "%s needs %s: the input or variable that holds %s", what, field, purpose)
		return
	}
	v.checkReadable(what+" "+field, name)
}

func (v *validator) checkGenerateImage(s *Step, b *GenerateImage, what string) {
	v.checkRequiredValue(s, what, "prompt", "the image prompt", b.Prompt)
	v.checkMediaModel(s, what, "imageModel", b.ImageModel)
	if b.AspectRatio.IsSet() && !aspectRatio.MatchString(b.AspectRatio.Value) {
		v.errorf(b.AspectRatio.Pos, "%s aspectRatio %q must be W:H, like 16:9", what, b.AspectRatio.Value)
	}
	if b.Resolution.IsSet() && !slices.Contains(imageResolutions, b.Resolution.Value) {
		v.errorf(b.Resolution.Pos, "%s resolution %q must be %s", what, b.Resolution.Value, listOf(imageResolutions))
	}
	if b.Size.IsSet() {
		if !slices.Contains(imageSizes, b.Size.Value) {
			v.errorf(b.Size.Pos, "%s size %q must be %s; better, use aspectRatio", what, b.Size.Value, listOf(imageSizes))
		} else {
			v.warnf(b.Size.Pos, "%s size is deprecated; use aspectRatio", what)
		}
	}
	for _, r := range b.ReferenceImages {
		v.checkReadable(what+" referenceImages", r)
	}
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
}

func (v *validator) checkGenerateSpeech(s *Step, b *GenerateSpeech, what string) {
	v.checkRequiredValue(s, what, "text", "the text to speak", b.Text)
	v.checkMediaModel(s, what, "speechModel", b.SpeechModel)
	if b.Format.IsSet() && !slices.Contains(speechFormats, b.Format.Value) {
		v.errorf(b.Format.Pos, "%s format %q must be %s", what, b.Format.Value, listOf(speechFormats))
	}
	if b.Language.IsSet() && !languageCode.MatchString(b.Language.Value) {
		v.errorf(b.Language.Pos, "%s language %q must be a two-letter ISO 639-1 code, like en", what, b.Language.Value)
	}
	if b.Speed.IsSet() && (b.Speed.Value < minSpeed || b.Speed.Value > maxSpeed) {
		v.errorf(b.Speed.Pos, "%s speed must be from %g to %g", what, minSpeed, maxSpeed)
	}
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
}

func (v *validator) checkTranscribeAudio(s *Step, b *TranscribeAudio, what string) {
	v.checkRequiredValue(s, what, "audio", "the audio file or URL", b.Audio)
	v.checkMediaModel(s, what, "transcriptionModel", b.TranscriptionModel)
	if b.Language.IsSet() && !languageCode.MatchString(b.Language.Value) {
		v.errorf(b.Language.Pos, "%s language %q must be a two-letter ISO 639-1 code, like en", what, b.Language.Value)
	}
	if b.Output.IsSet() {
		v.checkWritable(what+" output", b.Output)
	}
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
