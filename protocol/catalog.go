package protocol

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/octrun/octrun/protocol/diag"
)

// Catalog is a folder of agents: every folder directly inside it whose
// settings.json has a valid slug is one agent, looked up by that slug (not
// by the folder's name). Folders whose name starts with "." and folders
// without a readable settings.json are not agents. The folders are listed
// once, when the Catalog is made; each Load reads the agent's files anew.
// Agents of a catalog may declare one another as workers by slug: they are
// siblings.
type Catalog struct {
	host  host
	root  string
	dirs  map[string]string // slug -> agent folder
	slugs []string          // sorted
}

// NewCatalog lists the agents of the folder of agents fsys (its root is the
// folder that holds them). Agents are loaded with LoadFS.
func NewCatalog(fsys fs.FS) (*Catalog, error) {
	return newCatalog(fsHost{fsys}, ".")
}

// NewCatalogDir lists the agents of the folder of agents dir on disk.
// Agents are loaded with Load, each folder confined on its own.
func NewCatalogDir(dir string) (*Catalog, error) {
	return newCatalog(osHost{}, dir)
}

func newCatalog(h host, root string) (*Catalog, error) {
	entries, err := h.readDir(root)
	if err != nil {
		return nil, fmt.Errorf("cannot list the folder of agents %s: %w", root, err)
	}
	c := &Catalog{host: h, root: root, dirs: map[string]string{}}
	var dups []string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := h.join(root, e.Name())
		slug := settingsSlug(h, dir)
		if !slugPattern.MatchString(slug) {
			continue
		}
		if first, dup := c.dirs[slug]; dup {
			dups = append(dups, fmt.Sprintf("%s and %s both have slug %q", first, dir, slug))
			continue
		}
		c.dirs[slug] = dir
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("the folder of agents %s is ambiguous: %s; give each agent its own slug", root, strings.Join(dups, "; "))
	}
	c.slugs = slices.Sorted(maps.Keys(c.dirs))
	return c, nil
}

// LoadAgent loads the agent with slug from the folder of agents fsys:
// NewCatalog(fsys) and Load(slug).
func LoadAgent(fsys fs.FS, slug string) (*Protocol, error) {
	c, err := NewCatalog(fsys)
	if err != nil {
		return nil, err
	}
	return c.Load(slug)
}

// Slugs returns the slugs of the agents, sorted.
func (c *Catalog) Slugs() []string { return slices.Clone(c.slugs) }

// Dir returns the folder of the agent with slug (a path inside the fs.FS
// of NewCatalog, a path on disk for NewCatalogDir), or an
// *UnknownAgentError.
func (c *Catalog) Dir(slug string) (string, error) {
	dir, ok := c.dirs[slug]
	if !ok {
		return "", &UnknownAgentError{Slug: slug, Known: c.Slugs()}
	}
	return dir, nil
}

// Load loads and validates the agent with slug, as Load or LoadFS do. An
// unknown slug is an *UnknownAgentError (which is ErrUnknownAgent); the
// Protocol is nil then.
func (c *Catalog) Load(slug string) (*Protocol, error) {
	dir, err := c.Dir(slug)
	if err != nil {
		return nil, err
	}
	return load(c.host, dir)
}

// ErrUnknownAgent is what an *UnknownAgentError is.
var ErrUnknownAgent = errors.New("unknown agent")

// UnknownAgentError is a lookup of a slug that no agent of a Catalog has.
type UnknownAgentError struct {
	Slug  string
	Known []string // the slugs of the catalog, sorted
}

func (e *UnknownAgentError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no agent has slug %q: the folder of agents holds none", e.Slug)
	}
	return fmt.Sprintf("no agent has slug %q%s; the agents are %s", e.Slug, diag.DidYouMean(e.Slug, e.Known), strings.Join(e.Known, ", "))
}

// Unwrap returns ErrUnknownAgent.
func (e *UnknownAgentError) Unwrap() error { return ErrUnknownAgent }
