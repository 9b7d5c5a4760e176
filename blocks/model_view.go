package blocks

import (
	"slices"

	"github.com/octrun/octrun/llm"
)

// modelView is a thread as its model reads it, converted one message at a
// time as the thread grows, so that a next-message does not convert the
// whole history again. It is derived state only: it lives in memory beside
// the thread, is never marshaled (a Thread decoded from JSON, or rebuilt by
// a replay, starts without one) and never reaches a journal except as the
// requests it builds, which are those of a conversion from scratch.
type modelView struct {
	// messages are the system prompt, then the conversion of the thread's
	// first n messages.
	messages []llm.Message
	n        int
	// system, maxToolTokens and lastID are what the conversion was made
	// from: the system prompt, the cap of tool results and the id of
	// message n-1.
	system        string
	maxToolTokens int
	lastID        string
	// tail is scratch space for the conversion of one message.
	tail []llm.Message
}

// modelMessages returns the messages of a model request for the thread:
// the system prompt, then each message (appendModel). It converts only the
// messages appended since the last call; a thread whose earlier messages
// are not those converted (replaced rather than appended to) is converted
// again from its start.
//
// The result keeps the cache's spare capacity, so that a tool loop
// appending its exchange to the request does not copy the history. The
// cache never changes a message a request may hold: it extends itself
// into a slot after its end only when the slot is empty or already holds
// the message it would write (the exchange a tool loop appended is what
// the thread's new message converts to); else it moves to a new array.
func (t *Thread) modelMessages() []llm.Message {
	v := &t.view
	maxTokens := t.Config.MaxToolOutputTokens
	if v.messages == nil || v.n > len(t.Messages) || v.system != t.System || v.maxToolTokens != maxTokens ||
		(v.n > 0 && t.Messages[v.n-1].ID != v.lastID) {
		*v = modelView{messages: []llm.Message{{Role: llm.RoleSystem, Content: t.System}}, system: t.System, maxToolTokens: maxTokens}
	}
	for _, m := range t.Messages[v.n:] {
		v.tail = appendModel(v.tail[:0], m, maxTokens)
		if !v.fits(v.tail) {
			v.messages = slices.Clip(v.messages)
		}
		v.messages = append(v.messages, v.tail...)
		v.n++
		v.lastID = m.ID
	}
	clear(v.tail)
	if room := len(v.messages) / 2; room >= 8 && cap(v.messages)-len(v.messages) < room/2 {
		// Room for the exchanges of tool loops, taken once for many
		// rounds (slices.Grow moves the cache to a new array); a short
		// history is cheap to copy.
		v.messages = slices.Grow(v.messages, room)
	}
	return v.messages
}

// fits reports whether messages can be appended to the cache in place:
// each slot after its end that they would take is empty or holds the
// message already.
func (v *modelView) fits(messages []llm.Message) bool {
	spare := v.messages[len(v.messages):cap(v.messages)]
	for i, m := range messages[:min(len(messages), len(spare))] {
		if s := spare[i]; !sameMessage(s, llm.Message{}) && !sameMessage(s, m) {
			return false
		}
	}
	return true
}

// sameMessage reports whether two model messages are equal.
func sameMessage(a, b llm.Message) bool {
	return a.Role == b.Role && a.Content == b.Content && a.ToolCallID == b.ToolCallID &&
		slices.Equal(a.ToolCalls, b.ToolCalls) && slices.Equal(a.Files, b.Files)
}
