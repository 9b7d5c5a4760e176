//go:build unix

package benchpair

import "syscall"

// processCPU is the CPU time, user and system, the process has used so
// far, in nanoseconds; ok is false when it cannot be read.
func processCPU() (ns float64, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return float64(ru.Utime.Nano() + ru.Stime.Nano()), true
}
