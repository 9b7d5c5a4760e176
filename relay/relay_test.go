package relay_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/servicetest"
	"github.com/octrun/octrun/relay"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servicetest.Stop()
	os.Exit(code)
}

func newRelay(t *testing.T, opts ...relay.Option) *relay.Relay {
	t.Helper()
	r, _ := servicetest.Relay(t, opts...)
	return r
}

func deltas(from, to int64) []events.Record {
	var out []events.Record
	for seq := from; seq <= to; seq++ {
		out = append(out, events.Record{Seq: seq, Event: events.TextDelta{ID: "t", Delta: fmt.Sprint(seq)}})
	}
	return out
}

// Published events read back in order from any offset; publishing the
// same events again (a retried activity) adds nothing.
func TestPublishAndReadFromAnOffset(t *testing.T) {
	r := newRelay(t)
	ctx := context.Background()
	require.NoError(t, r.Publish(ctx, "x", deltas(1, 5)))
	require.NoError(t, r.Publish(ctx, "x", deltas(3, 7)), "a record already there is skipped")
	last, err := r.Last(ctx, "x")
	require.NoError(t, err)
	assert.Equal(t, int64(7), last)
	got, err := r.Since(ctx, "x", 4)
	require.NoError(t, err)
	assert.Equal(t, deltas(4, 7), got)
	got, err = r.Since(ctx, "x", 0)
	require.NoError(t, err)
	assert.Equal(t, deltas(1, 7), got, "offset 0 is the whole stream")
}

// A live reader gets the events as they are published, until its stop
// rule says the run ended.
func TestReadLive(t *testing.T) {
	r := newRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		for seq := int64(1); seq <= 20; seq++ {
			_ = r.Publish(ctx, "live", deltas(seq, seq))
			time.Sleep(2 * time.Millisecond)
		}
		_ = r.Publish(ctx, "live", []events.Record{{Seq: 21, Event: events.Finish{FinishReason: events.FinishStop}}})
	}()
	var seqs []int64
	for rec, err := range r.Read(ctx, "live", 1, func(rec events.Record) bool { return rec.Event.EventType() == "finish" }) {
		require.NoError(t, err)
		seqs = append(seqs, rec.Seq)
	}
	require.Len(t, seqs, 21)
	for i, s := range seqs {
		assert.Equal(t, int64(i+1), s)
	}
}

// A finished run's stream expires after the TTL.
func TestFinishExpires(t *testing.T) {
	r := newRelay(t, relay.WithTTL(time.Second))
	ctx := context.Background()
	require.NoError(t, r.Publish(ctx, "gone", deltas(1, 2)))
	require.NoError(t, r.Finish(ctx, "gone"))
	require.Eventually(t, func() bool {
		got, err := r.Since(ctx, "gone", 0)
		return err == nil && len(got) == 0
	}, 5*time.Second, 100*time.Millisecond)
}

// A reader waiting on a stream where nothing comes stops soon after its
// context ends.
func TestReadStopsWithItsContext(t *testing.T) {
	r := newRelay(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range r.Read(ctx, "silent", 1, nil) {
		}
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("the reader did not stop")
	}
}
