package events

import (
	"context"
	"iter"
	"sync"
	"time"
)

// Sink receives the events that reach a consumer, in order. An error means
// the consumer is gone: it is sent nothing more.
type Sink func(Event) error

// Record is an event of a run's log with its sequence number.
type Record struct {
	// Seq numbers the events a consumer sees of a run from 1 on, across the
	// legs of a paused and continued run.
	Seq   int64
	Event Event
}

// Log is the event log of a run: the events a consumer sees, in order,
// numbered. Appending never waits for a reader, so a slow or gone consumer
// never stalls or fails the run; readers attach from any sequence number
// and read at their own pace until the log is closed. A reader that has
// caught up is woken at most wakeDelay after the next record (at once when
// the log closes): a fast run wakes it once for many records. It is safe for
// concurrent use.
type Log struct {
	mu      sync.Mutex
	first   int64 // the sequence number of records[0]
	records []Record
	closed  bool
	// changed is closed and replaced when a record is appended or the log
	// is closed while a reader waits on it (watched), waking the readers.
	changed chan struct{}
	watched bool
	// waker wakes the readers wakeDelay after the first record appended
	// while they wait (armed), so that a fast run wakes them once for
	// many records rather than once each.
	waker *time.Timer
	armed bool
}

// wakeDelay is the longest a waiting reader waits for a new record.
const wakeDelay = 500 * time.Microsecond

// NewLog returns an empty log whose first event gets sequence number next
// (1 for a new run; a continued run goes on from where its last leg ended).
func NewLog(next int64) *Log {
	if next < 1 {
		next = 1
	}
	return &Log{first: next, changed: make(chan struct{})}
}

// Append adds ev to the log and returns its sequence number. Appending to
// a closed log does nothing and returns 0.
func (l *Log) Append(ev Event) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0
	}
	seq := l.first + int64(len(l.records))
	l.records = append(l.records, Record{Seq: seq, Event: ev})
	if l.watched && !l.armed {
		l.armed = true
		if l.waker == nil {
			l.waker = time.AfterFunc(wakeDelay, l.delayedWake)
		} else {
			l.waker.Reset(wakeDelay)
		}
	}
	return seq
}

// Close ends the log: readers get what is left, then stop.
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		if l.armed {
			l.waker.Stop()
			l.armed = false
		}
		l.wake()
	}
}

// delayedWake is the waker's.
func (l *Log) delayedWake() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = false
	l.wake()
}

// wake wakes the readers that wait; l.mu must be held. With none waiting
// (a reader that keeps up, or none at all) it costs nothing.
func (l *Log) wake() {
	if l.watched {
		close(l.changed)
		l.changed, l.watched = make(chan struct{}), false
	}
}

// Next returns the sequence number the next event will get.
func (l *Log) Next() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first + int64(len(l.records))
}

// Records yields the log's records from sequence number from on (the first
// one the log holds if from is earlier), waiting for new ones until the log
// is closed or ctx is done.
func (l *Log) Records(ctx context.Context, from int64) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for {
			l.mu.Lock()
			if from < l.first {
				from = l.first
			}
			batch := l.records[min(from-l.first, int64(len(l.records))):]
			closed := l.closed
			var changed chan struct{}
			if len(batch) == 0 && !closed {
				changed, l.watched = l.changed, true
			}
			l.mu.Unlock()
			for _, r := range batch {
				if !yield(r) {
					return
				}
				from = r.Seq + 1
			}
			if len(batch) > 0 {
				continue
			}
			if closed {
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}
}

// Subscription delivers a log's records to a sink on a goroutine of its
// own (see Log.Attach).
type Subscription struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Attach delivers the records from sequence number from on to sink, in
// order, on a goroutine of its own, until the log is closed and drained,
// the sink fails (it is then sent nothing more; the run goes on) or the
// subscription is stopped.
func (l *Log) Attach(from int64, sink func(Record) error) *Subscription {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Subscription{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for r := range l.Records(ctx, from) {
			if err := sink(r); err != nil {
				s.err = err
				return
			}
		}
	}()
	return s
}

// Wait waits until the subscription has delivered everything (the log must
// be closed for that) or the sink failed, for at most grace; after grace it
// stops the subscription without waiting for a sink that does not return.
// It reports whether delivery ended in time, and the sink's error, if any.
func (s *Subscription) Wait(grace time.Duration) (bool, error) {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-s.done:
		return true, s.err
	case <-t.C:
		s.cancel()
		return false, nil
	}
}

// Stop stops the delivery; a sink call under way finishes on its own.
func (s *Subscription) Stop() { s.cancel() }
