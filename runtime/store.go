package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/filelock"
	"github.com/octrun/octrun/protocol"
)

// SnapshotVersion is the format version of the snapshots this octrun
// writes and reads. A snapshot of another version is refused, never
// misread.
const SnapshotVersion = 2

// Snapshot is everything needed to continue a paused run: the run's input
// and the journal of its effects (the State is rebuilt by replaying them),
// the pending client tool calls, the protocol it ran, by slug and
// fingerprint, where its event numbering goes on, and the backend it ran
// with, when a host gave one (WithBackend). It is plain JSON.
type Snapshot struct {
	// Version is SnapshotVersion.
	Version     int    `json:"version"`
	ExecutionID string `json:"executionId"`
	// Protocol names the protocol the run started with.
	Protocol ProtocolRef              `json:"protocol"`
	Input    map[string]any           `json:"input"`
	Journal  Journal                  `json:"journal"`
	Pending  []events.PendingToolCall `json:"pending"`
	// NextSeq is the sequence number of the next leg's first event.
	NextSeq int64 `json:"nextSeq"`
	// Backend is what answered the run's model and tool calls, as
	// recorded by WithBackend; nil when the run was not given one (a Go
	// program's handlers cannot be recorded).
	Backend *Backend `json:"backend,omitempty"`
}

// ProtocolRef names a protocol in a way that holds on any host: its slug
// and the fingerprint of its files (protocol.Identity). Dir is the folder
// it was loaded from on disk, a hint for continuing on the same machine;
// it is empty for a protocol loaded from an fs.FS.
type ProtocolRef struct {
	protocol.Identity
	Dir string `json:"dir,omitempty"`
}

// newSnapshot is the snapshot of a new run; the protocol's fingerprint is
// taken only when the run pauses (see config.save).
func newSnapshot(executionID string, p *protocol.Protocol, input map[string]any) *Snapshot {
	if executionID == "" {
		executionID = NewExecutionID()
	}
	ref := ProtocolRef{Identity: protocol.Identity{Slug: p.Settings.Slug.Value}}
	return &Snapshot{Version: SnapshotVersion, ExecutionID: executionID, Protocol: ref, Input: input, NextSeq: 1}
}

// ErrNotFound is returned by a Store that holds no snapshot for an id.
var ErrNotFound = errors.New("no paused run with this execution id")

// Store keeps the snapshots of paused runs by execution id. A snapshot is
// replaced only by the next pause of its run, and deleted when the run
// finishes: a continue that fails or is cancelled leaves it, so that the
// run can be continued again.
//
// A store shared by several processes should implement Claimer, so that
// two continues of one run in different processes do not both run it.
type Store interface {
	Save(ctx context.Context, s *Snapshot) error
	Load(ctx context.Context, executionID string) (*Snapshot, error)
	Delete(ctx context.Context, executionID string) error
}

// ErrClaimed is returned by Continue when another continue of the same
// paused run is under way: the run is continued once, by the first. The
// error Continue returns says "execution ID is already being continued".
var ErrClaimed = errors.New("already being continued")

// Claimer is a Store that lets one continue at a time take a paused run.
// Continue claims the run before it reads its snapshot and gives the claim
// back when the leg ends (with the run finished, failed, cancelled or
// paused again), so the continues of one run never overlap. (One exception:
// a Go tool handler that ignores the cancellation of its run is left
// running after effect.HandlerGrace, and the claim is given back while it
// runs; a continue that follows may call the same tool again, with the
// same idempotency key, as after a crash.) A claim must
// not outlive its holder: a process that dies holding one must not leave
// the run unclaimable for good.
//
// Continue claims a run of a store that is not a Claimer in this process
// only.
type Claimer interface {
	// Claim takes the paused run executionID, or fails at once with an
	// error that wraps ErrClaimed when another holds it; release gives it
	// back.
	Claim(ctx context.Context, executionID string) (release func(), err error)
}

// SaveChecker is a Store that can tell, before a run starts, whether it
// could save a snapshot: Run and Continue check a store that is one before
// a run that may pause runs anything, so that no tool runs for a pause
// that cannot be saved.
type SaveChecker interface {
	CheckSave(ctx context.Context) error
}

// claim takes the paused run id of store: through the store when it is a
// Claimer, in this process otherwise.
func claim(ctx context.Context, store Store, id string) (func(), error) {
	if c, ok := store.(Claimer); ok {
		return c.Claim(ctx, id)
	}
	return processClaims.claim(id)
}

// claims are the runs claimed in this process, by execution id.
type claims struct {
	mu   sync.Mutex
	held map[string]bool
}

// processClaims claims the runs of stores that are not Claimers.
var processClaims claims

func (c *claims) claim(id string) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[id] {
		return nil, ErrClaimed
	}
	if c.held == nil {
		c.held = map[string]bool{}
	}
	c.held[id] = true
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.held, id)
	}, nil
}

// MemoryStore keeps snapshots in memory, encoded as JSON like any other
// store would. It is safe for concurrent use, and a Claimer.
type MemoryStore struct {
	mu        sync.Mutex
	snapshots map[string][]byte
	claims    claims
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

// Claim implements Claimer.
func (m *MemoryStore) Claim(_ context.Context, id string) (func(), error) {
	return m.claims.claim(id)
}

// DirStore keeps each snapshot as a JSON file <Dir>/<execution id>.json.
// It is a Claimer across processes: a continue holds the lock of
// <Dir>/<execution id>.lock while it runs (an flock on Linux, macOS and
// the BSDs, LockFileEx on Windows, which the operating system drops when
// the process ends, so a crashed process leaves no claim; elsewhere the
// file itself, created exclusively, which a crashed process leaves behind
// to be removed by hand).
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

// CheckSave implements SaveChecker: the folder, or the nearest folder
// above it while it does not exist, must take a new file. It leaves
// nothing behind.
func (d DirStore) CheckSave(context.Context) error {
	dir := d.Dir
	for {
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, os.ErrNotExist) && filepath.Dir(dir) != dir:
			dir = filepath.Dir(dir)
			continue
		case err != nil:
			return err
		case !fi.IsDir():
			return fmt.Errorf("%s is not a folder", dir)
		}
		f, err := os.CreateTemp(dir, ".octrun-check-*")
		if err != nil {
			return err
		}
		_ = f.Close()
		return os.Remove(f.Name())
	}
}

// Claim implements Claimer.
func (d DirStore) Claim(_ context.Context, id string) (func(), error) {
	if _, err := d.path(id); err != nil {
		return nil, err
	}
	release, err := filelock.TryLock(filepath.Join(d.Dir, id+".lock"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: %s (looked in %s)", ErrNotFound, id, d.Dir)
	case errors.Is(err, filelock.ErrLocked):
		return nil, fmt.Errorf("%w (%w)", ErrClaimed, err)
	}
	return release, err
}

// decodeSnapshot reads a snapshot, keeping numbers exact; a snapshot of
// another format version is refused.
func decodeSnapshot(data []byte) (*Snapshot, error) {
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("the snapshot is not valid: %w", err)
	}
	if head.Version != SnapshotVersion {
		if head.Version == 0 {
			return nil, fmt.Errorf("the snapshot was written by an older octrun, before snapshots had a format version; continue the run with the octrun that paused it")
		}
		return nil, fmt.Errorf("the snapshot has format version %d and this octrun reads version %d; continue the run with the octrun that paused it", head.Version, SnapshotVersion)
	}
	var s Snapshot
	if err := decodeExact(data, &s); err != nil {
		return nil, fmt.Errorf("the snapshot is not valid: %w", err)
	}
	return &s, nil
}

// ModelCalls counts the model and media calls the run made before it
// paused: a scripted model client skips that many answers when the run
// continues in another process (llm.NewScriptedFrom).
func (s *Snapshot) ModelCalls() int {
	n := 0
	for _, e := range s.Journal.Entries {
		switch e.Kind {
		case effect.KindMedia:
			n++
		case effect.KindGenerate:
			var res effect.GenerateResult
			if decodeExact(e.Result, &res) == nil {
				n += max(res.ModelCalls, 1)
			}
		}
	}
	return n
}
