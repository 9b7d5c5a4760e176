//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package filelock

import "os"

// osLocks says that there is no operating-system lock here: the file,
// created exclusively, is the lock, and a process that dies holding it
// leaves it behind.
const osLocks = false

// osLock has nothing to do: creating the file took the lock.
func osLock(*os.File) error { return nil }

// unlockAndRemove removes the lock file.
func unlockAndRemove(f *os.File, path string) {
	_ = f.Close()
	_ = os.Remove(path)
}
