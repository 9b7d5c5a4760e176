package runtime

import (
	"context"
	"errors"

	"github.com/octrun/octrun/blocks"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

// effects is the in-process implementation of blocks.Effects: model calls
// go to the runner's client and tool calls to the registered handlers,
// through the run's recorder; nested workers run in this process.
type effects struct {
	runner *runner
	// protocol is the running protocol, whose MCP servers the effects reach.
	protocol *protocol.Protocol
}

// Generate implements blocks.Effects.
func (f *effects) Generate(ctx context.Context, req llm.Request, onDelta func(llm.Delta) error) (*llm.Response, error) {
	return f.runner.rec.generate(ctx, f.runner.client, req, onDelta)
}

// CallTool implements blocks.Effects.
func (f *effects) CallTool(ctx context.Context, call blocks.ToolInvocation) (any, error) {
	return f.runner.rec.callTool(ctx, call, f.handler(call.Name))
}

// ClientTool implements blocks.Effects: a tool without a handler here is
// answered by the caller of the run.
func (f *effects) ClientTool(name string) bool {
	return f.handler(name) == nil
}

// handler returns what answers a tool here: a registered handler (through
// the tool mapping of nested workers), or the protocol's MCP server; nil
// for a client tool.
func (f *effects) handler(name string) ToolHandler {
	if h := f.runner.tool(name); h != nil {
		return h
	}
	return f.mcpHandler(name)
}

// RunWorker implements blocks.Effects: the nested worker runs with its own
// state; its tool calls reach this run's handlers through the declaration's
// tool mapping, unmapped names as they are (PROTOCOL.md 6.5, A17).
func (f *effects) RunWorker(ctx context.Context, call blocks.WorkerInvocation) (blocks.WorkerOutcome, error) {
	mapped := map[string]string{}
	for _, m := range call.Decl.Tools {
		mapped[m.Label.Value] = m.Source.Value
	}
	parent := f.runner
	child := &runner{client: parent.client, rec: parent.rec, servers: parent.servers, tool: func(name string) ToolHandler {
		if to, ok := mapped[name]; ok {
			return parent.tool(to)
		}
		return parent.tool(name)
	}}
	d := call.Decl
	out, err := child.worker(ctx, d.Protocol, workerIdentity{id: call.WorkerID, slug: d.Slug.Value, description: call.Label, nested: true}, call.Input, call.Events)
	var pause *blocks.Pause
	if errors.As(err, &pause) {
		// The caller of the run answers client tools under this protocol's
		// names: map each pending call's tool name up one level.
		for i, c := range pause.Calls {
			if to, ok := mapped[c.ToolName]; ok {
				pause.Calls[i].ToolName = to
			}
		}
	}
	return out, err
}

// GenerateImage implements blocks.Effects through the recorder: the image
// comes from the journal when replaying, else from the runner's client
// (llm.MediaOf).
func (f *effects) GenerateImage(ctx context.Context, req llm.ImageRequest) (*llm.Media, error) {
	out, err := f.runner.rec.media(mediaImage, func() (MediaOutcome, error) {
		image, err := llm.MediaOf(f.runner.client).GenerateImage(ctx, req)
		return MediaOutcome{File: image}, err
	})
	return out.File, err
}

// GenerateSpeech implements blocks.Effects like GenerateImage.
func (f *effects) GenerateSpeech(ctx context.Context, req llm.SpeechRequest) (*llm.Media, error) {
	out, err := f.runner.rec.media(mediaSpeech, func() (MediaOutcome, error) {
		audio, err := llm.MediaOf(f.runner.client).GenerateSpeech(ctx, req)
		return MediaOutcome{File: audio}, err
	})
	return out.File, err
}

// Transcribe implements blocks.Effects like GenerateImage.
func (f *effects) Transcribe(ctx context.Context, req llm.TranscriptionRequest) (*llm.Transcript, error) {
	out, err := f.runner.rec.media(mediaTranscript, func() (MediaOutcome, error) {
		t, err := llm.MediaOf(f.runner.client).Transcribe(ctx, req)
		return MediaOutcome{Transcript: t}, err
	})
	return out.Transcript, err
}
