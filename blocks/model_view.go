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
}

// modelMessages returns the messages of a model request for the thread:
// the system prompt, then each message (appendModel). It converts only the
// messages appended since the last call; a thread whose earlier messages
// are not those converted (replaced rather than appended to) is converted
// again from its start. The result is clipped: appending to it never
// writes into the cache.
func (t *Thread) modelMessages() []llm.Message {
	v := &t.view
	maxTokens := t.Config.MaxToolOutputTokens
	if v.messages == nil || v.n > len(t.Messages) || v.system != t.System || v.maxToolTokens != maxTokens ||
		(v.n > 0 && t.Messages[v.n-1].ID != v.lastID) {
		*v = modelView{messages: []llm.Message{{Role: llm.RoleSystem, Content: t.System}}, system: t.System, maxToolTokens: maxTokens}
	}
	for _, m := range t.Messages[v.n:] {
		v.messages = appendModel(v.messages, m, maxTokens)
		v.n++
		v.lastID = m.ID
	}
	return slices.Clip(v.messages)
}
