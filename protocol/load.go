package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v4"

	"github.com/octrun/octrun/internal/yamlx"
	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/protocol/template"
	"github.com/octrun/octrun/protocol/types"
)

// protocolFile is the name of the protocol in an agent folder.
const protocolFile = "protocol.yaml"

// File size limits: larger files are refused with a diagnostic instead of
// being read into memory.
const (
	MaxProtocolSize = 4 << 20
	MaxSettingsSize = 64 << 10
	MaxPromptSize   = 1 << 20
)

// Load reads the agent folder at path (the folder or its protocol.yaml;
// any other file is an error at its name), compiles its prompts and
// types, loads the workers it declares, and validates everything in one
// pass. protocol.yaml is a single YAML document.
//
// Every folder is opened as an os.Root: a file reached through a link
// that leads out of its agent folder (or an include through a link out of
// prompts/) is refused. Diagnostics name files by path joined to the path
// given.
//
// The returned Protocol is never nil and its Diagnostics hold every error
// and warning found, including those of declared workers. When any of them
// is an error, Load also returns them as a diag.List error; the Protocol
// must not be run then.
func Load(path string) (*Protocol, error) {
	return load(osHost{}, path)
}

// LoadFS is Load for an agent folder inside fsys, such as an embed.FS, an
// fstest.MapFS or a (*os.Root).FS: dir is a slash-separated path inside
// fsys (the folder or its protocol.yaml; "." for the root of fsys). Every
// file is read through fsys, with the limits of Load (at most limit+1 bytes
// of any file are read). Paths are cleaned; absolute paths and ".." that
// leave fsys are refused, in dir as in workers' paths. Declared workers are
// resolved inside fsys: by path relative to the declaring folder, or as the
// sibling folder whose settings.json has the slug. Diagnostics name files
// by their path inside fsys.
//
// Links are followed as fsys follows them: os.DirFS follows a link out of
// its folder, (*os.Root).FS does not. For an agent folder on disk, Load
// confines each folder on its own.
func LoadFS(fsys fs.FS, dir string) (*Protocol, error) {
	return load(fsHost{fsys}, dir)
}

// load loads the agent at path of h and the workers it declares.
func load(h host, path string) (*Protocol, error) {
	l := &loader{host: h, byDir: map[string]*Protocol{}, sources: map[string][]byte{}}
	p := l.load(path, nil)
	all := slices.Clone(p.Diagnostics)
	for _, q := range l.order {
		if q != p {
			all = append(all, q.Diagnostics...)
		}
	}
	p.Diagnostics = all.Sort()
	if p.Diagnostics.HasErrors() {
		return p, p.Diagnostics.Errors()
	}
	return p, nil
}

// Source returns the text of a file read while loading (for showing the
// line a diagnostic points at), or nil.
func (p *Protocol) Source(file string) []byte { return p.sources[file] }

// addSource keeps a file p read, under its display name.
func (p *Protocol) addSource(display string, data []byte) {
	if _, ok := p.sources[display]; !ok {
		p.files = append(p.files, display)
	}
	p.sources[display] = data
}

// loader loads a protocol and the workers it declares, once each.
type loader struct {
	host    host
	byDir   map[string]*Protocol // by folder key (absolute path on the OS)
	order   []*Protocol          // in the order loaded
	loading []string             // keys of the folders being loaded, for cycles
	sources map[string][]byte
}

// load loads the agent at path; from is the declaration that asked for it
// (nil for the top-level agent).
func (l *loader) load(path string, from *declRef) *Protocol {
	dir, file, isAgent := l.host.agentPaths(path)
	abs := l.host.key(dir)
	if i := slices.Index(l.loading, abs); i >= 0 {
		if from != nil {
			chain := append(slices.Clone(l.loadingSlugs()[i:]), from.decl.Slug.Value)
			from.owner.Diagnostics.Errorf(from.decl.Slug.Pos, "worker cycle: %s; a worker may not call itself, directly or through others", strings.Join(chain, " -> "))
		}
		return nil
	}
	if p, ok := l.byDir[abs]; ok {
		return p
	}
	p := &Protocol{Dir: dir, File: file, host: l.host, sources: l.sources, Prompts: map[string]*template.Template{}, References: map[string]*Reference{}}
	p.inputValidator = sync.OnceValues(func() (*types.Validator, error) { return types.NewValidator(p.inputSchema(true)) })
	l.byDir[abs] = p
	l.order = append(l.order, p)
	l.loading = append(l.loading, abs)
	defer func() { l.loading = l.loading[:len(l.loading)-1] }()
	if !isAgent {
		p.Diagnostics.Errorf(diag.Pos{File: file}, "the path to load must be an agent folder or its %s, not %s; give %s", protocolFile, filepath.Base(file), dir)
		return p
	}

	root, err := l.host.open(dir)
	if err != nil {
		p.Diagnostics.Errorf(diag.Pos{File: dir}, "cannot open the agent folder: %v", cleanErr(err))
		return p
	}
	defer root.Close()
	l.readSettings(p, root)

	src, ok := l.readFile(p, root, "protocol.yaml", file, MaxProtocolSize)
	if !ok {
		return p
	}
	d := &decoder{Reader: yamlx.Reader{File: file, Diags: &p.Diagnostics}, p: p, declared: map[string]bool{}}
	if root, ok := yamlx.Parse(file, src, &p.Diagnostics); ok {
		d.protocol(root)
	}
	p.lookup()

	prompts := l.openPrompts(p, root)
	defer prompts.close()
	l.readReferences(p, root)
	l.resolveWorkers(p)
	v := &validator{p: p, prompts: prompts}
	v.validate()
	return p
}

// loadingSlugs returns the slugs of the agents being loaded, outermost first.
func (l *loader) loadingSlugs() []string {
	slugs := make([]string, len(l.loading))
	for i, abs := range l.loading {
		slugs[i] = l.byDir[abs].Settings.Slug.Or(path.Base(filepath.ToSlash(abs)))
	}
	return slugs
}

// readFile reads name inside the agent folder, refusing files that are
// missing, not regular, too large or reached through a link that leaves the
// folder. display is the name used in diagnostics.
func (l *loader) readFile(p *Protocol, root fs.FS, name, display string, limit int64) ([]byte, bool) {
	data, err := readLimited(root, name, limit)
	if err != nil {
		p.Diagnostics.Errorf(diag.Pos{File: display}, "%s", fileProblem(name, err))
		return nil, false
	}
	p.addSource(display, data)
	return data, true
}

// fileProblem explains why a file of the agent folder could not be read.
func fileProblem(name string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if name == "protocol.yaml" || name == "settings.json" {
			return fmt.Sprintf("%s is missing: an agent folder needs protocol.yaml and settings.json", name)
		}
		return fmt.Sprintf("%s does not exist", name)
	case errors.Is(err, errTooLarge):
		return fmt.Sprintf("%s is too large (%v)", name, trimErr(err, errTooLarge))
	case errors.Is(err, errNotRegular):
		return fmt.Sprintf("%s is not a regular file", name)
	case isEscape(err):
		return fmt.Sprintf("%s is a link that leads outside the agent folder; octrun only reads files inside it", name)
	}
	return fmt.Sprintf("cannot read %s: %v", name, cleanErr(err))
}

// isEscape reports whether err is os.Root refusing a path that leaves it.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

func trimErr(err, prefix error) string {
	return strings.TrimPrefix(err.Error(), prefix.Error()+": ")
}

// cleanErr drops the operation and path that *PathError repeats.
func cleanErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// readSettings reads settings.json with positions (JSON is read as YAML,
// after a strict JSON syntax check).
func (l *loader) readSettings(p *Protocol, root folder) {
	file := l.host.join(p.Dir, "settings.json")
	src, ok := l.readFile(p, root, "settings.json", file, MaxSettingsSize)
	if !ok {
		return
	}
	if err := json.Unmarshal(src, new(any)); err != nil {
		pos := diag.Pos{File: file, Line: 1, Col: 1}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			pos.Line, pos.Col = lineCol(src, se.Offset)
		}
		p.Diagnostics.Errorf(pos, "settings.json is not valid JSON: %v", err)
		return
	}
	r := yamlx.Reader{File: file, Diags: &p.Diagnostics}
	n, ok := yamlx.Parse(file, src, &p.Diagnostics)
	if !ok {
		return
	}
	if n == nil || n.Kind != yaml.MappingNode {
		p.Diagnostics.Errorf(diag.Pos{File: file, Line: 1, Col: 1}, "settings.json must be a JSON object with slug, name and format")
		return
	}
	d := &decoder{Reader: r, p: p}
	s := &p.Settings
	entries := d.Mapping(n, "settings.json")
	d.decodeFields(entries, "settings.json", fields{
		"slug":        d.str(&s.Slug, "slug"),
		"name":        d.text(&s.Name, "name"),
		"description": d.text(&s.Description, "description"),
		"format":      d.str(&s.Format, "format"),
	})
	at := diag.Pos{File: file, Line: n.Line, Col: n.Column}
	written := map[string]bool{}
	for _, e := range entries {
		written[e.Key] = true
	}
	switch {
	case !written["slug"]:
		p.Diagnostics.Errorf(at, `settings.json needs a "slug": lowercase letters, digits and dashes, like "title-generator"`)
	case s.Slug.IsSet() && !slugPattern.MatchString(s.Slug.Value):
		p.Diagnostics.Errorf(s.Slug.Pos, "slug %q must be lowercase letters, digits and dashes (like %q)", s.Slug.Value, toSlug(s.Slug.Value))
	}
	if !written["name"] {
		p.Diagnostics.Errorf(at, `settings.json needs a "name": the agent's human-readable name`)
	}
	switch {
	case !written["format"]:
		p.Diagnostics.Errorf(at, `settings.json needs "format": "worker"`)
	case s.Format.Value == "interactive":
		p.Diagnostics.Errorf(s.Format.Pos, `format is "interactive", but octrun runs workers only: use an agent whose settings.json says "format": "worker"`)
	case s.Format.IsSet() && s.Format.Value != "worker":
		p.Diagnostics.Errorf(s.Format.Pos, `format %q is not known: octrun runs workers, whose settings.json says "format": "worker"`, s.Format.Value)
	}
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(src []byte, offset int64) (int, int) {
	if len(src) == 0 {
		return 1, 1
	}
	offset = min(max(offset, 1), int64(len(src)))
	before := src[:offset-1]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len([]rune(string(before[bytes.LastIndexByte(before, '\n')+1:]))) + 1
	return line, col
}

// toSlug suggests a lowercase-with-dashes spelling of a name:
// "WebSearch" and "web_search" become "web-search".
func toSlug(s string) string {
	return strings.ReplaceAll(strings.ToLower(toUpperSnake(s)), "_", "-")
}

// promptFiles reads prompts/ for the template compiler, never leaving it.
type promptFiles struct {
	p     *Protocol
	host  host
	root  folder   // nil when there is no prompts/ folder
	names []string // every prompt name (relative, no .md), sorted
}

func (l *loader) openPrompts(p *Protocol, agent folder) *promptFiles {
	pf := &promptFiles{p: p, host: l.host}
	st, err := fs.Stat(agent, "prompts")
	if err != nil || !st.IsDir() {
		return pf
	}
	root, err := agent.sub("prompts")
	if err != nil {
		p.Diagnostics.Errorf(diag.Pos{File: l.host.join(p.Dir, "prompts")}, "cannot open prompts/: %v", cleanErr(err))
		return pf
	}
	pf.root = root
	_ = fs.WalkDir(root, ".", func(name string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(name, ".md") {
			pf.names = append(pf.names, strings.TrimSuffix(name, ".md"))
		}
		return nil
	})
	slices.Sort(pf.names)
	return pf
}

func (pf *promptFiles) close() {
	if pf.root != nil {
		pf.root.Close()
	}
}

// Read implements template.Source.
func (pf *promptFiles) Read(name string) ([]byte, string, error) {
	display := pf.host.join(pf.p.Dir, "prompts", name)
	if pf.root == nil {
		return nil, display, fmt.Errorf("no prompts/ folder: %w", fs.ErrNotExist)
	}
	data, err := readLimited(pf.root, path.Clean(name), MaxPromptSize)
	if err != nil {
		if isEscape(err) {
			return nil, display, errors.New("it is a link that leads outside prompts/; octrun only reads files inside the agent folder")
		}
		return nil, display, err
	}
	pf.p.addSource(display, data)
	return data, display, nil
}

// compile returns the compiled prompt for a protocol reference (no .md),
// compiling it on first use.
func (pf *promptFiles) compile(name string) *template.Template {
	if t, ok := pf.p.Prompts[name]; ok {
		return t
	}
	t := template.Compile(name+".md", pf, &pf.p.Diagnostics)
	pf.p.Prompts[name] = t
	return t
}

// exists reports whether prompts/<name>.md exists.
func (pf *promptFiles) exists(name string) bool {
	_, found := slices.BinarySearch(pf.names, name)
	return found
}
