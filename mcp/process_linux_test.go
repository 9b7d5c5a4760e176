package mcp_test

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/mcp"
)

// processAlive reports whether process pid runs; a zombie (exited, not yet
// reaped by its parent) does not.
func processAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// A server that dies between calls is restarted before the next call is
// sent, which succeeds.
func TestDeadBetweenCallsIsRestarted(t *testing.T) {
	m := newManager(t, []mcp.Config{stdio()})
	first := pid(t, m)
	p, err := os.FindProcess(first)
	require.NoError(t, err)
	require.NoError(t, p.Kill())
	require.Eventually(t, func() bool { return !processAlive(first) }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // the exit is recorded just after the process is reaped

	got, err := m.Call(t.Context(), "calc__echo", map[string]any{"text": "again"})
	require.NoError(t, err)
	assert.Equal(t, "again", got)
	assert.NotEqual(t, first, pid(t, m))
}

// Close stops the server and what it started, and leaves no goroutine.
func TestCloseStopsProcesses(t *testing.T) {
	before := runtime.NumGoroutine()
	m, err := mcp.New([]mcp.Config{stdio()})
	require.NoError(t, err)
	server := pid(t, m)
	res, err := m.Call(t.Context(), "calc__spawn", nil)
	require.NoError(t, err)
	child := int(res.(map[string]any)["pid"].(float64))
	require.True(t, processAlive(server))
	require.True(t, processAlive(child))

	start := time.Now()
	require.NoError(t, m.Close())
	assert.Less(t, time.Since(start), time.Second, "the server exits when its standard input ends")
	assert.False(t, processAlive(server), "the server is stopped")
	assert.Eventually(t, func() bool { return !processAlive(child) }, 2*time.Second, 10*time.Millisecond,
		"what the server started is stopped with it")
	noLeaks(t, before)
}

// A server that does not exit when its standard input ends, nor on SIGTERM,
// is killed.
func TestCloseKillsLingeringServer(t *testing.T) {
	m, err := mcp.New([]mcp.Config{stdio("linger")})
	require.NoError(t, err)
	server := pid(t, m)
	start := time.Now()
	require.NoError(t, m.Close())
	assert.Greater(t, time.Since(start), 3*time.Second, "stdin closed, then SIGTERM, then SIGKILL")
	assert.False(t, processAlive(server))
}
