package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// Ctrl-C cancels the run cleanly and the command exits with 130 (rule C3).
func TestInterruptExits130(t *testing.T) {
	bin := octrunBinary(t)

	server := fakeopenai.New(&llm.Script{Responses: []llm.ScriptResponse{{Text: strings.Repeat("wave ", 500)}}},
		fakeopenai.WithDelay(50*time.Millisecond))
	defer server.Close()

	cmd := exec.Command(bin, "../../examples/title-generator", "-i", "SUMMARY=tides", "--llm-base-url", server.URL())
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stderr)
	var seen strings.Builder
	for lines.Scan() {
		seen.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "Generate title") {
			break
		}
	}
	time.Sleep(200 * time.Millisecond) // some text is streaming
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	for lines.Scan() {
		seen.WriteString(lines.Text() + "\n")
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, seen.String())
	assert.Equal(t, 130, exit.ExitCode(), seen.String())
	assert.Contains(t, seen.String(), "octrun: interrupted; the run was cancelled")
	assert.Contains(t, seen.String(), "wave wave")
}
