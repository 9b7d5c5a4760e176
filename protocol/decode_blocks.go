package protocol

import (
	"fmt"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
)

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
	def, ok := kinds[kind]
	if !ok {
		d.Errorf(kindNode, "unknown block kind %q%s; octrun runs %s", kind, didYouMean(kind, blockKinds), listOf(blockKinds))
		return nil
	}
	block, fs := def.decode(d, what)
	base := block.Base()
	base.KindPos = d.Pos(kindNode)
	for _, x := range entries {
		base.written = append(base.written, x.Key)
	}
	fs["block"] = func(*yaml.Node) {}
	fs["display"] = d.str(&base.Display, what+" display")
	fs["description"] = d.text(&base.Description, what+" description")
	fs["title"] = d.text(&base.Title, what+" title")
	if def.thread != threadNone {
		fs["thread"] = d.str(&base.Thread, what+" thread")
	}
	d.decodeFields(entries, what, fs)
	step.Block = block
	return step
}
