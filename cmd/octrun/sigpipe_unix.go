//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// catchBrokenPipe makes a write to a closed pipe fail with EPIPE instead of
// killing the process: the run is then cancelled cleanly (its tool and MCP
// processes stopped) and the command says why.
func catchBrokenPipe() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}
