package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The committed events/zz_generated.go is what the generator writes: run
// `go generate ./events` after changing the table.
func TestGeneratedFileIsUpToDate(t *testing.T) {
	fresh := filepath.Join(t.TempDir(), "zz_generated.go")
	require.NoError(t, write(fresh))
	want, err := os.ReadFile(fresh)
	require.NoError(t, err)
	got, err := os.ReadFile("../../zz_generated.go")
	require.NoError(t, err)
	if bytes.Equal(got, want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	i := 0
	for i < min(len(gotLines), len(wantLines)) && gotLines[i] == wantLines[i] {
		i++
	}
	line := func(lines []string) string {
		if i < len(lines) {
			return lines[i]
		}
		return "(end of file)"
	}
	t.Fatalf("events/zz_generated.go is stale: run go generate ./events\nline %d is\n\t%s\nwant\n\t%s",
		i+1, line(gotLines), line(wantLines))
}

func TestCheckRejectsRepeats(t *testing.T) {
	_, err := generate([]eventType{{Name: "A", Wire: "a"}, {Name: "B", Wire: "a"}})
	assert.EqualError(t, err, `B ("a") is in the table twice`)
	_, err = generate([]eventType{{Name: "A"}})
	assert.Error(t, err)
}
