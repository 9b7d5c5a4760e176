//go:build windows

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// osLocks says that the lock is the operating system's.
const osLocks = true

// osLock takes the LockFileEx lock of f, which Windows drops when the
// process ends.
func osLock(f *os.File) error {
	var ol windows.Overlapped
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errBusy
	}
	return err
}

// unlockAndRemove drops the lock, then removes the file; the removal fails,
// harmlessly, while another process has the file open.
func unlockAndRemove(f *os.File, path string) {
	var ol windows.Overlapped
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
	_ = f.Close()
	_ = os.Remove(path)
}
