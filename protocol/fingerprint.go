package protocol

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Fingerprint identifies the protocol's version: a SHA-256 (hex) of every
// file of the agent (protocol.yaml, settings.json, prompts, references)
// and of the workers it declares, transitively (never its callers': a
// nested worker's fingerprint is the one it has when loaded alone), each named by its slash-separated
// path relative to the agent folder ("prompts/system.md",
// "../helper/protocol.yaml") and followed by its bytes, each after its
// length. Nothing else goes
// in: no absolute path, no time, no file mode. The same files give the
// same fingerprint wherever the folder is, on any host, whether they were
// loaded with Load from disk or with LoadFS from an embed.FS or any other
// fs.FS. A paused run refuses to continue under another fingerprint.
func (p *Protocol) Fingerprint() string {
	h := p.host
	if h == nil {
		h = osHost{}
	}
	byName := map[string][]byte{}
	var names []string
	seen := map[*Protocol]bool{}
	var add func(q *Protocol)
	add = func(q *Protocol) {
		if q == nil || seen[q] {
			return
		}
		seen[q] = true
		for _, file := range q.files {
			name := h.rel(p.Dir, file)
			if _, ok := byName[name]; !ok {
				names = append(names, name)
			}
			byName[name] = p.sources[file]
		}
		for _, w := range q.Workers {
			add(w.Protocol)
		}
	}
	add(p)
	slices.Sort(names)
	sum := sha256.New()
	// Each name and each file is written after its length, so that no two
	// sets of files hash alike.
	var size [8]byte
	for _, name := range names {
		for _, part := range [][]byte{[]byte(name), byName[name]} {
			binary.BigEndian.PutUint64(size[:], uint64(len(part)))
			sum.Write(size[:])
			sum.Write(part)
		}
	}
	return hex.EncodeToString(sum.Sum(nil))
}

// FromFS reports whether the protocol was loaded with LoadFS, so that Dir
// is a path inside an fs.FS rather than a folder of the operating system.
func (p *Protocol) FromFS() bool {
	_, ok := p.host.(fsHost)
	return ok
}

// Identity names a loaded protocol on any host: the slug of its
// settings.json and its Fingerprint. Two hosts that hold the same agent
// files agree on it, wherever the files are, so it tells a remote worker
// which agent to run and that it has the very files the caller has.
type Identity struct {
	Slug        string `json:"slug"`
	Fingerprint string `json:"fingerprint"`
}

// Identity returns the protocol's slug and fingerprint.
func (p *Protocol) Identity() Identity {
	return Identity{Slug: p.Settings.Slug.Value, Fingerprint: p.Fingerprint()}
}

// String returns "slug@fingerprint".
func (id Identity) String() string { return id.Slug + "@" + id.Fingerprint }

// ParseIdentity reads the "slug@fingerprint" form of Identity.String.
func ParseIdentity(s string) (Identity, error) {
	slug, fp, ok := strings.Cut(s, "@")
	if !ok || !slugPattern.MatchString(slug) || !isFingerprint(fp) {
		return Identity{}, fmt.Errorf("protocol identity %q is not slug@fingerprint (a slug, @ and 64 hexadecimal digits)", s)
	}
	return Identity{Slug: slug, Fingerprint: fp}, nil
}

func isFingerprint(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// Matches checks that p is the protocol id names: the same slug and the
// same files.
func (id Identity) Matches(p *Protocol) error {
	got := p.Identity()
	switch {
	case got.Slug != id.Slug:
		return fmt.Errorf("%w: the agent is %q, not %q", ErrIdentity, got.Slug, id.Slug)
	case got.Fingerprint != id.Fingerprint:
		return fmt.Errorf("%w: agent %q has other files here (fingerprint %.12s, not %.12s)", ErrIdentity, id.Slug, got.Fingerprint, id.Fingerprint)
	}
	return nil
}

// ErrIdentity is the error of Identity.Matches.
var ErrIdentity = errors.New("not the same protocol")
