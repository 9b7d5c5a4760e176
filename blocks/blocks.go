// Package blocks holds one type per block kind of a worker protocol
// (start-thread, add-message, next-message, tool-call, run-worker,
// serialize-thread, set-resource, ...), each with Run(ctx, env), and a
// registry by kind.
//
// Blocks are pure orchestration: given the State and the results of the
// Effects they always make the same decisions. They never touch the world
// themselves — no network, files, clock, randomness or goroutines — and ask
// Effects for every model call, tool call and nested worker. This is the
// determinism boundary (rule C4): the in-process runtime implements
// Effects directly, and a durable runtime can implement them as activities
// and child workflows while reusing the blocks unchanged.
package blocks

import (
	"context"
	"fmt"

	"github.com/octrun/octrun/protocol"
)

// Block is one step of a worker, ready to run.
type Block interface {
	Run(ctx context.Context, env *Env) error
}

// registry builds the runnable block of each kind.
var registry = map[string]func(*protocol.Step) Block{
	protocol.KindStartThread:     func(s *protocol.Step) Block { return &StartThread{step: s, def: s.Block.(*protocol.StartThread)} },
	protocol.KindAddMessage:      func(s *protocol.Step) Block { return &AddMessage{def: s.Block.(*protocol.AddMessage)} },
	protocol.KindNextMessage:     func(s *protocol.Step) Block { return &NextMessage{def: s.Block.(*protocol.NextMessage)} },
	protocol.KindToolCall:        func(s *protocol.Step) Block { return &ToolCall{step: s, def: s.Block.(*protocol.ToolCall)} },
	protocol.KindRunWorker:       func(s *protocol.Step) Block { return &RunWorker{step: s, def: s.Block.(*protocol.RunWorker)} },
	protocol.KindSerializeThread: func(s *protocol.Step) Block { return &SerializeThread{def: s.Block.(*protocol.SerializeThread)} },
	protocol.KindSetResource:     func(s *protocol.Step) Block { return &SetResource{def: s.Block.(*protocol.SetResource)} },
	protocol.KindGenerateImage:   func(s *protocol.Step) Block { return &GenerateImage{def: s.Block.(*protocol.GenerateImage)} },
	protocol.KindGenerateSpeech:  func(s *protocol.Step) Block { return &GenerateSpeech{def: s.Block.(*protocol.GenerateSpeech)} },
	protocol.KindTranscribeAudio: func(s *protocol.Step) Block { return &TranscribeAudio{def: s.Block.(*protocol.TranscribeAudio)} },
}

// New returns the runnable block of a step.
func New(s *protocol.Step) (Block, error) {
	build, ok := registry[s.Block.Kind()]
	if !ok {
		return nil, fmt.Errorf("block %q: no runner for kind %q", s.Name.Value, s.Block.Kind())
	}
	return build(s), nil
}
