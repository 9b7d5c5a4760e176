package protocol

import (
	"slices"
	"testing"
)

// TestKindsRegistry checks that every registered kind is complete and that
// its decoder builds a block of that kind.
func TestKindsRegistry(t *testing.T) {
	for kind, def := range kinds {
		if def.decode == nil || def.check == nil {
			t.Errorf("%s: decode and check must be set", kind)
			continue
		}
		if !slices.Contains(displayModes, def.display) {
			t.Errorf("%s: default display %q is not a display mode", kind, def.display)
		}
		b, fs := def.decode(&decoder{}, kind+" block")
		if b == nil || fs == nil {
			t.Errorf("%s: decode returned no block or no fields", kind)
			continue
		}
		if b.Kind() != kind {
			t.Errorf("%s: decode built a %s block", kind, b.Kind())
		}
		if _, ok := fs["thread"]; ok {
			t.Errorf("%s: thread is read by the caller, not by decode", kind)
		}
	}
	if !slices.IsSorted(blockKinds) || len(blockKinds) != len(kinds) {
		t.Errorf("blockKinds = %v", blockKinds)
	}
}
