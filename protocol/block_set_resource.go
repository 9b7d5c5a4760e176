package protocol

import "github.com/octrun/octrun/internal/display"

// KindSetResource is the kind of a set-resource block.
const KindSetResource = "set-resource"

// SetResource writes a (deprecated) resource.
type SetResource struct {
	BlockBase
	Resource Str
	Value    Str
}

// Kind returns "set-resource".
func (*SetResource) Kind() string { return KindSetResource }

// setResourceKind is the set-resource entry of the kinds registry.
var setResourceKind = kindDef{
	display: display.Name,
	thread:  threadNone,
	decode:  (*decoder).setResource,
	check: func(v *validator, s *Step, what string) {
		v.checkSetResource(s, s.Block.(*SetResource), what)
	},
}

// setResource returns an empty set-resource block and the readers of its
// fields.
func (d *decoder) setResource(what string) (Block, fields) {
	b := &SetResource{}
	return b, fields{
		"resource": d.str(&b.Resource, what+" resource"),
		"value":    d.str(&b.Value, what+" value"),
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
