// Package filelock takes exclusive locks on files, without waiting: the
// claim that lets one process at a time work on a thing kept on disk.
//
// Where the operating system offers file locks (flock on Linux, macOS and
// the BSDs, LockFileEx on Windows) the lock is the operating system's, so
// it is dropped when its process ends, however it ends: a crashed process
// leaves no lock behind. Elsewhere the lock is the lock file itself,
// created exclusively (O_EXCL) and removed on unlock; a process that dies
// holding it leaves it, and it must be removed by hand (ErrLocked says
// which file).
package filelock

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrLocked is returned by TryLock when another holder has the lock.
var ErrLocked = errors.New("the lock is held")

// LockedError is the error of a lock that another holder has: which file,
// and the process id the holder wrote in it, when it could be read.
type LockedError struct {
	Path string
	// PID is the holder's process id, 0 when unknown.
	PID int
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s is held by process %d", e.Path, e.PID)
	}
	return e.Path + " is held"
}

// Is makes a *LockedError match ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// TryLock takes the exclusive lock of path, creating the file if need be,
// or fails at once with a *LockedError when another holder has it. The
// holder's process id is written in the file. unlock gives the lock back
// and removes the file (when no one else has it open).
func TryLock(path string) (unlock func(), err error) {
	// A lock taken on a file that its holder removed in the meantime is
	// worth nothing: take it again on the file now at path.
	for range 10 {
		f, err := lock(path)
		if err != nil {
			return nil, err
		}
		if same(f, path) {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			return func() { unlockAndRemove(f, path) }, nil
		}
		_ = f.Close()
	}
	return nil, locked(path)
}

// errBusy is what osLock returns when another holds the lock.
var errBusy = errors.New("busy")

// lock opens path and locks it: with the operating system's lock, or by
// creating it exclusively where there is none.
func lock(path string) (*os.File, error) {
	flags := os.O_RDWR | os.O_CREATE
	if !osLocks {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, locked(path)
	}
	if err != nil {
		return nil, err
	}
	if err := osLock(f); err != nil {
		_ = f.Close()
		if errors.Is(err, errBusy) {
			return nil, locked(path)
		}
		return nil, err
	}
	return f, nil
}

// same reports whether f is the file at path now.
func same(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	at, err := os.Stat(path)
	return err == nil && os.SameFile(fi, at)
}

// locked is the error of path held by another, with the process id it
// holds when it can be read.
func locked(path string) error {
	e := &LockedError{Path: path}
	if data, err := os.ReadFile(path); err == nil {
		e.PID, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	return e
}
