package protocol

import (
	"fmt"
	"strings"

	"github.com/octrun/octrun/protocol/diag"
)

func didYouMean(name string, candidates []string) string {
	return diag.DidYouMean(name, candidates)
}

// listOf formats names for a message: "a, b or c".
func listOf(names []string) string {
	switch len(names) {
	case 0:
		return "none"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// quoted formats names as a quoted list: `"a", "b"`.
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
