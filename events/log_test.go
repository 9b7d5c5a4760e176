package events

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func deltas(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = TextDelta{ID: "t", Delta: fmt.Sprint(i)}
	}
	return evs
}

func seqs(rs []Record) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.Seq
	}
	return out
}

func readAll(l *Log, from int64) []Record {
	var out []Record
	for r := range l.Records(context.Background(), from) {
		out = append(out, r)
	}
	return out
}

// Events are numbered in order from the log's first number, and a reader
// attached at an offset gets exactly the events from that offset.
func TestLogReadsFromAnOffset(t *testing.T) {
	l := NewLog(5)
	for i, ev := range deltas(4) {
		assert.Equal(t, int64(5+i), l.Append(ev))
	}
	l.Close()
	assert.Equal(t, int64(9), l.Next())
	assert.Equal(t, []int64{5, 6, 7, 8}, seqs(readAll(l, 0)))
	got := readAll(l, 7)
	assert.Equal(t, []int64{7, 8}, seqs(got))
	assert.Equal(t, TextDelta{ID: "t", Delta: "2"}, got[0].Event)
	assert.Empty(t, readAll(l, 9))
	assert.Zero(t, l.Append(TextDelta{}), "a closed log takes nothing")
}

// A reader waits for events appended after it attached, and ends when the
// log closes; two readers read independently.
func TestLogLiveReaders(t *testing.T) {
	l := NewLog(1)
	results := make(chan []int64, 2)
	for _, from := range []int64{1, 3} {
		go func() { results <- seqs(readAll(l, from)) }()
	}
	for _, ev := range deltas(4) {
		l.Append(ev)
		time.Sleep(time.Millisecond)
	}
	l.Close()
	got := [][]int64{<-results, <-results}
	assert.ElementsMatch(t, [][]int64{{1, 2, 3, 4}, {3, 4}}, got)
}

// A reader stops when its context ends, even while the log is open.
func TestLogReaderStopsWithItsContext(t *testing.T) {
	l := NewLog(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		for range l.Records(ctx, 1) {
		}
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the reader did not stop")
	}
}

// A sink that fails is detached; appending goes on.
func TestSubscriptionDetachesAFailingSink(t *testing.T) {
	l := NewLog(1)
	gone := errors.New("gone")
	var calls atomic.Int32
	sub := l.Attach(1, func(Record) error {
		if calls.Add(1) == 2 {
			return gone
		}
		return nil
	})
	for _, ev := range deltas(10) {
		l.Append(ev)
	}
	l.Close()
	done, err := sub.Wait(2 * time.Second)
	assert.True(t, done)
	assert.ErrorIs(t, err, gone)
	assert.Equal(t, int32(2), calls.Load(), "nothing is sent after the error")
	assert.Equal(t, int64(11), l.Next())
}

// A sink that blocks never stalls appending, and Wait gives up after its
// grace.
func TestSubscriptionBlockedSinkDoesNotStall(t *testing.T) {
	l := NewLog(1)
	release := make(chan struct{})
	defer close(release)
	sub := l.Attach(1, func(Record) error { <-release; return nil })
	start := time.Now()
	for _, ev := range deltas(10000) {
		l.Append(ev)
	}
	l.Close()
	require.Less(t, time.Since(start), 2*time.Second)
	done, err := sub.Wait(50 * time.Millisecond)
	assert.False(t, done)
	assert.NoError(t, err)
}

// A reader that waits gets a new record within wakeDelay or so, without
// the log closing.
func TestLogWakesAWaitingReaderPromptly(t *testing.T) {
	l := NewLog(1)
	defer l.Close()
	got := make(chan Record, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for r := range l.Records(ctx, 1) {
			got <- r
		}
	}()
	for round := range 3 {
		time.Sleep(5 * time.Millisecond) // the reader waits
		l.Append(TextDelta{ID: "t", Delta: fmt.Sprint(round)})
		select {
		case r := <-got:
			assert.Equal(t, int64(round+1), r.Seq)
		case <-time.After(time.Second):
			t.Fatalf("round %d: a waiting reader was not woken", round)
		}
	}
}
