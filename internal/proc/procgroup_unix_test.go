//go:build unix

package proc

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Kill stops the command and the processes it started: once they are all
// dead, nothing holds the write end of their output pipe open.
func TestKillStopsTheGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & echo started; sleep 30")
	SetGroup(cmd)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	cmd.Stdout = w
	require.NoError(t, cmd.Start())
	_ = w.Close()
	out := bufio.NewReader(r)
	line, err := out.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "started\n", line)

	require.NoError(t, Kill(cmd.Process))
	eof := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(out)
		eof <- err
	}()
	select {
	case err := <-eof:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("a process of the group still holds the pipe open")
	}
	assert.Error(t, cmd.Wait(), "killed")
}

// Terminate sends SIGTERM, which a shell's children die of too.
func TestTerminateStopsTheGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30")
	SetGroup(cmd)
	require.NoError(t, cmd.Start())
	time.Sleep(100 * time.Millisecond) // the shell has started its children
	require.NoError(t, Terminate(cmd.Process))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.Error(t, err, "terminated")
	case <-time.After(5 * time.Second):
		t.Fatal("the command did not exit after SIGTERM")
	}
}
