package serve

import (
	"bufio"
	"net/http"
	"strconv"
	"time"

	"github.com/octrun/octrun/events"
)

// stream writes e's events from sequence number from on as server-sent
// events until no more can come (the leg ended: the execution paused or
// ended) or the client went away: an "id:" and a "data:" line per event,
// a ": heartbeat" comment after each quiet Heartbeat, and "data: [DONE]"
// at the end. It reports whether the stream reached its end.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, e *execution, from int64) bool {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Execution-Id", e.id)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	out := bufio.NewWriterSize(w, 16<<10)
	// Every write, whether the buffer or a large event goes out, must be
	// taken within the write timeout from the start of its batch, or the
	// client is gone.
	deadline := func() { _ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout)) }
	flush := func() bool { return out.Flush() == nil && rc.Flush() == nil }
	deadline()
	if !flush() { // the headers go out at once: an EventSource opens
		return false
	}
	heartbeat := time.NewTicker(s.opts.Heartbeat)
	defer heartbeat.Stop()
	enc := events.NewEncoder()
	var data []byte // each event's JSON, in a buffer reused
	for {
		recs, more, wait := e.read(from)
		deadline()
		for _, rec := range recs {
			from = rec.Seq + 1
			var err error
			if data, err = enc.Append(data[:0], rec.Event); err != nil {
				s.opts.Logger.Error("an event could not be encoded", "execution", e.id, "seq", rec.Seq, "error", err)
				continue
			}
			out.WriteString("id: ")
			out.WriteString(strconv.FormatInt(rec.Seq, 10))
			out.WriteString("\ndata: ")
			out.Write(data)
			out.WriteString("\n\n")
		}
		if len(recs) > 0 {
			if !flush() {
				return false
			}
			heartbeat.Reset(s.opts.Heartbeat)
			continue
		}
		if !more {
			out.WriteString("data: [DONE]\n\n")
			return flush()
		}
		select {
		case <-wait:
		case <-heartbeat.C:
			deadline()
			out.WriteString(": heartbeat\n\n")
			if !flush() {
				return false
			}
		case <-r.Context().Done():
			return false
		}
	}
}
