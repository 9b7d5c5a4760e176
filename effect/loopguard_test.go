package effect

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Rule D15: the loop guard stops a repeating tail and keeps one occurrence.
func TestRunaway(t *testing.T) {
	sentence := "The tide is high. "
	for _, tc := range []struct {
		name string
		text string
		cut  string // the text kept, "" when no runaway
	}{
		{"a sentence repeated", "Answer: " + strings.Repeat(sentence, 12), "Answer: " + sentence},
		{"one character", "Wait" + strings.Repeat(".", 200), "Wait."},
		{"a short word", "ha" + strings.Repeat("ha ", 80), "ha" + "ha "},
		{"ordinary prose", strings.Repeat("The tide rises, the tide falls, the sea turns. ", 2) + "Brest sees two tides.", ""},
		{"a short repetition is fine", strings.Repeat("no ", 7), ""},
		{"a long table is not a loop", "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n", ""},
		{"empty", "", ""},
	} {
		cut, found := runaway(tc.text)
		assert.Equal(t, tc.cut != "", found, tc.name)
		if found {
			assert.Equal(t, tc.cut, tc.text[:cut], tc.name)
		}
	}
}
