//go:build unix

package runtime_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/runtime"
)

// A command that exits while a process it started in the background still
// holds its standard output: the call ends when the command exits, with
// its output, and the process it left is killed. (It used to fail after
// 1 s with "exec: WaitDelay expired before I/O complete", and the process
// lived on.)
func TestCommandToolKillsWhatTheCommandLeft(t *testing.T) {
	for _, c := range []struct{ name, command, err string }{
		{"exit 0", `echo '{"ok": true}'`, ""},
		{"exit 4", `echo broken >&2; exit 4`, "the command failed (exit status 4): broken"},
	} {
		t.Run(c.name, func(t *testing.T) {
			late := filepath.Join(t.TempDir(), "late")
			start := time.Now()
			got, err := runtime.CommandTool(`(sleep 1.5; touch `+late+`) & `+c.command, 10*time.Second)(t.Context(), nil)
			if c.err == "" {
				require.NoError(t, err)
				assert.Equal(t, map[string]any{"ok": true}, got)
			} else {
				require.EqualError(t, err, c.err)
			}
			assert.Less(t, time.Since(start), time.Second, "the call ends when the command exits")
			time.Sleep(2*time.Second - time.Since(start))
			assert.NoFileExists(t, late, "the background process was killed")
		})
	}
}
