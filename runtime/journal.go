package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
)

// Journal records the result of every effect of a run, keyed by the
// effect's key (effect.Key) with a hash of its request. The interpreter is
// deterministic given these results, so replaying the journal brings a
// fresh interpreter exactly to where a paused run stopped, the way a
// durable workflow engine replays its history. A replay that asks for an
// effect other than the one recorded under its key, or with another
// request, or that leaves recorded effects unasked, fails with an
// *effect.DivergedError instead of going on with results that belong to
// another run.
type Journal struct {
	Entries []Entry `json:"entries"`
}

// Entry is the recorded result of one effect.
type Entry struct {
	Key  effect.Key  `json:"key"`
	Kind effect.Kind `json:"kind"`
	// Hash is a hash of the request (requestHash).
	Hash string `json:"hash"`
	// Result is the effect's result as JSON.
	Result json.RawMessage `json:"result,omitempty"`
	// Pending marks an await for client tools whose results the caller has
	// not supplied yet; Calls are the calls it waits for.
	Pending bool                     `json:"pending,omitempty"`
	Calls   []events.PendingToolCall `json:"calls,omitempty"`

	// fresh marks results supplied by Continue: the replay ends there.
	fresh bool
	// value is the result before it is encoded: a run that never pauses
	// never pays for encoding its results (see seal).
	value any
	// request is a model request not hashed yet: it holds the whole
	// history of a thread, and a run that never pauses never pays for
	// hashing it (see seal).
	request any
}

// seal hashes the requests and encodes the results not done yet, before
// the journal is saved.
func (j *Journal) seal() error {
	for i := range j.Entries {
		e := &j.Entries[i]
		if e.request != nil {
			hash, err := requestHash(e.request)
			if err != nil {
				return fmt.Errorf("effect %s: %w", e.Key.ID, err)
			}
			e.Hash, e.request = hash, nil
		}
		if e.value == nil {
			continue
		}
		raw, err := json.Marshal(e.value)
		if err != nil {
			return fmt.Errorf("effect %s: %w", e.Key.ID, err)
		}
		e.Result, e.value = raw, nil
	}
	return nil
}

// pending returns the await entry waiting for results, or nil.
func (j *Journal) pending() *Entry {
	for i := range j.Entries {
		if j.Entries[i].Pending {
			return &j.Entries[i]
		}
	}
	return nil
}

// supply records the caller's results for the pending await: every
// pending call needs exactly one result, and no other result is taken.
func (j *Journal) supply(results []events.ToolResult) error {
	e := j.pending()
	if e == nil {
		return errors.New("the run is not waiting for tool results")
	}
	answers, err := effect.MatchResults(e.Calls, results)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(answers)
	if err != nil {
		return err
	}
	e.Result, e.Pending, e.Calls, e.fresh = raw, false, nil, true
	return nil
}

// recorder is the journal of one leg of a run: it serves recorded results
// while replaying, records live ones, and tells when the replay ends.
type recorder struct {
	journal *Journal
	index   map[string]int // entry by key id
	asked   []bool         // by entry: asked for in this leg
	used    int            // how many entries were asked for
	// replaying is true until the replay reaches its first fresh or live
	// effect; the run's events are silent meanwhile.
	replaying bool
	// served is true when the last effect was served from the journal.
	served bool
}

func newRecorder(j *Journal, replaying bool) *recorder {
	r := &recorder{journal: j, index: make(map[string]int, len(j.Entries)), asked: make([]bool, len(j.Entries)), replaying: replaying}
	for i, e := range j.Entries {
		r.index[e.Key.ID] = i
	}
	return r
}

// live ends the silent replay.
func (r *recorder) live() { r.replaying = false }

// unasked returns the error of a replay that leaves recorded effects
// unasked, or nil: asked is the effect asked for live instead, or the zero
// Key when the run ended.
func (r *recorder) unasked(asked effect.Key, kind effect.Kind) error {
	left := len(r.journal.Entries) - r.used
	if left == 0 {
		return nil
	}
	first := r.journal.Entries[slices.Index(r.asked, false)]
	if asked.ID == "" {
		return &effect.DivergedError{Key: first.Key, Kind: first.Kind, Recorded: first.Kind,
			Reason: fmt.Sprintf("the run ended without asking for it (%d recorded effect(s) never asked for)", left)}
	}
	return &effect.DivergedError{Key: asked, Kind: kind,
		Reason: fmt.Sprintf("it was never recorded, while %d recorded effect(s) were never asked for, the first %s (%s)", left, first.Key.ID, first.Kind)}
}

// journaled returns the recorded result of an effect, checking that the
// replay asks for what was recorded, or runs it live and records its
// result. A failed effect is not recorded: it ends the run.
func journaled[Req, Res any](r *recorder, kind effect.Kind, key effect.Key, req Req, run func() (Res, error)) (Res, error) {
	var res Res
	if i, ok := r.index[key.ID]; ok && !r.asked[i] {
		e := &r.journal.Entries[i]
		if e.Kind != kind {
			return res, &effect.DivergedError{Key: key, Kind: kind, Recorded: e.Kind, Reason: fmt.Sprintf("a %s effect was recorded under this key", e.Kind)}
		}
		hash, err := requestHash(req)
		if err != nil {
			return res, err
		}
		switch {
		case e.Hash != hash:
			return res, &effect.DivergedError{Key: key, Kind: kind, Recorded: e.Kind, Reason: "its request differs from the recorded one"}
		case e.Pending:
			return res, &effect.DivergedError{Key: key, Kind: kind, Recorded: e.Kind, Reason: "its results were never supplied"}
		}
		r.asked[i] = true
		r.used++
		r.served = true
		if e.fresh {
			r.live()
		}
		if err := decodeExact(e.Result, &res); err != nil {
			return res, fmt.Errorf("the recorded result of effect %s is not valid: %w", key.ID, err)
		}
		return res, nil
	}
	if err := r.unasked(key, kind); err != nil {
		return res, err
	}
	e := Entry{Key: key, Kind: kind}
	if kind == effect.KindGenerate {
		// The request is hashed when the journal is saved: nothing changes
		// a model request once made (llm.Client), while a tool's handler
		// may change the arguments it is given.
		e.request = req
	} else {
		hash, err := requestHash(req)
		if err != nil {
			return res, err
		}
		e.Hash = hash
	}
	r.live()
	r.served = false
	res, err := run()
	if err != nil {
		return res, err
	}
	e.value = res
	r.record(e)
	return res, nil
}

// record adds a live entry; it counts as asked.
func (r *recorder) record(e Entry) {
	r.index[e.Key.ID] = len(r.journal.Entries)
	r.journal.Entries = append(r.journal.Entries, e)
	r.asked = append(r.asked, true)
	r.used++
}

// await serves the supplied results of client tool calls, or records the
// calls as pending and pauses the run: the in-process host suspends runs
// rather than waiting in place.
func (r *recorder) await(req effect.AwaitRequest) (effect.AwaitResult, error) {
	return journaled(r, effect.KindAwait, req.Key, req, func() (effect.AwaitResult, error) {
		hash, err := requestHash(req)
		if err != nil {
			return effect.AwaitResult{}, err
		}
		r.record(Entry{Key: req.Key, Kind: effect.KindAwait, Hash: hash, Pending: true, Calls: slices.Clone(req.Calls)})
		return effect.AwaitResult{}, &effect.Pause{Calls: slices.Clone(req.Calls)}
	})
}

// requestHash is a hash of an effect's request as JSON: the same request
// hashes the same in every process.
func requestHash(req any) (string, error) {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(req); err != nil {
		return "", fmt.Errorf("an effect's request cannot be recorded: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// decodeExact decodes JSON into v keeping numbers exact.
func decodeExact(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}
