//go:build !unix

package main

// catchBrokenPipe does nothing where there is no SIGPIPE.
func catchBrokenPipe() {}
