package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
)

// Fingerprint identifies the protocol's version: a hash of every file read
// to load it (protocol.yaml, settings.json, prompts, references and the
// folders of declared workers), each named relative to the agent folder, so
// the same files give the same fingerprint wherever the folder is. A paused
// run refuses to continue under another fingerprint.
func (p *Protocol) Fingerprint() string {
	byName := make(map[string][]byte, len(p.sources))
	names := make([]string, 0, len(p.sources))
	for file, data := range p.sources {
		name, err := filepath.Rel(p.Dir, file)
		if err != nil {
			name = file
		}
		name = filepath.ToSlash(name)
		byName[name] = data
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(byName[name])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
