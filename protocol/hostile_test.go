package protocol_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// writeAgent writes a minimal valid worker into dir and returns dir.
func writeAgent(t *testing.T, dir string) string {
	t.Helper()
	writeFiles(t, dir, map[string]string{
		"settings.json":     `{"slug": "w", "name": "W", "format": "worker"}`,
		"protocol.yaml":     "steps:\n  Start:\n    block: start-thread\n    thread: main\n    model: openai/gpt-4o-mini\n    system: system\n",
		"prompts/system.md": "You help.\n",
	})
	return dir
}

// writeFiles writes files (slash-separated names to text) under dir.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(tb, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(tb, os.WriteFile(path, []byte(text), 0o644))
	}
}

// messages returns the diagnostics' messages.
func messages(p *protocol.Protocol) string {
	var b strings.Builder
	for _, d := range p.Diagnostics {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestMinimalAgentLoads(t *testing.T) {
	dir := writeAgent(t, t.TempDir())
	p, err := protocol.Load(dir)
	require.NoError(t, err)
	assert.Empty(t, p.Diagnostics)
	// The path of protocol.yaml works as well as the folder.
	p, err = protocol.Load(filepath.Join(dir, "protocol.yaml"))
	require.NoError(t, err)
	assert.Len(t, p.Steps, 1)
}

func TestPromptSymlinkOutsideAgentIsRefused(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.md")
	require.NoError(t, os.WriteFile(outside, []byte("TOP SECRET"), 0o644))
	dir := writeAgent(t, t.TempDir())
	system := filepath.Join(dir, "prompts", "system.md")
	require.NoError(t, os.Remove(system))
	require.NoError(t, os.Symlink(outside, system))

	p, err := protocol.Load(dir)
	require.Error(t, err)
	assert.Contains(t, messages(p), "link that leads outside")
	for _, src := range []string{"prompts/system.md"} {
		assert.NotContains(t, string(p.Source(filepath.Join(dir, src))), "TOP SECRET")
	}
}

func TestIncludeSymlinkOutsideAgentIsRefused(t *testing.T) {
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "x.md"), []byte("TOP SECRET"), 0o644))
	dir := writeAgent(t, t.TempDir())
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "prompts", "shared")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prompts", "system.md"), []byte("Hi {{@shared/x.md}}\n"), 0o644))

	p, err := protocol.Load(dir)
	require.Error(t, err)
	assert.Contains(t, messages(p), "link that leads outside prompts/")
}

func TestSymlinkInsideAgentIsFollowed(t *testing.T) {
	dir := writeAgent(t, t.TempDir())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prompts", "base.md"), []byte("Base.\n"), 0o644))
	system := filepath.Join(dir, "prompts", "system.md")
	require.NoError(t, os.Remove(system))
	require.NoError(t, os.Symlink("base.md", system))

	p, err := protocol.Load(dir)
	require.NoError(t, err, messages(p))
}

func TestProtocolSymlinkOutsideAgentIsRefused(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "protocol.yaml")
	require.NoError(t, os.WriteFile(outside, []byte("steps: {}\n"), 0o644))
	dir := writeAgent(t, t.TempDir())
	require.NoError(t, os.Remove(filepath.Join(dir, "protocol.yaml")))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "protocol.yaml")))

	p, err := protocol.Load(dir)
	require.Error(t, err)
	assert.Contains(t, messages(p), "protocol.yaml is a link that leads outside the agent folder")
}

func TestEnormousProtocolIsRefused(t *testing.T) {
	dir := writeAgent(t, t.TempDir())
	big := strings.Repeat("# padding line for a very large file\n", protocol.MaxProtocolSize/36+10)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "protocol.yaml"), []byte(big), 0o644))

	p, err := protocol.Load(dir)
	require.Error(t, err)
	assert.Contains(t, messages(p), "protocol.yaml is too large")
}

// A string alias bomb (issue 10 item 12): a 220 KB protocol.yaml whose
// variable default aliases a 100 KB string 20,000 times, 2 GB once
// rendered into a prompt, is refused when it loads, at the list that
// expands too far.
func TestStringAliasBombIsRefused(t *testing.T) {
	dir := writeAgent(t, t.TempDir())
	y := "variables:\n  BIG:\n    type: string\n    default: &big " + strings.Repeat("tide ", 20_000) + "\n" +
		"  COPIES:\n    type: unknown\n    default: [" + strings.Repeat("*big, ", 20_000) + "]\n" +
		"steps:\n  Start:\n    block: start-thread\n    thread: main\n    model: openai/gpt-4o-mini\n    system: system\n" +
		"  Ask:\n    block: add-message\n    role: user\n    prompt: ask\n    input: [COPIES]\n"
	writeFiles(t, dir, map[string]string{"protocol.yaml": y, "prompts/ask.md": "Read {{COPIES}}\n"})

	p, err := protocol.Load(dir)
	require.Error(t, err)
	assert.Equal(t, filepath.Join(dir, "protocol.yaml")+":7:14: error: the document expands to more than 4194304 bytes of text through aliases (each use of an alias copies its anchor's text); use fewer aliases of long values\n", messages(p))
}

func TestEnormousPromptIsRefused(t *testing.T) {
	dir := writeAgent(t, t.TempDir())
	prompt := strings.Repeat("x", protocol.MaxPromptSize+1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prompts", "system.md"), []byte(prompt), 0o644))

	p, err := protocol.Load(dir)
	require.Error(t, err)
	assert.Contains(t, messages(p), "too large")
}

func TestMissingFolder(t *testing.T) {
	p, err := protocol.Load(filepath.Join(t.TempDir(), "nope"))
	require.Error(t, err)
	assert.Contains(t, messages(p), "cannot open the agent folder")
}

func TestEmptyAndOddSettings(t *testing.T) {
	for _, tc := range []struct{ settings, want string }{
		{"", "settings.json:1:1: error: settings.json is not valid JSON: unexpected end of JSON input"},
		{"[1, 2]", "settings.json:1:1: error: settings.json must be a JSON object with slug, name and format"},
		{`{"slug": 7, "name": "N", "format": "worker"}`, "settings.json:1:10: error: slug must be a string, got a number"},
		{"{\n  \"slug\": \"s\",\n  \"name\": \"N\",\n  \"format\": \"worker\"\n}  x", "settings.json:5:4: error: settings.json is not valid JSON: invalid character 'x' after top-level value"},
	} {
		dir := writeAgent(t, t.TempDir())
		require.NoError(t, os.WriteFile(filepath.Join(dir, "settings.json"), []byte(tc.settings), 0o644))
		t.Chdir(dir)
		p, err := protocol.Load(".")
		require.Error(t, err)
		assert.Equal(t, tc.want, strings.TrimSpace(messages(p)), tc.settings)
	}
}

// PATH is the agent folder or its protocol.yaml: any other file of the
// folder is refused at its name, from disk as from an fs.FS, instead of
// checking protocol.yaml under the other file's name.
func TestLoadPathMustBeFolderOrProtocolYAML(t *testing.T) {
	dir := writeAgent(t, t.TempDir())
	writeFiles(t, dir, map[string]string{"other.yaml": "steps: {}\n"})
	for _, name := range []string{"settings.json", "other.yaml", filepath.Join("prompts", "system.md")} {
		path := filepath.Join(dir, name)
		p, err := protocol.Load(path)
		require.Error(t, err, name)
		require.Len(t, p.Diagnostics, 1, messages(p))
		d := p.Diagnostics[0]
		assert.Equal(t, path, d.File)
		assert.Zero(t, d.Line)
		assert.Equal(t, "the path to load must be an agent folder or its protocol.yaml, not "+filepath.Base(name)+"; give "+filepath.Dir(path), d.Message)
	}

	fsys := fstest.MapFS{}
	for _, name := range []string{"settings.json", "protocol.yaml", "prompts/system.md"} {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		require.NoError(t, err)
		fsys["a/"+name] = &fstest.MapFile{Data: data}
	}
	_, err := protocol.LoadFS(fsys, "a/protocol.yaml")
	require.NoError(t, err)
	p, err := protocol.LoadFS(fsys, "a/settings.json")
	require.Error(t, err)
	assert.Equal(t, "a/settings.json: error: the path to load must be an agent folder or its protocol.yaml, not settings.json; give a\n", messages(p))
}
