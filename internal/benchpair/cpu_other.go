//go:build !unix

package benchpair

// processCPU cannot read the process's CPU time here.
func processCPU() (ns float64, ok bool) { return 0, false }
