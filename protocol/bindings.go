package protocol

import "github.com/octrun/octrun/protocol/template"

// Bindings turns a block's input mapping into the bindings a prompt renders
// with: each label takes the value of its source in values (the run's
// inputs and variables). A source with no value is bound to template.Absent,
// which renders as NONE and is falsy (rule D3). Labels not in the mapping stay
// unbound, so their placeholders are left as written.
func Bindings(mapping []Mapping, values map[string]any) map[string]any {
	b := make(map[string]any, len(mapping))
	for _, m := range mapping {
		if v, ok := values[m.Source.Value]; ok {
			b[m.Label.Value] = v
		} else {
			b[m.Label.Value] = template.Absent
		}
	}
	return b
}
