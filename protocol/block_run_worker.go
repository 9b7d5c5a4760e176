package protocol

import (
	"fmt"

	"github.com/octrun/octrun/internal/display"
)

// KindRunWorker is the kind of a run-worker block.
const KindRunWorker = "run-worker"

// RunWorker runs a declared worker as a nested execution.
type RunWorker struct {
	BlockBase
	Worker Str
	// Input maps the callee's input names (Label) to this worker's inputs
	// and variables (Source).
	Input  []Mapping
	Output Str
}

// Kind returns "run-worker".
func (*RunWorker) Kind() string { return KindRunWorker }

// runWorkerKind is the run-worker entry of the kinds registry.
var runWorkerKind = kindDef{
	display: display.Stream,
	displayFrom: func(p *Protocol, b Block) Str {
		if w := p.Worker(b.(*RunWorker).Worker.Value); w != nil {
			return w.Display
		}
		return Str{}
	},
	thread: threadOptional,
	decode: (*decoder).runWorker,
	check: func(v *validator, s *Step, what string) {
		v.checkRunWorker(s, s.Block.(*RunWorker), what)
	},
}

// runWorker returns an empty run-worker block and the readers of its
// fields.
func (d *decoder) runWorker(what string) (Block, fields) {
	b := &RunWorker{}
	return b, fields{
		"worker": d.str(&b.Worker, what+" worker"),
		"input":  d.inputMapping(&b.Input, what+" input"),
		"output": d.str(&b.Output, what+" output"),
	}
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
