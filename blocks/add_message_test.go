package blocks

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A value that is not a file is told in JSON terms, not Go types.
func TestFilePartsOfAValueThatIsNotAFile(t *testing.T) {
	_, err := fileParts("a crab")
	assert.EqualError(t, err, "expected an object, got a string")
	_, err = fileParts([]any{"a crab"})
	assert.EqualError(t, err, "expected an object, got a string", "the item of the list")
}
