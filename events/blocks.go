package events

import (
	"encoding/json"
	"fmt"
)

// BlockStart opens a protocol block; the block's content events follow, then
// its BlockEnd. Every block emits it, whatever its display.
type BlockStart struct {
	BlockID   string `json:"blockId"`
	BlockName string `json:"blockName"`
	// BlockType is the block kind, e.g. "next-message".
	BlockType string `json:"blockType"`
	// Display is the block's display mode; the Emitter forwards the block's
	// content only when it is DisplayStream.
	Display     string `json:"display"`
	Description string `json:"description,omitempty"`
	// OutputToChat is false for independent blocks; nil omits it.
	OutputToChat *bool `json:"outputToChat,omitempty"`
	// Thread is the block's thread; "" or "main" is the main thread.
	Thread   string `json:"thread,omitempty"`
	WorkerID string `json:"workerId,omitempty"`
}

// BlockEnd closes a protocol block.
type BlockEnd struct {
	BlockID string `json:"blockId"`
	// Summary is a short human summary, e.g. "Generated response".
	Summary  string `json:"summary,omitempty"`
	WorkerID string `json:"workerId,omitempty"`
}

// ResourceUpdate reports a new value of a resource (deprecated in Octavus).
type ResourceUpdate struct {
	Name string `json:"name"`
	// Value is the new value as JSON; nil is written as null.
	Value json.RawMessage `json:"value"`
}

// FileAvailable announces a file produced during the run.
type FileAvailable struct {
	ID        string `json:"id"`
	MediaType string `json:"mediaType"`
	URL       string `json:"url"`
	Filename  string `json:"filename,omitempty"`
	// Size is the size in bytes; nil omits it.
	Size *int64 `json:"size,omitempty"`
	// ToolCallID is the tool call that produced the file.
	ToolCallID string `json:"toolCallId,omitempty"`
	WorkerID   string `json:"workerId,omitempty"`
}

// Source cites a source. SourceType selects the variant: SourceTypeURL uses
// URL and an optional Title; SourceTypeDocument uses MediaType, Title
// (always written) and an optional Filename. Fields of the other variant are
// not written.
type Source struct {
	SourceType string
	ID         string
	URL        string
	MediaType  string
	Title      string
	Filename   string
	WorkerID   string
}

// sourceURL is the wire form of a url Source.
type sourceURL struct {
	SourceType string `json:"sourceType"`
	ID         string `json:"id"`
	URL        string `json:"url"`
	Title      string `json:"title,omitempty"`
	WorkerID   string `json:"workerId,omitempty"`
}

// sourceDocument is the wire form of a document Source.
type sourceDocument struct {
	SourceType string `json:"sourceType"`
	ID         string `json:"id"`
	MediaType  string `json:"mediaType"`
	Title      string `json:"title"`
	Filename   string `json:"filename,omitempty"`
	WorkerID   string `json:"workerId,omitempty"`
}

// wireFields returns the wire form of the variant named by SourceType; an
// unknown SourceType is an error.
func (e Source) wireFields() (any, error) {
	switch e.SourceType {
	case SourceTypeURL:
		return sourceURL{e.SourceType, e.ID, e.URL, e.Title, e.WorkerID}, nil
	case SourceTypeDocument:
		return sourceDocument{e.SourceType, e.ID, e.MediaType, e.Title, e.Filename, e.WorkerID}, nil
	}
	return nil, fmt.Errorf("events: source: unknown sourceType %q (want %q or %q)", e.SourceType, SourceTypeURL, SourceTypeDocument)
}

// TodoUpdate replaces the todo list.
type TodoUpdate struct {
	Todos    []TodoItem `json:"todos"`
	WorkerID string     `json:"workerId,omitempty"`
}

// TodoItem is one entry of a todo list.
type TodoItem struct {
	ID      string `json:"id"`
	Content string `json:"content"`
	// Status is TodoPending, TodoInProgress, TodoCompleted or TodoCancelled.
	Status string `json:"status"`
}
