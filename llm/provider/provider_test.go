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

func TestForURL(t *testing.T) {
	for u, want := range map[string]string{
		"https://api.openai.com/v1":                                "openai",
		"https://openrouter.ai/api/v1":                             "openrouter",
		"https://generativelanguage.googleapis.com/v1beta/openai/": "google",
		"http://localhost:11434/v1":                                "ollama",
		"http://127.0.0.1:11434/v1":                                "ollama",
		"https://API.X.AI/v1":                                      "x-ai",
		"http://127.0.0.1:4000/v1":                                 "",
		"https://litellm.example.com":                              "",
		"not a url":                                                "",
	} {
		assert.Equal(t, want, provider.ForURL(u), u)
	}
}
