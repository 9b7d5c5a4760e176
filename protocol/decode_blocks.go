package protocol

import (
	"fmt"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/octrun/octrun/internal/yamlx"
)

// blockKinds lists the block kinds octrun runs, for "did you mean".
var blockKinds = []string{KindAddMessage, KindGenerateImage, KindGenerateSpeech, KindNextMessage,
	KindRunWorker, KindSerializeThread, KindSetResource, KindStartThread, KindToolCall, KindTranscribeAudio}

// unsupportedKinds are block kinds of the Octavus protocol that need the
// hosted platform (rule D16).
var unsupportedKinds = map[string]string{
	"generate-video": "video generation is provided by the Octavus platform only",
}

// step decodes one named block.
func (d *decoder) step(e yamlx.Entry) *Step {
	what := fmt.Sprintf("block %q", e.Key)
	entries := d.Mapping(e.Value, what)
	var kindNode *yaml.Node
	for _, x := range entries {
		if x.Key == "block" {
			kindNode = x.Value
		}
	}
	if kindNode == nil {
		if e.Value.Kind == yaml.MappingNode || yamlx.IsNull(e.Value) {
			d.Errorf(e.KeyNode, "%s has no block field: add `block: <kind>` (one of %s)", what, listOf(blockKinds))
		}
		return nil
	}
	kind, ok := d.Name(kindNode, what+" kind")
	if !ok {
		return nil
	}
	if why, ok := unsupportedKinds[kind]; ok {
		d.Errorf(kindNode, "block kind %q is not supported by octrun: %s", kind, why)
		return nil
	}
	step := &Step{Name: Str{e.Key, d.Pos(e.KeyNode)}}
	what = fmt.Sprintf("%s block %q", kind, e.Key)
	block, fs := d.newBlock(kind, what)
	if block == nil {
		d.Errorf(kindNode, "unknown block kind %q%s; octrun runs %s", kind, didYouMean(kind, blockKinds), listOf(blockKinds))
		return nil
	}
	base := block.Base()
	base.KindPos = d.Pos(kindNode)
	for _, x := range entries {
		base.written = append(base.written, x.Key)
	}
	fs["block"] = func(*yaml.Node) {}
	fs["display"] = d.str(&base.Display, what+" display")
	fs["description"] = d.text(&base.Description, what+" description")
	fs["title"] = d.text(&base.Title, what+" title")
	if kind != KindSetResource {
		fs["thread"] = d.str(&base.Thread, what+" thread")
	}
	d.decodeFields(entries, what, fs)
	step.Block = block
	return step
}

// newBlock returns an empty block of kind and the readers of its own fields.
func (d *decoder) newBlock(kind, what string) (Block, fields) {
	switch kind {
	case KindStartThread:
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
	case KindAddMessage:
		b := &AddMessage{}
		return b, fields{
			"role":      d.str(&b.Role, what+" role"),
			"prompt":    d.str(&b.Prompt, what+" prompt"),
			"input":     d.inputMapping(&b.Input, what+" input"),
			"visible":   d.boolean(&b.Visible, what+" visible"),
			"uiContent": d.str(&b.UIContent, what+" uiContent"),
			"files":     d.names(&b.Files, what+" files"),
		}
	case KindNextMessage:
		b := &NextMessage{}
		return b, fields{
			"output":       d.str(&b.Output, what+" output"),
			"responseType": d.str(&b.ResponseType, what+" responseType"),
			"independent":  d.boolean(&b.Independent, what+" independent"),
		}
	case KindToolCall:
		b := &ToolCall{}
		return b, fields{
			"tool":   d.str(&b.Tool, what+" tool"),
			"input":  d.toolArgs(&b.Input, what+" input"),
			"output": d.str(&b.Output, what+" output"),
		}
	case KindRunWorker:
		b := &RunWorker{}
		return b, fields{
			"worker": d.str(&b.Worker, what+" worker"),
			"input":  d.inputMapping(&b.Input, what+" input"),
			"output": d.str(&b.Output, what+" output"),
		}
	case KindSerializeThread:
		b := &SerializeThread{}
		return b, fields{
			"format": d.str(&b.Format, what+" format"),
			"output": d.str(&b.Output, what+" output"),
		}
	case KindSetResource:
		b := &SetResource{}
		return b, fields{
			"resource": d.str(&b.Resource, what+" resource"),
			"value":    d.str(&b.Value, what+" value"),
		}
	case KindGenerateImage:
		b := &GenerateImage{}
		return b, fields{
			"prompt":          d.str(&b.Prompt, what+" prompt"),
			"imageModel":      d.str(&b.ImageModel, what+" imageModel"),
			"aspectRatio":     d.str(&b.AspectRatio, what+" aspectRatio"),
			"resolution":      d.str(&b.Resolution, what+" resolution"),
			"size":            d.str(&b.Size, what+" size"),
			"referenceImages": d.names(&b.ReferenceImages, what+" referenceImages"),
			"output":          d.str(&b.Output, what+" output"),
		}
	case KindGenerateSpeech:
		b := &GenerateSpeech{}
		return b, fields{
			"text":         d.str(&b.Text, what+" text"),
			"speechModel":  d.str(&b.SpeechModel, what+" speechModel"),
			"voice":        d.str(&b.Voice, what+" voice"),
			"format":       d.str(&b.Format, what+" format"),
			"instructions": d.text(&b.Instructions, what+" instructions"),
			"language":     d.str(&b.Language, what+" language"),
			"speed":        d.number(&b.Speed, what+" speed"),
			"output":       d.str(&b.Output, what+" output"),
		}
	case KindTranscribeAudio:
		b := &TranscribeAudio{}
		return b, fields{
			"audio":              d.str(&b.Audio, what+" audio"),
			"transcriptionModel": d.str(&b.TranscriptionModel, what+" transcriptionModel"),
			"language":           d.str(&b.Language, what+" language"),
			"timestamps":         d.boolean(&b.Timestamps, what+" timestamps"),
			"output":             d.str(&b.Output, what+" output"),
		}
	}
	return nil, nil
}

// toolArgs reads the input of a tool-call block: each value is a reference
// when it is a string naming a declared input, variable or resource, and a
// literal otherwise (rule D1).
func (d *decoder) toolArgs(dst *[]ToolArg, what string) func(n *yaml.Node) {
	return func(n *yaml.Node) {
		for _, e := range d.Mapping(n, what) {
			arg := ToolArg{Name: Str{e.Key, d.Pos(e.KeyNode)}, Pos: d.Pos(e.Value)}
			if yamlx.IsString(e.Value) && d.declared[e.Value.Value] {
				arg.Ref = e.Value.Value
			} else if v, ok := d.Value(e.Value); ok {
				arg.Literal = v
				if s, isStr := v.(string); isStr && upperSnake.MatchString(s) && len(s) > 1 {
					d.Warnf(e.Value, "%s %q: %q looks like a variable name but names no input, variable or resource, so it is passed as the literal text %q; declare it or fix the name%s",
						what, e.Key, s, s, didYouMean(s, slices.Sorted(maps.Keys(d.declared))))
				}
			}
			*dst = append(*dst, arg)
		}
	}
}
