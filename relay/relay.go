// Package relay carries a run's events between processes through Redis
// Streams: one stream per execution, whose entries are the events of the
// run's log (events.Log) under their sequence numbers. Whoever executes a
// part of the run publishes its events; any number of readers, in any
// process, read the stream from any sequence number while the run goes on
// and for a while after it ended (rule C6).
//
// An event is published under the stream id 0-<seq>, which Redis keeps
// strictly increasing: publishing an event a second time (a retried
// activity, a replayed workflow) is refused by Redis and ignored here, so
// no event shows twice.
package relay

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/octrun/octrun/events"
)

// Defaults of a Relay.
const (
	// DefaultTTL is how long a run's stream is kept after the run ended.
	DefaultTTL = 24 * time.Hour
	// DefaultMaxLen caps a stream's length (approximately, as Redis trims).
	DefaultMaxLen = 100_000
	// DefaultPrefix starts every stream's key.
	DefaultPrefix = "octrun:events:"
)

// Relay publishes and reads the event streams of runs.
type Relay struct {
	rdb *redis.Client
	// readers is the client of blocking reads, with a pool of its own: a
	// blocking read holds its connection, and readers sharing the
	// publishers' pool made both wait.
	readers *redis.Client
	prefix  string
	ttl     time.Duration
	maxLen  int64
	block   time.Duration
}

// Option configures a Relay.
type Option func(*Relay)

// WithPrefix sets the prefix of the streams' keys (DefaultPrefix).
func WithPrefix(p string) Option { return func(r *Relay) { r.prefix = p } }

// WithTTL sets how long a stream is kept after its run ended (DefaultTTL).
func WithTTL(d time.Duration) Option { return func(r *Relay) { r.ttl = d } }

// WithMaxLen caps each stream's length (DefaultMaxLen).
func WithMaxLen(n int64) Option { return func(r *Relay) { r.maxLen = n } }

// New returns a Relay on rdb. Readers block on XREAD: give them a client
// of their own, not the one publishing workers share.
func New(rdb *redis.Client, opts ...Option) *Relay {
	// A reader blocks at most a second at a time, so that it notices soon
	// that its context ended.
	readOpts := *rdb.Options()
	readOpts.PoolSize = max(readOpts.PoolSize, 256)
	r := &Relay{rdb: rdb, readers: redis.NewClient(&readOpts), prefix: DefaultPrefix, ttl: DefaultTTL, maxLen: DefaultMaxLen, block: time.Second}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Dial connects to the Redis of url (redis://host:port/db) and checks it
// answers.
func Dial(ctx context.Context, url string, opts ...Option) (*Relay, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis %q: %w", url, err)
	}
	rdb := redis.NewClient(o)
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redis at %s does not answer: %w", o.Addr, err)
	}
	return New(rdb, opts...), nil
}

// Close closes the Redis clients.
func (r *Relay) Close() error { return errors.Join(r.readers.Close(), r.rdb.Close()) }

// key is the stream of an execution.
func (r *Relay) key(executionID string) string { return r.prefix + executionID }

// Publish adds records to the stream of an execution, in order. A record
// whose sequence number is already in the stream is skipped.
func (r *Relay) Publish(ctx context.Context, executionID string, recs []events.Record) error {
	if len(recs) == 0 {
		return nil
	}
	key := r.key(executionID)
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(recs))
	for i, rec := range recs {
		data, err := rec.Event.MarshalJSON()
		if err != nil {
			return fmt.Errorf("relay: encode %s event: %w", rec.Event.EventType(), err)
		}
		cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: streamID(rec.Seq), MaxLen: r.maxLen, Approx: true, Values: []any{"event", data}})
	}
	_, _ = pipe.Exec(ctx)
	for _, c := range cmds {
		if err := c.Err(); err != nil && !isDuplicate(err) {
			return fmt.Errorf("relay: publish to %s: %w", key, err)
		}
	}
	return nil
}

// isDuplicate reports whether XADD refused an id that is not past the
// stream's last: the event is there already.
func isDuplicate(err error) bool {
	return strings.Contains(err.Error(), "equal or smaller than the target stream top item")
}

// Last returns the sequence number of the last event published for an
// execution, 0 when none was.
func (r *Relay) Last(ctx context.Context, executionID string) (int64, error) {
	msgs, err := r.rdb.XRevRangeN(ctx, r.key(executionID), "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	return parseSeq(msgs[0].ID)
}

// Since returns the records published for an execution from sequence
// number from on, without waiting.
func (r *Relay) Since(ctx context.Context, executionID string, from int64) ([]events.Record, error) {
	msgs, err := r.rdb.XRange(ctx, r.key(executionID), streamID(max(from, 1)), "+").Result()
	if err != nil {
		return nil, err
	}
	return decode(msgs)
}

// Finish marks a run's stream as done: it expires after the relay's TTL.
func (r *Relay) Finish(ctx context.Context, executionID string) error {
	return r.rdb.Expire(ctx, r.key(executionID), r.ttl).Err()
}

// Read yields the records of an execution from sequence number from on,
// waiting for new ones, until stop reports true for a record yielded (the
// end of the run, or of a leg), ctx ends, or an error.
func (r *Relay) Read(ctx context.Context, executionID string, from int64, stop func(events.Record) bool) iter.Seq2[events.Record, error] {
	return func(yield func(events.Record, error) bool) {
		last := streamID(max(from, 1) - 1)
		key := r.key(executionID)
		for ctx.Err() == nil {
			streams, err := r.readers.XRead(ctx, &redis.XReadArgs{Streams: []string{key, last}, Block: r.block, Count: 512}).Result()
			if errors.Is(err, redis.Nil) {
				continue // nothing new within the block: look at ctx, read again
			}
			if err != nil {
				if ctx.Err() == nil {
					yield(events.Record{}, fmt.Errorf("relay: read %s: %w", key, err))
				}
				return
			}
			for _, s := range streams {
				recs, err := decode(s.Messages)
				if err != nil {
					yield(events.Record{}, err)
					return
				}
				for _, rec := range recs {
					if !yield(rec, nil) || stop != nil && stop(rec) {
						return
					}
				}
				if n := len(s.Messages); n > 0 {
					last = s.Messages[n-1].ID
				}
			}
		}
	}
}

// streamID is the stream id of a sequence number.
func streamID(seq int64) string { return "0-" + strconv.FormatInt(seq, 10) }

func parseSeq(id string) (int64, error) {
	_, seq, ok := strings.Cut(id, "-")
	if !ok {
		return 0, fmt.Errorf("relay: stream id %q is not 0-<seq>", id)
	}
	return strconv.ParseInt(seq, 10, 64)
}

// decode reads stream entries back into records.
func decode(msgs []redis.XMessage) ([]events.Record, error) {
	out := make([]events.Record, 0, len(msgs))
	for _, m := range msgs {
		seq, err := parseSeq(m.ID)
		if err != nil {
			return nil, err
		}
		data, _ := m.Values["event"].(string)
		ev, err := events.Parse([]byte(data))
		if err != nil {
			return nil, fmt.Errorf("relay: event %d: %w", seq, err)
		}
		out = append(out, events.Record{Seq: seq, Event: ev})
	}
	return out, nil
}
