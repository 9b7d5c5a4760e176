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
	"go.temporal.io/sdk/client"

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

// startWorker starts an `octrun worker` process with args; it is killed
// when the test ends.
func startWorker(t *testing.T, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"worker"}, args...)...)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// Twenty runs submitted at once with two worker processes polling one
// queue all complete, and both processes did work (the tool command
// writes the id of the worker process that runs it).
func TestTwoWorkerProcesses(t *testing.T) {
	addr := servicetest.Temporal(t)
	bin := octrunBinary(t)
	examples, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	work := t.TempDir()
	pids := filepath.Join(work, "pids.txt")
	queue := "two-" + time.Now().Format("150405.000")
	for range 2 {
		startWorker(t, bin, "--agents", examples, "--temporal", addr, "--task-queue", queue,
			"--mock", filepath.Join(examples, "support-triage", "mock.yaml"),
			"--tool", `lookup-order=echo $PPID >> `+pids+`; echo '{"status": "lost in transit"}'`)
	}
	results := make(chan int, 20)
	for range 20 {
		go func() {
			code, _ := runBinary(t, bin, work, "", filepath.Join(examples, "support-triage"), "-i", "TICKET=My order A-1042 never arrived",
				"--temporal", addr, "--task-queue", queue)
			results <- code
		}()
	}
	for range 20 {
		assert.Equal(t, exitOK, <-results)
	}
	seen := map[string]int{}
	for _, pid := range strings.Fields(readFile(t, pids)) {
		seen[pid]++
	}
	assert.Len(t, seen, 2, "both worker processes ran tools: %v", seen)
}

// A nested worker routed with --route SLUG=QUEUE runs as a child workflow
// on that queue, served by a second worker process whose agents folder
// holds only that slug; the run prints what it prints locally.
func TestRoutedNestedWorkerProcess(t *testing.T) {
	addr := servicetest.Temporal(t)
	redisURL := servicetest.RedisURL(t)
	bin := octrunBinary(t)
	examples, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	mock := filepath.Join(examples, "support-triage", "mock.yaml")
	summarizers := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(summarizers, "ticket-summarizer"), os.DirFS(filepath.Join(examples, "ticket-summarizer"))))
	stamp := time.Now().Format("150405.000")
	parentQueue, childQueue := "routed-"+stamp, "routed-child-"+stamp
	startWorker(t, bin, "--agents", examples, "--temporal", addr, "--task-queue", parentQueue, "--redis", redisURL,
		"--mock", mock, "--route", "ticket-summarizer="+childQueue)
	startWorker(t, bin, "--agents", summarizers, "--temporal", addr, "--task-queue", childQueue, "--redis", redisURL, "--mock", mock)

	dir := t.TempDir()
	args := []string{filepath.Join(examples, "support-triage"), "-i", "TICKET=My order A-1042 never arrived", "--events", "jsonl"}
	code, local := runBinary(t, bin, dir, "", append(args, "--mock", mock)...)
	require.Equal(t, exitOK, code)
	code, remote := runBinary(t, bin, dir, "", append(args, "--temporal", addr, "--task-queue", parentQueue, "--redis", redisURL)...)
	require.Equal(t, exitOK, code)
	assert.Equal(t, eventLines(t, local), eventLines(t, remote))

	var execID, nestedID string
	for _, line := range strings.Split(strings.TrimSpace(remote), "\n") {
		var ev struct{ Type, ExecutionID, WorkerID, WorkerSlug string }
		require.NoError(t, json.Unmarshal([]byte(line), &ev))
		switch {
		case ev.Type == "start" && execID == "":
			execID = ev.ExecutionID
		case ev.Type == "worker-start" && ev.WorkerSlug == "ticket-summarizer":
			nestedID = ev.WorkerID
		}
	}
	require.NotEmpty(t, nestedID, "the run started the nested worker")
	c, err := client.Dial(client.Options{HostPort: addr, Logger: quietTemporal()})
	require.NoError(t, err)
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(t.Context(), execID+"/"+nestedID, "")
	require.NoError(t, err)
	assert.Equal(t, childQueue, desc.GetExecutionConfig().GetTaskQueue().GetName(), "the nested worker ran on the routed queue")
}

// Ctrl-C on `octrun run --temporal` cancels the run: exit 130, the stream
// ends as a cancelled run's.
func TestInterruptOnTemporal(t *testing.T) {
	addr := servicetest.Temporal(t)
	redisURL := servicetest.RedisURL(t)
	bin := octrunBinary(t)
	examples, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	work := t.TempDir()
	slow := filepath.Join(work, "slow.yaml")
	require.NoError(t, os.WriteFile(slow, []byte("responses:\n  - text: \""+strings.Repeat("wave ", 300)+"\"\n    fault: {delay: 20ms}\n"), 0o644))
	queue := "interrupt-" + time.Now().Format("150405.000")
	startWorker(t, bin, "--agents", examples, "--temporal", addr, "--task-queue", queue, "--redis", redisURL, "--mock", slow)

	cmd := exec.Command(bin, filepath.Join(examples, "title-generator"), "-i", "SUMMARY=tides", "--events", "jsonl",
		"--temporal", addr, "--task-queue", queue, "--redis", redisURL)
	var out strings.Builder
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), `"type":"text-delta"`) {
		n, err := stdout.Read(buf)
		require.NoError(t, err, out.String())
		out.Write(buf[:n])
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	start := time.Now()
	for {
		n, err := stdout.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, exitInterrupted, exit.ExitCode())
	assert.Less(t, time.Since(start), 10*time.Second)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.GreaterOrEqual(t, len(lines), 3)
	assert.Contains(t, lines[len(lines)-3], `"type":"worker-result"`)
	assert.Contains(t, lines[len(lines)-3], `"cancelled":true`)
	assert.Contains(t, lines[len(lines)-2], `"finishReason":"stop"`)
}

// A worker whose copy of the agent differs makes `octrun run --temporal`
// fail with exit 1, saying which fingerprints differ and how to fix it.
func TestFingerprintMismatchOnTemporal(t *testing.T) {
	addr := servicetest.Temporal(t)
	bin := octrunBinary(t)
	examples, err := filepath.Abs("../../examples")
	require.NoError(t, err)
	workerSide := t.TempDir()
	agent := copyAgent(t, "title-generator", workerSide)
	prompt := filepath.Join(agent, "prompts", "title-system.md")
	require.NoError(t, os.WriteFile(prompt, append([]byte(readFile(t, prompt)), "Be brief.\n"...), 0o644))
	queue := "fp-" + time.Now().Format("150405.000")
	startWorker(t, bin, "--agents", workerSide, "--temporal", addr, "--task-queue", queue,
		"--mock", filepath.Join(examples, "title-generator", "mock.yaml"))

	cmd := exec.Command(bin, filepath.Join(examples, "title-generator"), "-i", "SUMMARY=tides", "--temporal", addr, "--task-queue", queue)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, stderr.String())
	assert.Equal(t, exitFailed, exit.ExitCode())
	assert.Contains(t, stderr.String(), "fingerprint")
	assert.Contains(t, stderr.String(), "--skip-fingerprint-check")

	cmd = exec.Command(bin, filepath.Join(examples, "title-generator"), "-i", "SUMMARY=tides", "--temporal", addr, "--task-queue", queue, "--skip-fingerprint-check")
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.NotEmpty(t, strings.TrimSpace(string(out)))
}
