package protocol_test

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/protocol"
)

// Rule D18: input values are checked against their declared types and enums
// before the first step, and every problem is listed at once.
func TestResolveInput(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/research-assistant")
	require.NoError(t, err)

	t.Run("defaults fill omitted inputs; optional ones stay absent (rule D3)", func(t *testing.T) {
		got, err := p.ResolveInput(map[string]any{"TOPIC": "tides"})
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"TOPIC": "tides", "DEPTH": "brief"}, got)
	})
	t.Run("given values win over defaults", func(t *testing.T) {
		got, err := p.ResolveInput(map[string]any{"TOPIC": "tides", "DEPTH": "detailed", "TEMPERATURE": 0.2})
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"TOPIC": "tides", "DEPTH": "detailed", "TEMPERATURE": 0.2}, got)
	})
	t.Run("every problem at once", func(t *testing.T) {
		_, err := p.ResolveInput(map[string]any{"TOPC": "tides", "DEPTH": "deep", "TEMPERATURE": "hot"})
		var inputErr *protocol.InputError
		require.ErrorAs(t, err, &inputErr)
		assert.Equal(t, []string{
			"missing input TOPIC (string)",
			`input DEPTH: value "deep" is not one of brief, detailed`,
			"input TEMPERATURE: expected number, got string",
		}, inputErr.Problems)
	})
	t.Run("a name the worker does not declare is ignored with a warning", func(t *testing.T) {
		given := map[string]any{"TOPIC": "tides", "TOPC": "tides", "ZZZ": []any{1}}
		got, err := p.ResolveInput(given)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"TOPIC": "tides", "DEPTH": "brief"}, got, "the run does not see it")
		assert.Equal(t, []string{
			`unknown input TOPC (did you mean "TOPIC"?) is ignored; the worker's inputs are TOPIC, DEPTH or TEMPERATURE`,
			`unknown input ZZZ is ignored; the worker's inputs are TOPIC, DEPTH or TEMPERATURE`,
		}, p.InputWarnings(given))
		assert.Empty(t, p.InputWarnings(map[string]any{"TOPIC": "tides"}))
	})
	t.Run("nested values are checked against custom types", func(t *testing.T) {
		q, err := protocol.Load("../testdata/valid/support-worker")
		require.NoError(t, err)
		_, err = q.ResolveInput(map[string]any{"TICKET": "x", "CUSTOMER_EMAIL": 42})
		require.EqualError(t, err, "invalid input: input CUSTOMER_EMAIL: expected string, got number")
	})
}

// Types compile to JSON Schema for tool parameters and structured output.
func TestToolAndResponseSchemas(t *testing.T) {
	p, err := protocol.Load("../testdata/valid/support-worker")
	require.NoError(t, err)
	var fileTicket *protocol.ToolDef
	for _, tool := range p.Tools {
		if tool.Name.Value == "file-ticket" {
			fileTicket = tool
		}
	}
	require.NotNil(t, fileTicket)
	triage := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"category": map[string]any{"type": "string", "enum": []any{"billing", "bug", "account", "other"}},
			"priority": map[string]any{"type": "string", "enum": []any{"low", "normal", "urgent"}},
			"summary":  map[string]any{"type": "string", "description": "One sentence for the support team"},
		},
		"required":             []any{"category", "priority", "summary"},
		"additionalProperties": false,
	}
	assertJSON(t, map[string]any{
		"type": "object",
		"properties": map[string]any{
			"title":  map[string]any{"type": "string"},
			"triage": triage,
			"queue":  map[string]any{"type": "string", "description": "Which team's queue"},
		},
		"required":             []any{"title", "triage", "queue"},
		"additionalProperties": false,
	}, p.ToolSchema(fileTicket))
	assertJSON(t, triage, p.ResponseSchema("Triage"))

	// Each schema is built once per protocol, by whichever run asks first,
	// and shared by the others.
	same := func(a, b map[string]any) bool {
		return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			assert.True(t, same(p.ToolSchema(fileTicket), p.ToolSchema(fileTicket)))
			assert.True(t, same(p.ResponseSchema("Triage"), p.ResponseSchema("Triage")))
			assert.True(t, same(p.InputSchema(), p.InputSchema()))
		})
	}
	wg.Wait()
}

func assertJSON(t *testing.T, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(w), string(g))
}
