package filelock_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/internal/filelock"
)

// One holder at a time; the lock is taken again once given back, and the
// file is gone with it.
func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.lock")
	unlock, err := filelock.TryLock(path)
	require.NoError(t, err)
	_, err = filelock.TryLock(path)
	require.ErrorIs(t, err, filelock.ErrLocked)
	var le *filelock.LockedError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, path, le.Path)
	assert.Equal(t, os.Getpid(), le.PID, "the holder's process id is in the file")
	unlock()
	assert.NoFileExists(t, path)

	unlock, err = filelock.TryLock(path)
	require.NoError(t, err)
	unlock()
}

// A process that dies holding the lock does not keep it: the operating
// system drops it.
func TestLockOfKilledProcessIsFree(t *testing.T) {
	if os.Getenv("FILELOCK_HOLD") != "" {
		if _, err := filelock.TryLock(os.Getenv("FILELOCK_HOLD")); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		select {}
	}
	path := filepath.Join(t.TempDir(), "run.lock")
	holder := exec.Command(os.Args[0], "-test.run=^TestLockOfKilledProcessIsFree$")
	holder.Env = append(os.Environ(), "FILELOCK_HOLD="+path)
	stdout, err := holder.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, holder.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "locked\n", line)

	_, err = filelock.TryLock(path)
	var le *filelock.LockedError
	require.ErrorAs(t, err, &le, "another process holds it")
	assert.Equal(t, holder.Process.Pid, le.PID)

	require.NoError(t, holder.Process.Kill())
	_ = holder.Wait()
	assert.FileExists(t, path, "the dead holder left its file")
	unlock, err := filelock.TryLock(path)
	require.NoError(t, err, "but not its lock")
	unlock()
}
