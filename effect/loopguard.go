package effect

import "errors"

// The loop guard's fixed thresholds (rule D15): a unit of up to maxLoopUnit
// characters that ends the text, repeated at least minLoopRepeats times
// back to back and spanning at least minLoopSpan characters, is a runaway
// generation.
const (
	maxLoopUnit    = 64
	minLoopRepeats = 8
	minLoopSpan    = 160
)

// errLoopGuard aborts a generation that repeats itself.
var errLoopGuard = errors.New("the generation repeated itself and was stopped (loopGuard)")

// runaway reports whether text ends in a runaway repetition and, if so,
// where to cut it so that one occurrence of the repeated unit remains.
func runaway(text string) (cut int, found bool) {
	n := len(text)
	for unit := 1; unit <= maxLoopUnit && unit*2 <= n; unit++ {
		last := text[n-unit:]
		repeats := 1
		for end := n - unit; end >= unit && text[end-unit:end] == last; end -= unit {
			repeats++
		}
		if repeats >= minLoopRepeats && repeats*unit >= minLoopSpan {
			return n - (repeats-1)*unit, true
		}
	}
	return 0, false
}
