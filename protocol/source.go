package protocol

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// host is where agent folders are read from: the operating system's file
// system (Load) or an fs.FS (LoadFS). Paths are the host's own: OS paths
// for the operating system, slash-separated paths inside the fs.FS. Every
// file of an agent is read through a folder the host opens, never by a
// path of its own.
type host interface {
	// agentPaths splits the caller's path into the agent folder and its
	// protocol.yaml, both as displayed in diagnostics. ok is false when
	// path is a file other than protocol.yaml (dir is then its folder).
	agentPaths(path string) (dir, file string, ok bool)
	// key identifies a folder, so that each is loaded once and cycles of
	// workers are found.
	key(dir string) string
	// join joins a folder and slash-separated names.
	join(dir string, names ...string) string
	// rel names target relative to the folder base, slash-separated.
	rel(base, target string) string
	// open opens a folder; what is read through it stays inside it.
	open(dir string) (folder, error)
	// isDir reports whether dir is a folder.
	isDir(dir string) bool
	// readDir lists a folder.
	readDir(dir string) ([]fs.DirEntry, error)
	// outside reports whether dir lies outside what the host can read
	// (a worker path that leaves the fs.FS).
	outside(dir string) bool
}

// folder is an open folder: an fs.FS confined to it.
type folder interface {
	fs.FS
	// sub opens a folder inside this one, confined to that folder.
	sub(name string) (folder, error)
	Close() error
}

// osHost reads agent folders of the operating system. Each folder is an
// os.Root, so that no link inside it leads out of it.
type osHost struct{}

func (osHost) agentPaths(path string) (dir, file string, ok bool) {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return filepath.Dir(path), path, filepath.Base(path) == protocolFile
	}
	return path, filepath.Join(path, protocolFile), true
}

func (osHost) key(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

func (osHost) join(dir string, names ...string) string {
	elems := append([]string{dir}, names...)
	for i := 1; i < len(elems); i++ {
		elems[i] = filepath.FromSlash(elems[i])
	}
	return filepath.Join(elems...)
}

// rel falls back to absolute paths when base and target cannot be related
// as written (such as "../a" and "../../b").
func (h osHost) rel(base, target string) string {
	name, err := filepath.Rel(base, target)
	if err != nil {
		if name, err = filepath.Rel(h.key(base), h.key(target)); err != nil {
			name = target
		}
	}
	return filepath.ToSlash(name)
}

func (osHost) open(dir string) (folder, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return rootFolder{FS: root.FS(), root: root}, nil
}

func (osHost) isDir(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

func (osHost) readDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }

func (osHost) outside(string) bool { return false }

// rootFolder is a folder of the operating system opened as an os.Root.
type rootFolder struct {
	fs.FS
	root *os.Root
}

func (f rootFolder) sub(name string) (folder, error) {
	root, err := f.root.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	return rootFolder{FS: root.FS(), root: root}, nil
}

func (f rootFolder) Close() error { return f.root.Close() }

// Stat implements fs.StatFS without opening the file (a named pipe would
// block the open); the embedded fs.FS hides the root's own Stat.
func (f rootFolder) Stat(name string) (fs.FileInfo, error) { return f.root.Stat(name) }

// fsHost reads agent folders inside an fs.FS. Paths are cleaned,
// slash-separated and may not leave the fs.FS: absolute paths and ".."
// that climbs above its root are refused. Links are the fs.FS's business:
// what it opens is what is read.
type fsHost struct{ fsys fs.FS }

// errOutsideFS refuses a path that leaves the fs.FS.
var errOutsideFS = errors.New(`the path leaves the file system the agents are read from (no "..", no absolute path)`)

func (h fsHost) agentPaths(p string) (dir, file string, ok bool) {
	p = path.Clean(filepath.ToSlash(p))
	if st, err := fs.Stat(h.fsys, p); fs.ValidPath(p) && err == nil && !st.IsDir() {
		return path.Dir(p), p, path.Base(p) == protocolFile
	}
	return p, path.Join(p, protocolFile), true
}

func (fsHost) key(dir string) string { return path.Clean(dir) }

func (fsHost) join(dir string, names ...string) string {
	return path.Join(append([]string{dir}, names...)...)
}

// rel relates two cleaned paths inside the fs.FS, which never climb above
// its root, so the result never depends on where the fs.FS is.
func (fsHost) rel(base, target string) string {
	split := func(p string) []string {
		if p = path.Clean(p); p == "." {
			return nil
		}
		return strings.Split(p, "/")
	}
	b, t := split(base), split(target)
	common := 0
	for common < len(b) && common < len(t) && b[common] == t[common] {
		common++
	}
	parts := make([]string, 0, len(b)-common+len(t)-common)
	for range b[common:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[common:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}

func (h fsHost) open(dir string) (folder, error) {
	return subFolder(h.fsys, dir)
}

func (h fsHost) isDir(dir string) bool {
	if !fs.ValidPath(dir) {
		return false
	}
	st, err := fs.Stat(h.fsys, dir)
	return err == nil && st.IsDir()
}

func (h fsHost) readDir(dir string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(dir) {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: errOutsideFS}
	}
	return fs.ReadDir(h.fsys, dir)
}

func (fsHost) outside(dir string) bool { return !fs.ValidPath(dir) }

// fsFolder is a folder inside an fs.FS.
type fsFolder struct{ fs.FS }

// subFolder opens the folder name of fsys.
func subFolder(fsys fs.FS, name string) (folder, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errOutsideFS}
	}
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errNotDir}
	}
	sub, err := fs.Sub(fsys, name)
	if err != nil {
		return nil, err
	}
	return fsFolder{sub}, nil
}

var errNotDir = errors.New("not a folder")

func (f fsFolder) sub(name string) (folder, error) { return subFolder(f.FS, name) }

func (fsFolder) Close() error { return nil }

var errTooLarge = errors.New("file too large")
var errNotRegular = errors.New("not a regular file")

// readLimited reads the regular file name of fsys, at most limit bytes:
// a larger file is refused by its size, and whatever its size claims no
// more than limit+1 bytes are read.
func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	// Stat first: opening a named pipe or a device would block or act.
	if st, err := fs.Stat(fsys, name); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errNotRegular
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", errTooLarge, st.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("%w: more than %d bytes", errTooLarge, limit)
	}
	return data, err
}
