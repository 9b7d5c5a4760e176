//go:build !unix

package mcp

import (
	"os"
	"os/exec"
)

// setProcessGroup does nothing: process groups are a Unix feature.
func setProcessGroup(*exec.Cmd) {}

// terminate kills p: there is no SIGTERM here.
func terminate(p *os.Process) {
	_ = p.Kill()
}

// kill kills p.
func kill(p *os.Process) {
	_ = p.Kill()
}
