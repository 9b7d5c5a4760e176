package main

import (
	"io"
	"sync"
	"time"
)

// Buffering of a live display (liveWriter).
const (
	// liveDelay is the longest a byte waits in a liveWriter: a reader sees
	// each delta within milliseconds, and a fast stream goes out in a few
	// hundred events per write(2) instead of one.
	liveDelay = 2 * time.Millisecond
	// liveSize is how much a liveWriter holds before it writes at once.
	liveSize = 32 << 10
)

// liveWriter buffers the display of a run (the events on standard output,
// or the progress on standard error) and writes it out in one call when
// liveDelay has passed since the first byte it holds, when it holds
// liveSize bytes, and on flush: at the events a reader waits for and at
// the end of the leg. It is safe for concurrent use. It has no Flush
// method on purpose: the event writers flush a writer that has one after
// every event.
type liveWriter struct {
	w io.Writer
	// fail, if set, is told of a write error met by a timed write, which
	// no caller sees otherwise until the next Write or flush.
	fail func(error)

	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // armed while buf holds anything
	err   error       // the first write error: every later write fails with it
}

func newLiveWriter(w io.Writer, fail func(error)) *liveWriter {
	return &liveWriter{w: w, fail: fail}
}

// Write buffers p. It fails only with the error of an earlier write out.
func (l *liveWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	if len(l.buf) == 0 {
		if l.timer == nil {
			l.timer = time.AfterFunc(liveDelay, l.timed)
		} else {
			l.timer.Reset(liveDelay)
		}
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) >= liveSize {
		if err := l.writeOut(); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// flush writes out what is buffered and returns the first write error
// met, now or before.
func (l *liveWriter) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writeOut()
}

// timed is the timer's flush.
func (l *liveWriter) timed() {
	l.mu.Lock()
	err := l.writeOut()
	l.mu.Unlock()
	if err != nil && l.fail != nil {
		l.fail(err)
	}
}

// writeOut writes the buffer in one call; l.mu must be held.
func (l *liveWriter) writeOut() error {
	if l.timer != nil {
		l.timer.Stop()
	}
	if len(l.buf) == 0 || l.err != nil {
		l.buf = l.buf[:0]
		return l.err
	}
	_, l.err = l.w.Write(l.buf)
	if cap(l.buf) > 2*liveSize { // after one large event
		l.buf = nil
	} else {
		l.buf = l.buf[:0]
	}
	return l.err
}
