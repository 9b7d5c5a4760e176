package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/octrun/octrun/effect"
	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

// Z1: a recorded effect before the fresh entry is never asked: is it detected?
func TestZZFreshSkipsUnasked(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	editSnapshot(t, store, pe.ExecutionID, func(s *runtime.Snapshot) {
		for i, e := range s.Journal.Entries {
			t.Logf("entry %d %s %s pending=%v", i, e.Key.ID, e.Kind, e.Pending)
		}
		extra := s.Journal.Entries[1]
		extra.Key.ID = "never-asked#1"
		n := len(s.Journal.Entries)
		s.Journal.Entries = append(s.Journal.Entries[:n-1:n-1], extra, s.Journal.Entries[n-1])
	})
	res, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(llm.NewScripted(&llm.Script{Responses: askScript.Responses[1:]})), runtime.WithStore(store))
	t.Logf("Z1 res=%+v err=%v", res, err)
	var d *effect.DivergedError
	if !errors.As(err, &d) {
		t.Errorf("Z1: recorded effect never asked, yet no DivergedError: err=%v", err)
	}
}

// Z2: replay ends without reaching the fresh entry: events?
func TestZZEndWhileReplaying(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	editSnapshot(t, store, pe.ExecutionID, func(s *runtime.Snapshot) {
		s.Journal.Entries[0].Result = json.RawMessage(`{"response":{"text":"done","finishReason":"stop"},"counter":1}`)
	})
	var got events.Collector
	_, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(llm.NewScripted(askScript)), runtime.WithStore(store), runtime.WithEventSink(got.Send))
	t.Logf("Z2 err=%v", err)
	for _, ev := range got.Events() {
		b, _ := json.Marshal(ev)
		t.Logf("Z2 %s", b)
	}
}

// Z3: a retryable provider failure in a continued leg: is the snapshot kept?
func TestZZContinueFailureKeepsSnapshot(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	failing := &llm.Script{Responses: []llm.ScriptResponse{{Error: &llm.Error{Type: "rate_limit_error", StatusCode: 429, Retryable: true, Message: "slow down"}}}}
	_, err := runtime.Continue(context.Background(), pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(llm.NewScripted(failing)), runtime.WithStore(store))
	t.Logf("Z3 err=%v", err)
	if _, lerr := store.Load(context.Background(), pe.ExecutionID); lerr != nil {
		t.Errorf("Z3: after a retryable failure the paused run is gone: %v", lerr)
	}
}

// slowClient streams text slowly until ctx ends.
type slowClient struct{}

func (slowClient) Generate(ctx context.Context, req llm.Request, onDelta func(llm.Delta) error) (*llm.Response, error) {
	for i := 0; i < 1000; i++ {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if err := onDelta(llm.Delta{Kind: llm.TextDelta, Text: "x"}); err != nil {
			return nil, err
		}
	}
	return &llm.Response{Text: "x", FinishReason: "stop"}, nil
}

// Z4: Execute with the caller's ctx cancelled: are the end events yielded?
func TestZZExecuteParentCancel(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/title-generator")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		var types []string
		var last error
		n := 0
		for ev, err := range runtime.Execute(ctx, p, map[string]any{"SUMMARY": "x"}, runtime.WithLLM(slowClient{})) {
			if err != nil {
				last = err
				continue
			}
			types = append(types, ev.EventType())
			if ev.EventType() == "text-delta" {
				if n++; n == 3 {
					cancel()
				}
			}
		}
		cancel()
		if len(types) < 3 || types[len(types)-1] != "usage" {
			t.Errorf("Z4 iter %d: parent cancel: last events %v (err %v)", i, types[max(0, len(types)-3):], last)
			return
		}
	}
}

// Z5: Execute stopped early leaves no goroutine behind.
func TestZZExecuteEarlyStopNoLeak(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/title-generator")
	if err != nil {
		t.Fatal(err)
	}
	base := goruntime.NumGoroutine()
	for i := 0; i < 10; i++ {
		n := 0
		for range runtime.Execute(context.Background(), p, map[string]any{"SUMMARY": "x"}, runtime.WithLLM(slowClient{}), runtime.WithEventSink(func(events.Event) error { return nil })) {
			if n++; n == 5 {
				break
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	if g := goruntime.NumGoroutine(); g > base {
		buf := make([]byte, 1<<16)
		t.Errorf("Z5 goroutines %d > %d\n%s", g, base, buf[:goruntime.Stack(buf, true)])
	}
}

// Z6: a cancelled continued leg deletes the paused run.
func TestZZContinueCancelKeepsSnapshot(t *testing.T) {
	dir := pausingAgent(t)
	store := runtime.DirStore{Dir: t.TempDir()}
	pe := pause(t, dir, store, llm.NewScripted(askScript))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := runtime.Continue(ctx, pe.ExecutionID,
		[]events.ToolResult{{ToolCallID: "c1", Result: json.RawMessage(`"Brest"`)}},
		runtime.WithLLM(slowClient{}), runtime.WithStore(store))
	t.Logf("Z6 err=%v", err)
	if _, lerr := store.Load(context.Background(), pe.ExecutionID); lerr != nil {
		t.Errorf("Z6: after a cancelled continue the paused run is gone: %v", lerr)
	}
}
