package blocks

import (
	"fmt"
	"strings"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

// The built-in tools of a thread that lists references (rules §6.6,
// D16): they read the protocol's loaded reference documents, so they run
// inside the engine and need no Effects.
const (
	referenceListTool = "octavus_reference_list"
	referenceReadTool = "octavus_reference_read"
)

// referenceListing is what a thread's system prompt gains when the thread
// lists references: their names and descriptions, and how to read them.
func referenceListing(p *protocol.Protocol, names []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n\nReference documents you can read with the %s tool:\n", referenceReadTool)
	for _, name := range names {
		fmt.Fprintf(&b, "- %s: %s\n", name, p.References[name].Description)
	}
	return strings.TrimRight(b.String(), "\n")
}

// referenceTools are the built-in tools offered to a thread with references.
func referenceTools() []llm.Tool {
	return []llm.Tool{
		{
			Name:        referenceListTool,
			Description: "List the reference documents you can read, with their descriptions",
			Parameters:  map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false},
		},
		{
			Name:        referenceReadTool,
			Description: "Read a reference document by its name",
			Parameters: map[string]any{
				"type":                 "object",
				"properties":           map[string]any{"name": map[string]any{"type": "string", "description": "The reference's name"}},
				"required":             []any{"name"},
				"additionalProperties": false,
			},
		},
	}
}

// callReferenceTool runs a built-in reference tool for a thread that lists
// names.
func callReferenceTool(p *protocol.Protocol, names []string, tool string, args map[string]any) (any, error) {
	if tool == referenceListTool {
		list := make([]map[string]string, len(names))
		for i, name := range names {
			list[i] = map[string]string{"name": name, "description": p.References[name].Description}
		}
		return list, nil
	}
	name, _ := args["name"].(string)
	for _, n := range names {
		if n == name {
			return p.References[name].Content, nil
		}
	}
	return nil, fmt.Errorf("no reference %q; the references are %s", name, strings.Join(names, ", "))
}
