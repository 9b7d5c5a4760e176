package protocol_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// agents is a folder of agents: main declares helper (a sibling, by slug)
// and booker (by path, in a nested folder); its prompt includes a shared
// part and its thread lists a reference.
var agents = map[string]string{
	"main/settings.json": `{"slug": "main", "name": "Main", "format": "worker"}`,
	"main/protocol.yaml": `workers:
  helper:
    description: Helps
  booker:
    description: Books
    path: ../nested/booker
variables:
  NOTE: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
    references: [faq]
    workers: [helper]
  Answer:
    block: next-message
    output: NOTE
  Book:
    block: run-worker
    worker: booker
    output: NOTE
output: NOTE
`,
	"main/prompts/system.md":          "You help.\n{{@shared/tone.md}}\n",
	"main/prompts/shared/tone.md":     "Be brief.\n",
	"main/references/faq.md":          "---\ndescription: Frequent questions\n---\nQ and A.\n",
	"helper/settings.json":            `{"slug": "helper", "name": "Helper", "format": "worker"}`,
	"helper/protocol.yaml":            minimalProtocol,
	"helper/prompts/system.md":        "You assist.\n",
	"nested/booker/settings.json":     `{"slug": "booker", "name": "Booker", "format": "worker"}`,
	"nested/booker/protocol.yaml":     minimalProtocol,
	"nested/booker/prompts/system.md": "You book.\n",
}

const minimalProtocol = `variables:
  DONE: { type: string }
steps:
  Start:
    block: start-thread
    thread: main
    model: openai/gpt-4o-mini
    system: system
  Answer:
    block: next-message
    output: DONE
output: DONE
`

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text), Mode: 0o644}
	}
	return fsys
}

func with(files map[string]string, changes map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

func TestLoadFSAgentWithPromptsIncludesAndWorkers(t *testing.T) {
	fsys := mapFS(agents)
	require.NoError(t, fstest.TestFS(fsys, "main/protocol.yaml"))
	p, err := protocol.LoadFS(fsys, "main")
	require.NoError(t, err, messages(p))
	assert.Empty(t, p.Diagnostics)
	assert.True(t, p.FromFS())
	assert.Equal(t, "main", p.Dir)
	assert.Equal(t, "main/protocol.yaml", p.File)
	assert.Contains(t, p.Prompts, "system")
	assert.Equal(t, "Be brief.\n", string(p.Source("main/prompts/shared/tone.md")), "the include was read through the fs.FS")
	require.Contains(t, p.References, "faq")
	assert.Equal(t, "main/references/faq.md", p.References["faq"].File)

	helper, booker := p.Worker("helper"), p.Worker("booker")
	require.NotNil(t, helper.Protocol, "a sibling found by slug")
	require.NotNil(t, booker.Protocol, "a worker found by path")
	assert.Equal(t, "helper", helper.Protocol.Dir)
	assert.Equal(t, "nested/booker", booker.Protocol.Dir)
	assert.Equal(t, "booker", booker.Protocol.Settings.Slug.Value)

	// The path of protocol.yaml works as well as the folder, and paths are
	// cleaned.
	for _, dir := range []string{"main/protocol.yaml", "./main/", "nested/../main"} {
		q, err := protocol.LoadFS(fsys, dir)
		require.NoError(t, err, dir)
		assert.Equal(t, p.Fingerprint(), q.Fingerprint(), dir)
	}
}

func TestLoadFSFingerprintEqualsDisk(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, agents)
	fromDisk, err := protocol.Load(filepath.Join(dir, "main"))
	require.NoError(t, err, messages(fromDisk))
	assert.False(t, fromDisk.FromFS())
	fromFS, err := protocol.LoadFS(mapFS(agents), "main")
	require.NoError(t, err)
	assert.Equal(t, fromDisk.Fingerprint(), fromFS.Fingerprint())
	assert.Equal(t, fromDisk.Identity(), fromFS.Identity())
	assert.Equal(t, "main", fromFS.Identity().Slug)

	// A relative path to the same folder gives the same fingerprint.
	t.Chdir(dir)
	relative, err := protocol.Load("main")
	require.NoError(t, err)
	assert.Equal(t, fromDisk.Fingerprint(), relative.Fingerprint())

	// Another folder of agents with the same files: the same identity.
	other := t.TempDir()
	writeFiles(t, other, agents)
	moved, err := protocol.Load(filepath.Join(other, "main"))
	require.NoError(t, err)
	assert.Equal(t, fromDisk.Identity(), moved.Identity())

	// One byte of a worker's prompt changes it.
	changed, err := protocol.LoadFS(mapFS(with(agents, map[string]string{"helper/prompts/system.md": "You assist!\n"})), "main")
	require.NoError(t, err)
	assert.NotEqual(t, fromFS.Fingerprint(), changed.Fingerprint())
	require.ErrorIs(t, fromFS.Identity().Matches(changed), protocol.ErrIdentity)
	require.NoError(t, fromFS.Identity().Matches(fromDisk))
}

func TestIdentityString(t *testing.T) {
	p, err := protocol.LoadFS(mapFS(agents), "main")
	require.NoError(t, err)
	id := p.Identity()
	assert.Equal(t, "main@"+p.Fingerprint(), id.String())
	back, err := protocol.ParseIdentity(id.String())
	require.NoError(t, err)
	assert.Equal(t, id, back)
	for _, bad := range []string{"main", "main@abc", "Main@" + p.Fingerprint(), "@" + p.Fingerprint(), "main@" + strings.ToUpper(p.Fingerprint())} {
		_, err := protocol.ParseIdentity(bad)
		assert.Error(t, err, bad)
	}
}

func TestLoadFSSizeLimits(t *testing.T) {
	big := with(agents, map[string]string{"main/prompts/shared/tone.md": strings.Repeat("x", protocol.MaxPromptSize+1)})
	p, err := protocol.LoadFS(mapFS(big), "main")
	require.Error(t, err)
	assert.Contains(t, messages(p), `main/prompts/system.md:2:1: error: cannot read include "shared/tone.md": file too large: 1048577 bytes, the limit is 1048576`)

	big = with(agents, map[string]string{"main/protocol.yaml": strings.Repeat("# padding\n", protocol.MaxProtocolSize/10+1)})
	p, err = protocol.LoadFS(mapFS(big), "main")
	require.Error(t, err)
	assert.Contains(t, messages(p), "main/protocol.yaml: error: protocol.yaml is too large")
}

// lyingFS claims every file is one byte long and counts what is read. It
// has only Open, so that fs.Sub, fs.Stat and fs.ReadDir go through it.
type lyingFS struct {
	files fstest.MapFS
	read  map[string]int
}

func (l lyingFS) Open(name string) (fs.File, error) {
	f, err := l.files.Open(name)
	if err != nil {
		return nil, err
	}
	return &lyingFile{File: f, fs: l, name: name}, nil
}

type lyingFile struct {
	fs.File
	fs   lyingFS
	name string
}

func (f *lyingFile) Stat() (fs.FileInfo, error) {
	st, err := f.File.Stat()
	if err != nil || st.IsDir() {
		return st, err
	}
	return oneByte{st}, nil
}

func (f *lyingFile) Read(b []byte) (int, error) {
	n, err := f.File.Read(b)
	f.fs.read[f.name] += n
	return n, err
}

// ReadDir keeps the directories of the MapFS listable.
func (f *lyingFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d, ok := f.File.(fs.ReadDirFile); ok {
		return d.ReadDir(n)
	}
	return nil, errors.New("not a directory")
}

type oneByte struct{ fs.FileInfo }

func (oneByte) Size() int64 { return 1 }

func TestLoadFSReadsAtMostTheLimit(t *testing.T) {
	files := with(agents, map[string]string{"main/protocol.yaml": strings.Repeat("# padding\n", protocol.MaxProtocolSize/5)})
	fsys := lyingFS{files: mapFS(files), read: map[string]int{}}
	p, err := protocol.LoadFS(fsys, "main")
	require.Error(t, err)
	assert.Contains(t, messages(p), "protocol.yaml is too large (more than 4194304 bytes)")
	assert.Equal(t, protocol.MaxProtocolSize+1, fsys.read["main/protocol.yaml"])
}

func TestLoadFSRefusesPathsThatLeave(t *testing.T) {
	fsys := mapFS(agents)
	for _, dir := range []string{"../main", "/main", "main/../../main"} {
		p, err := protocol.LoadFS(fsys, dir)
		require.Error(t, err, dir)
		assert.Contains(t, messages(p), "cannot open the agent folder: the path leaves the file system", dir)
	}
	p, err := protocol.LoadFS(fstest.MapFS{}, ".")
	require.Error(t, err)
	assert.Contains(t, messages(p), "protocol.yaml is missing")

	// A worker's path may not climb out of fsys either.
	escape := with(agents, map[string]string{"main/protocol.yaml": strings.Replace(agents["main/protocol.yaml"], "../nested/booker", "../../outside", 1)})
	p, err = protocol.LoadFS(mapFS(escape), "main")
	require.Error(t, err)
	assert.Contains(t, messages(p), `main/protocol.yaml:6:11: error: worker "booker": path "../../outside" leaves the file system the agents are read from (it is resolved from main)`)

	// Includes may not leave prompts/.
	include := with(agents, map[string]string{"main/prompts/system.md": "{{@../protocol.yaml}}\n{{@/etc/passwd.md}}\n"})
	p, err = protocol.LoadFS(mapFS(include), "main")
	require.Error(t, err)
	assert.Contains(t, messages(p), `main/prompts/system.md:1:1: error: include path "../protocol.yaml" leaves prompts/: ".." is not allowed`)
	assert.Contains(t, messages(p), `main/prompts/system.md:2:1: error: include path "/etc/passwd.md" is absolute`)
}

func TestLoadFSAtTheRootOfTheFS(t *testing.T) {
	fsys := fstest.MapFS{}
	for name, text := range agents {
		if rest, ok := strings.CutPrefix(name, "helper/"); ok {
			fsys[rest] = &fstest.MapFile{Data: []byte(text)}
		}
	}
	p, err := protocol.LoadFS(fsys, ".")
	require.NoError(t, err, messages(p))
	assert.Equal(t, "helper", p.Settings.Slug.Value)
	assert.Equal(t, "protocol.yaml", p.File)
}

func TestCatalog(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, with(agents, map[string]string{
		".hidden/settings.json": `{"slug": "hidden", "name": "H", "format": "worker"}`,
		"notes/readme.md":       "not an agent",
	}))
	fsCatalog, err := protocol.NewCatalog(mapFS(agents))
	require.NoError(t, err)
	diskCatalog, err := protocol.NewCatalogDir(dir)
	require.NoError(t, err)

	for name, c := range map[string]*protocol.Catalog{"fs": fsCatalog, "disk": diskCatalog} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, []string{"helper", "main"}, c.Slugs(), "folders directly inside, by the slug of settings.json")
			p, err := c.Load("main")
			require.NoError(t, err, messages(p))
			require.NotNil(t, p.Worker("helper").Protocol, "siblings resolve inside the catalog")

			_, err = c.Load("mian")
			require.ErrorIs(t, err, protocol.ErrUnknownAgent)
			var unknown *protocol.UnknownAgentError
			require.ErrorAs(t, err, &unknown)
			assert.Equal(t, []string{"helper", "main"}, unknown.Known)
			assert.EqualError(t, err, `no agent has slug "mian" (did you mean "main"?); the agents are helper, main`)
			_, err = c.Load("booker")
			assert.EqualError(t, err, `no agent has slug "booker"; the agents are helper, main`, "nested folders are not agents of the catalog")
		})
	}
	fromDisk, err := diskCatalog.Load("main")
	require.NoError(t, err)
	fromFS, err := fsCatalog.Load("main")
	require.NoError(t, err)
	assert.Equal(t, fromDisk.Identity(), fromFS.Identity())
	d, err := diskCatalog.Dir("helper")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "helper"), d)

	p, err := protocol.LoadAgent(mapFS(agents), "helper")
	require.NoError(t, err)
	assert.Equal(t, "helper", p.Settings.Slug.Value)

	empty, err := protocol.NewCatalog(fstest.MapFS{})
	require.NoError(t, err)
	_, err = empty.Load("main")
	assert.EqualError(t, err, `no agent has slug "main": the folder of agents holds none`)

	dup := with(agents, map[string]string{"copy/settings.json": agents["helper/settings.json"]})
	_, err = protocol.NewCatalog(mapFS(dup))
	assert.EqualError(t, err, `the folder of agents . is ambiguous: copy and helper both have slug "helper"; give each agent its own slug`)

	_, err = protocol.NewCatalogDir(filepath.Join(dir, "nope"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// Names and contents are hashed after their lengths: files whose bytes run
// together the same way do not share a fingerprint.
func TestFingerprintHasNoAmbiguousFiles(t *testing.T) {
	const x, y = "---\ndescription: X\n---\n1", "---\ndescription: Y\n---\n2"
	agent := func(refs map[string]string) fstest.MapFS {
		fsys := fstest.MapFS{
			"a/settings.json": {Data: []byte(`{"slug": "a", "name": "A", "format": "worker"}`)},
			"a/protocol.yaml": {Data: []byte("steps: {}\n")},
		}
		for name, text := range refs {
			fsys["a/references/"+name] = &fstest.MapFile{Data: []byte(text)}
		}
		return fsys
	}
	one, err := protocol.LoadFS(agent(map[string]string{"x.md": x + "\x00references/y.md\x00" + y}), "a")
	require.NoError(t, err)
	two, err := protocol.LoadFS(agent(map[string]string{"x.md": x, "y.md": y}), "a")
	require.NoError(t, err)
	assert.NotEqual(t, one.Fingerprint(), two.Fingerprint())
}
