package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/octrun/octrun/llm/provider"
)

func TestTable(t *testing.T) {
	assert.Equal(t, []string{"openai", "anthropic", "google", "x-ai", "openrouter", "ollama"}, provider.Names())
	p, ok := provider.Lookup("anthropic")
	assert.True(t, ok)
	assert.Equal(t, "ANTHROPIC_API_KEY", p.KeyVar)
	assert.True(t, p.NoMedia)
	p, ok = provider.Lookup("ollama")
	assert.True(t, ok)
	assert.Empty(t, p.KeyVar, "ollama needs no key")
	_, ok = provider.Lookup("vertex")
	assert.False(t, ok)

	all := provider.All()
	all[0].Name = "changed"
	assert.Equal(t, "openai", provider.Names()[0], "All returns a copy")

	prefix, id := provider.Split("openrouter/meta/llama-3")
	assert.Equal(t, "openrouter", prefix)
	assert.Equal(t, "meta/llama-3", id)
	prefix, id = provider.Split("gpt-4o")
	assert.Empty(t, prefix)
	assert.Equal(t, "gpt-4o", id)
}
