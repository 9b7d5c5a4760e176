package protocol

import (
	"maps"
	"slices"
)

// kinds is the registry of the block kinds octrun runs: each kind's
// decoding, validation and defaults. A kind is written in one file,
// block_<kind>.go (the media kinds share block_media.go), and registered
// here; its runner is registered in the blocks package.
var kinds = map[string]kindDef{
	KindStartThread:     startThreadKind,
	KindAddMessage:      addMessageKind,
	KindNextMessage:     nextMessageKind,
	KindToolCall:        toolCallKind,
	KindRunWorker:       runWorkerKind,
	KindSerializeThread: serializeThreadKind,
	KindSetResource:     setResourceKind,
	KindGenerateImage:   generateImageKind,
	KindGenerateSpeech:  generateSpeechKind,
	KindTranscribeAudio: transcribeAudioKind,
}

// blockKinds lists the block kinds octrun runs, for "did you mean".
var blockKinds = slices.Sorted(maps.Keys(kinds))

// kindDef is what the generic code needs to know of a block kind.
type kindDef struct {
	// display is the kind's display mode when none is written (rule §3.1).
	display string
	// displayFrom, when set, returns the display a block takes from
	// elsewhere when it writes none, before display applies (run-worker:
	// its worker declaration's).
	displayFrom func(p *Protocol, b Block) Str
	// thread is how the kind uses a thread.
	thread threadUse
	// decode returns an empty block of the kind and the readers of its own
	// fields (those every block has are added by the caller). what names
	// the block in diagnostics.
	decode func(d *decoder, what string) (Block, fields)
	// check validates a block of the kind, after its display and thread.
	check func(v *validator, s *Step, what string)
	// models, when set, adds the models a block of the kind may call to
	// Models; values resolves a model setting that names an input.
	models func(b Block, values map[string]any, add func(string))
}

// threadUse is how a block kind uses a thread (rules §3.1 and D2).
type threadUse int

const (
	// threadOptional: the block may name a thread and uses none when it
	// does not.
	threadOptional threadUse = iota
	// threadMain: the block acts on a thread, "main" when none is written.
	threadMain
	// threadStarts: the block creates its thread and resolves the name
	// itself (start-thread).
	threadStarts
	// threadNone: the block has no thread field (set-resource).
	threadNone
)

// kindOf returns the registry entry of a block.
func kindOf(b Block) kindDef {
	return kinds[b.Kind()]
}
