// Package proc runs a command in a process group of its own, so that the
// command can be stopped together with every process it started: a command
// tool when its call ends (it exited, failed, timed out or wrote too much),
// an MCP stdio server on Close.
//
// Process groups are a Unix feature. Elsewhere, on Windows in particular,
// the functions of this package act on the one process they are given:
// processes it started may survive it, as nothing puts them in a job
// object.
package proc
