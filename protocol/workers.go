package protocol

import (
	"encoding/json"
)

// declRef is a worker declaration being resolved, with the protocol that
// holds it.
type declRef struct {
	owner *Protocol
	decl  *WorkerDecl
}

// resolveWorkers finds and loads the agent folder of every declared worker
// (rule D12): the declaration's path, relative to the declaring folder, or else
// the sibling folder whose settings.json has the slug. With a path, the
// declared slug is this protocol's name for the worker and may differ from
// the folder's own slug. Workers are read from the same host as the
// declaring agent (the same fs.FS for LoadFS).
func (l *loader) resolveWorkers(p *Protocol) {
	for _, w := range p.Workers {
		var dir string
		if w.Path.IsSet() {
			dir = l.host.join(p.Dir, w.Path.Value)
			if l.host.outside(dir) {
				p.Diagnostics.Errorf(w.Path.Pos, "worker %q: path %q leaves the file system the agents are read from (it is resolved from %s)", w.Slug.Value, w.Path.Value, p.Dir)
				continue
			}
			if !l.host.isDir(dir) {
				p.Diagnostics.Errorf(w.Path.Pos, "worker %q: path %q is not a folder (it is resolved from %s)", w.Slug.Value, w.Path.Value, p.Dir)
				continue
			}
		} else if dir = l.siblingWithSlug(p.Dir, w.Slug.Value); dir == "" {
			p.Diagnostics.Errorf(w.Slug.Pos, "worker %q: no agent folder beside %s has this slug in its settings.json; add path: to the declaration", w.Slug.Value, p.Dir)
			continue
		}
		w.Protocol = l.load(dir, &declRef{owner: p, decl: w})
	}
}

// siblingWithSlug returns the folder beside dir whose settings.json has
// slug, or "".
func (l *loader) siblingWithSlug(dir, slug string) string {
	parent := l.host.join(dir, "..")
	entries, err := l.host.readDir(parent)
	if err != nil {
		return ""
	}
	self := l.host.key(dir)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		candidate := l.host.join(parent, e.Name())
		if l.host.key(candidate) == self {
			continue
		}
		if settingsSlug(l.host, candidate) == slug {
			return candidate
		}
	}
	return ""
}

// settingsSlug returns the slug in dir/settings.json, or "".
func settingsSlug(h host, dir string) string {
	root, err := h.open(dir)
	if err != nil {
		return ""
	}
	defer root.Close()
	data, err := readLimited(root, "settings.json", MaxSettingsSize)
	if err != nil {
		return ""
	}
	var s struct {
		Slug string `json:"slug"`
	}
	if json.Unmarshal(data, &s) != nil {
		return ""
	}
	return s.Slug
}
