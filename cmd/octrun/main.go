// Command octrun runs and checks Octavus worker protocols.
//
//	octrun [run] PATH [flags]       run a worker
//	octrun validate PATH [--json]   check a protocol without running it
//	octrun version                  print the version
//
// See the README for the full contract.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	catchBrokenPipe()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}
