package protocol_test

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
)

var update = flag.Bool("update", false, "rewrite the want section of golden files")

// TestInvalidProtocols loads each archive of testdata/invalid and compares
// every diagnostic (file:line:col, severity, message, source line, caret)
// with the archive's want section. The archive's files form the agent
// folder; when they are under main/, main/ is the agent loaded and the other
// folders are its siblings (workers).
func TestInvalidProtocols(t *testing.T) {
	files, err := filepath.Glob(absPath(t, "../testdata/invalid/*.txtar"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 30, "the golden suite pins at least 30 invalid protocols")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, agentFiles, want, agent := readInvalid(t, file)
			dir := t.TempDir()
			for _, f := range agentFiles {
				path := filepath.Join(dir, filepath.FromSlash(f.Name))
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, f.Data, 0o644))
			}
			got := validateIn(t, dir, agent)
			if *update {
				ar.Files = replaceWant(ar.Files, got)
				require.NoError(t, os.WriteFile(file, txtar.Format(ar), 0o644))
				return
			}
			assert.Equal(t, string(want), got)
		})
	}
}

// TestInvalidProtocolsFromFS loads each archive of testdata/invalid from an
// fs.FS: the diagnostics, file names included, are the same as from disk.
func TestInvalidProtocolsFromFS(t *testing.T) {
	files, err := filepath.Glob("../testdata/invalid/*.txtar")
	require.NoError(t, err)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			_, agentFiles, want, agent := readInvalid(t, file)
			fsys := fstest.MapFS{}
			for _, f := range agentFiles {
				fsys[f.Name] = &fstest.MapFile{Data: f.Data}
			}
			p, err := protocol.LoadFS(fsys, agent)
			require.Error(t, err, "an invalid protocol must fail to load")
			var b bytes.Buffer
			require.NoError(t, diag.Write(&b, p.Diagnostics, p.Source))
			assert.Equal(t, string(want), b.String())
		})
	}
}

// readInvalid reads an archive of testdata/invalid: the agent's files, the
// wanted report, and the agent to load ("main" when the files are under
// main/, the others being its siblings; else ".").
func readInvalid(t *testing.T, file string) (ar *txtar.Archive, agentFiles []txtar.File, want []byte, agent string) {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	require.NoError(t, err)
	agent = "."
	for _, f := range ar.Files {
		switch {
		case f.Name == "want":
			want = f.Data
			continue
		case strings.HasPrefix(f.Name, "main/"):
			agent = "main"
		}
		agentFiles = append(agentFiles, f)
	}
	return ar, agentFiles, want, agent
}

// validateIn loads agent (relative to dir) from inside dir, so that file
// names in diagnostics are relative and stable, and renders the report.
func validateIn(t *testing.T, dir, agent string) string {
	t.Helper()
	t.Chdir(dir)
	p, err := protocol.Load(agent)
	require.Error(t, err, "an invalid protocol must fail to load")
	require.True(t, p.Diagnostics.HasErrors())
	var b bytes.Buffer
	require.NoError(t, diag.Write(&b, p.Diagnostics, p.Source))
	return b.String()
}

func replaceWant(files []txtar.File, got string) []txtar.File {
	for i := range files {
		if files[i].Name == "want" {
			files[i].Data = []byte(got)
			return files
		}
	}
	return append(files, txtar.File{Name: "want", Data: []byte(got)})
}

// TestValidExamples loads every agent of testdata/valid: each must load
// with no diagnostic at all, warnings included.
func TestValidExamples(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/valid/*")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p, err := protocol.Load(dir)
			require.NoError(t, err, "%v", p.Diagnostics)
			assert.Empty(t, p.Diagnostics)
			assert.NotEmpty(t, p.Steps)
		})
	}
}

// TestValidExamplesFromFS loads every agent of testdata/valid through an
// fs.FS: no diagnostic, and the fingerprint of the same files from disk.
func TestValidExamplesFromFS(t *testing.T) {
	root, err := os.OpenRoot("../testdata/valid")
	require.NoError(t, err)
	defer root.Close()
	entries, err := fs.ReadDir(root.FS(), ".")
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			p, err := protocol.LoadFS(root.FS(), e.Name())
			require.NoError(t, err, "%v", p.Diagnostics)
			assert.Empty(t, p.Diagnostics)
			fromDisk, err := protocol.Load(filepath.Join("../testdata/valid", e.Name()))
			require.NoError(t, err)
			assert.Equal(t, fromDisk.Fingerprint(), p.Fingerprint())
		})
	}
}

func absPath(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	require.NoError(t, err)
	return abs
}
