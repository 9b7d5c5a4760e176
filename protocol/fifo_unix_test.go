//go:build unix

package protocol_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// A named pipe in the agent folder, in place of any file octrun reads, is
// refused at once instead of blocking the load forever in open(2).
func TestNamedPipeIsRefused(t *testing.T) {
	for _, name := range []string{"protocol.yaml", "settings.json", "prompts/system.md"} {
		t.Run(name, func(t *testing.T) {
			dir := writeAgent(t, t.TempDir())
			path := filepath.Join(dir, name)
			require.NoError(t, os.Remove(path))
			require.NoError(t, syscall.Mkfifo(path, 0o644))
			done := make(chan error, 1)
			go func() {
				_, err := protocol.Load(dir)
				done <- err
			}()
			select {
			case err := <-done:
				require.Error(t, err)
				assert.Contains(t, err.Error(), "not a regular file")
			case <-time.After(5 * time.Second):
				t.Fatal("loading blocked on the named pipe")
			}
		})
	}
}
