package protocol

import (
	"github.com/octrun/octrun/internal/display"
	"slices"

	"go.yaml.in/yaml/v4"
)

// KindStartThread is the kind of a start-thread block.
const KindStartThread = "start-thread"

// StartThread creates a named LLM thread.
type StartThread struct {
	BlockBase
	Model, BackupModel             Setting
	System                         Str
	Input                          []Mapping
	Tools, Workers, MCPServers     []Str
	OnDemandMCPServers, Skills     []Str
	References                     []Str
	Thinking, Temperature, Speed   Setting
	MaxSteps                       Setting
	Cache                          Str
	MaxOutputTokens                Int
	MaxToolOutputTokens            Int
	MaxImageDimension              Int
	SandboxTimeout                 Int
	LoopGuard, WebSearch, TodoList Bool
	ImageModel, VideoModel         Str
	SpeechModel, SpeechVoice       Str
	TranscriptionModel             Str

	// settings is Model to MaxSteps compiled when the protocol loads.
	settings *threadSettings
}

// Kind returns "start-thread".
func (*StartThread) Kind() string { return KindStartThread }

// startThreadKind is the start-thread entry of the kinds registry.
var startThreadKind = kindDef{
	display: display.Hidden,
	thread:  threadStarts,
	decode:  (*decoder).startThread,
	check: func(v *validator, s *Step, what string) {
		v.checkStartThread(s, s.Block.(*StartThread), what)
	},
	models: func(b Block, values map[string]any, add func(string)) {
		st := b.(*StartThread)
		for _, setting := range []Setting{st.Model, st.BackupModel} {
			m, _ := setting.Literal.(string)
			if setting.Var != "" {
				m, _ = values[setting.Var].(string)
			}
			add(m)
		}
	},
}

// startThread returns an empty start-thread block and the readers of its
// fields.
func (d *decoder) startThread(what string) (Block, fields) {
	b := &StartThread{}
	agentLevel := func(field string) func(*yaml.Node) {
		return func(n *yaml.Node) {
			d.Errorf(n, "%s: %q is an agent-level setting of interactive agents and has no effect on a worker thread; remove it", what, field)
		}
	}
	return b, fields{
		"model":               d.setting(&b.Model, what+" model"),
		"backupModel":         d.setting(&b.BackupModel, what+" backupModel"),
		"system":              d.str(&b.System, what+" system"),
		"input":               d.inputMapping(&b.Input, what+" input"),
		"tools":               d.names(&b.Tools, what+" tools"),
		"workers":             d.names(&b.Workers, what+" workers"),
		"mcpServers":          d.names(&b.MCPServers, what+" mcpServers"),
		"onDemandMcpServers":  d.names(&b.OnDemandMCPServers, what+" onDemandMcpServers"),
		"skills":              d.names(&b.Skills, what+" skills"),
		"references":          d.names(&b.References, what+" references"),
		"thinking":            d.setting(&b.Thinking, what+" thinking"),
		"temperature":         d.setting(&b.Temperature, what+" temperature"),
		"speed":               d.setting(&b.Speed, what+" speed"),
		"maxSteps":            d.setting(&b.MaxSteps, what+" maxSteps"),
		"cache":               d.str(&b.Cache, what+" cache"),
		"maxOutputTokens":     d.integer(&b.MaxOutputTokens, what+" maxOutputTokens"),
		"maxToolOutputTokens": d.integer(&b.MaxToolOutputTokens, what+" maxToolOutputTokens"),
		"maxImageDimension":   d.integer(&b.MaxImageDimension, what+" maxImageDimension"),
		"sandboxTimeout":      d.integer(&b.SandboxTimeout, what+" sandboxTimeout"),
		"loopGuard":           d.boolean(&b.LoopGuard, what+" loopGuard"),
		"webSearch":           d.boolean(&b.WebSearch, what+" webSearch"),
		"todoList":            d.boolean(&b.TodoList, what+" todoList"),
		"imageModel":          d.str(&b.ImageModel, what+" imageModel"),
		"videoModel":          d.str(&b.VideoModel, what+" videoModel"),
		"speechModel":         d.str(&b.SpeechModel, what+" speechModel"),
		"speechVoice":         d.str(&b.SpeechVoice, what+" speechVoice"),
		"transcriptionModel":  d.str(&b.TranscriptionModel, what+" transcriptionModel"),
		"agentic":             agentLevel("agentic"),
		"contextManagement":   agentLevel("contextManagement"),
		"anthropic":           agentLevel("anthropic"),
	}
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
	if b.Speed.IsSet() {
		v.warnf(b.Speed.Pos, "%s speed has no effect in octrun: it sends no speed setting to the model's endpoint (the platform's fast mode of Anthropic Opus models, rule §9.1.15, is not part of the OpenAI-compatible API octrun calls); remove it", what)
	}
	v.checkSetting(what+" maxSteps", b.MaxSteps, maxStepsRule)
	b.settings = compileThreadSettings(b)
	if b.Cache.IsSet() && !slices.Contains(cacheModes, b.Cache.Value) {
		v.errorf(b.Cache.Pos, "%s cache %q is not a cache mode: use %s%s", what, b.Cache.Value, listOf(cacheModes), didYouMean(b.Cache.Value, cacheModes))
	} else if b.Cache.IsSet() {
		v.warnf(b.Cache.Pos, "%s cache has no effect in octrun: it sends no cache control (providers that cache long prompts do it by themselves)", what)
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
	for field, m := range map[string]Str{"imageModel": b.ImageModel, "videoModel": b.VideoModel, "speechModel": b.SpeechModel, "transcriptionModel": b.TranscriptionModel} {
		if m.IsSet() {
			v.errorf(m.Pos, "%s %s is not supported by octrun: it enables a built-in octavus_* media tool that octrun does not provide; use a generate-image, generate-speech or transcribe-audio block, or a tool of your own", what, field)
		}
	}
	if b.SpeechVoice.IsSet() {
		v.errorf(b.SpeechVoice.Pos, "%s speechVoice is not supported by octrun: it is the voice of the platform's built-in speech tool, which octrun does not provide; set voice on a generate-speech block instead", what)
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
