package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/octrun/octrun/events"
)

// Snapshot is everything needed to continue a paused run: the run's input
// and the journal of its effects (the State is rebuilt by replaying them),
// the pending client tool calls, the protocol it ran, by folder and
// fingerprint, and the backend it ran with, when a host gave one
// (WithBackend). It is plain JSON.
type Snapshot struct {
	ExecutionID string `json:"executionId"`
	// ProtocolDir is the absolute path of the agent folder.
	ProtocolDir string `json:"protocolDir"`
	// Fingerprint is the protocol's fingerprint when the run started.
	Fingerprint string                   `json:"fingerprint"`
	Input       map[string]any           `json:"input"`
	Journal     Journal                  `json:"journal"`
	Pending     []events.PendingToolCall `json:"pending"`
	// Backend is what answered the run's model and tool calls, as
	// recorded by WithBackend; nil when the run was not given one (a Go
	// program's handlers cannot be recorded).
	Backend *Backend `json:"backend,omitempty"`
}

// ModelCalls is the number of model calls, chat and media, the run made
// before it paused: the responses a mock script (llm.NewScriptedFrom)
// skips when the run continues with a new client.
func (s *Snapshot) ModelCalls() int {
	return len(s.Journal.Generations) + len(s.Journal.Media)
}

// ErrNotFound is returned by a Store that holds no snapshot for an id.
var ErrNotFound = errors.New("no paused run with this execution id")

// Store keeps the snapshots of paused runs by execution id.
type Store interface {
	Save(ctx context.Context, s *Snapshot) error
	Load(ctx context.Context, executionID string) (*Snapshot, error)
	Delete(ctx context.Context, executionID string) error
}

// MemoryStore keeps snapshots in memory, encoded as JSON like any other
// store would. It is safe for concurrent use.
type MemoryStore struct {
	mu        sync.Mutex
	snapshots map[string][]byte
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{snapshots: map[string][]byte{}} }

// Save implements Store.
func (m *MemoryStore) Save(_ context.Context, s *Snapshot) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snapshots[s.ExecutionID] = data
	return nil
}

// Load implements Store.
func (m *MemoryStore) Load(_ context.Context, id string) (*Snapshot, error) {
	m.mu.Lock()
	data, ok := m.snapshots[id]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return decodeSnapshot(data)
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.snapshots, id)
	return nil
}

// DirStore keeps each snapshot as a JSON file <Dir>/<execution id>.json.
type DirStore struct {
	Dir string
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (d DirStore) path(id string) (string, error) {
	if !safeID.MatchString(id) {
		return "", fmt.Errorf("%q is not an execution id", id)
	}
	return filepath.Join(d.Dir, id+".json"), nil
}

// Save implements Store. The file is written whole or not at all.
func (d DirStore) Save(_ context.Context, s *Snapshot) error {
	path, err := d.path(s.ExecutionID)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d.Dir, ".snapshot-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Load implements Store.
func (d DirStore) Load(_ context.Context, id string) (*Snapshot, error) {
	path, err := d.path(id)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (looked in %s)", ErrNotFound, id, d.Dir)
	}
	if err != nil {
		return nil, err
	}
	s, err := decodeSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Delete implements Store.
func (d DirStore) Delete(_ context.Context, id string) error {
	path, err := d.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// decodeSnapshot reads a snapshot, keeping numbers exact.
func decodeSnapshot(data []byte) (*Snapshot, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("the snapshot is not valid: %w", err)
	}
	return &s, nil
}
