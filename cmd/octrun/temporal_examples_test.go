package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/internal/servicetest"
)

// The examples run through Temporal as they run here: `octrun run
// --temporal` prints the same events and exits the same way, with a
// worker process serving the examples folder.
func TestExamplesOnTemporal(t *testing.T) {
	addr := servicetest.Temporal(t)
	redisURL := servicetest.RedisURL(t)
	bin := octrunBinary(t)
	examples, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	for _, ex := range []struct {
		name   string
		inputs []string
	}{
		{"support-triage", []string{"-i", "TICKET=My order A-1042 never arrived"}},
		{"research-pipeline", []string{"-i", "QUESTION=Why two tides a day?", "-i", "AUDIENCE=executives"}},
		{"title-generator", []string{"-i", "SUMMARY=How the moon moves the sea", "-i", "STYLE=catchy"}},
	} {
		t.Run(ex.name, func(t *testing.T) {
			mock := filepath.Join(examples, ex.name, "mock.yaml")
			queue := "examples-" + ex.name + "-" + time.Now().Format("150405.000")
			worker := exec.Command(bin, "worker", "--agents", examples, "--temporal", addr, "--task-queue", queue, "--redis", redisURL, "--mock", mock)
			worker.Stderr = os.Stderr
			require.NoError(t, worker.Start())
			defer func() { _ = worker.Process.Kill(); _ = worker.Wait() }()

			dir := t.TempDir()
			path := filepath.Join(examples, ex.name)
			code, local := runBinary(t, bin, dir, "", append([]string{path, "--mock", mock, "--events", "jsonl"}, ex.inputs...)...)
			require.Equal(t, exitOK, code)
			code, remote := runBinary(t, bin, dir, "", append([]string{path, "--events", "jsonl", "--temporal", addr, "--task-queue", queue, "--redis", redisURL}, ex.inputs...)...)
			require.Equal(t, exitOK, code)
			assert.Equal(t, eventLines(t, local), eventLines(t, remote))

			code, out := runBinary(t, bin, dir, "", append([]string{path, "--temporal", addr, "--task-queue", queue, "--redis", redisURL}, ex.inputs...)...)
			require.Equal(t, exitOK, code)
			_, localOut := runBinary(t, bin, dir, "", append([]string{path, "--mock", mock}, ex.inputs...)...)
			assert.Equal(t, localOut, out, "the same output on stdout")
			assert.NotEmpty(t, strings.TrimSpace(out))
		})
	}
}

// A run on Temporal pauses for client tools (exit 3 with the pending
// calls), refuses results that do not answer them (exit 2, the run keeps
// waiting) and finishes when continued, each step a process of its own.
func TestPauseAndContinueOnTemporal(t *testing.T) {
	addr := servicetest.Temporal(t)
	redisURL := servicetest.RedisURL(t)
	bin := octrunBinary(t)
	examples, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	queue := "trips-" + time.Now().Format("150405.000")
	worker := exec.Command(bin, "worker", "--agents", examples, "--temporal", addr, "--task-queue", queue, "--redis", redisURL,
		"--mock", filepath.Join(examples, "trip-planner", "mock.yaml"))
	worker.Stderr = os.Stderr
	require.NoError(t, worker.Start())
	defer func() { _ = worker.Process.Kill(); _ = worker.Wait() }()
	on := []string{"--temporal", addr, "--task-queue", queue, "--redis", redisURL}
	dir := t.TempDir()

	code, out := runBinary(t, bin, dir, "", append([]string{filepath.Join(examples, "trip-planner")}, on...)...)
	require.Equal(t, exitPaused, code)
	var first pending
	require.NoError(t, json.Unmarshal([]byte(out), &first), out)
	require.Len(t, first.ToolCalls, 1)

	code, _ = runBinary(t, bin, dir, `[{"toolCallId": "nope", "result": 1}]`, append([]string{"continue", first.ExecutionID, "--results", "-"}, on...)...)
	assert.Equal(t, exitUsage, code, "results that answer nothing are refused")

	answer := `[{"toolCallId": "` + first.ToolCalls[0].ToolCallID + `", "result": "Brest, tomorrow morning"}]`
	code, out = runBinary(t, bin, dir, answer, append([]string{"continue", first.ExecutionID, "--results", "-"}, on...)...)
	require.Equal(t, exitPaused, code, "the run kept waiting, then paused again")
	var second pending
	require.NoError(t, json.Unmarshal([]byte(out), &second), out)
	require.Len(t, second.ToolCalls, 1)
	assert.Equal(t, "approve", second.ToolCalls[0].ToolName)

	approve := `[{"toolCallId": "` + second.ToolCalls[0].ToolCallID + `", "result": {"approved": true}}]`
	code, out = runBinary(t, bin, dir, approve, append([]string{"continue", first.ExecutionID, "--results", "-"}, on...)...)
	require.Equal(t, exitOK, code)
	assert.Equal(t, "Approved: the 9:02 train to Brest.\n", out)
}
