//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package filelock

import (
	"errors"
	"os"
	"syscall"
)

// osLocks says that the lock is the operating system's.
const osLocks = true

// osLock takes the flock of f, which the kernel drops when the process
// ends.
func osLock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errBusy
		}
		return err
	}
}

// unlockAndRemove removes the file while it is still locked, so that whoever
// opened it meanwhile finds it gone once they have the lock, then drops
// the lock.
func unlockAndRemove(f *os.File, path string) {
	_ = os.Remove(path)
	_ = f.Close()
}
