// Command octrun runs and checks Octavus worker protocols.
//
//	octrun validate PATH [--json]   check a protocol without running it
//	octrun version                  print the version
//
// See the README and CLI.md for the full contract.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
