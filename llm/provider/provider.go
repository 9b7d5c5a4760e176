// Package provider is the one table of the model providers octrun routes
// (rule C2): the prefix of provider/model-id, the environment
// variables of each provider's endpoint and key, and the default endpoint.
//
// It knows no protocol and calls no model, so that both the protocol
// validator (which warns about a provider octrun does not route) and the
// llm router (which sends each call to its provider's endpoint) read it
// without depending on each other.
package provider

import (
	"net/url"
	"slices"
	"strings"
)

// Provider is one row of the table.
type Provider struct {
	// Name is the model prefix, without the slash: "openai".
	Name string
	// BaseURLVar is the environment variable that overrides BaseURL.
	BaseURLVar string
	// BaseURL is the default endpoint (OpenAI-compatible).
	BaseURL string
	// KeyVar is the environment variable holding the API key; "" when the
	// provider needs none.
	KeyVar string
	// NoMedia is true for a provider known to offer none of the images and
	// audio APIs; for the others the endpoint's answer tells.
	NoMedia bool
}

var table = []Provider{
	{"openai", "OPENAI_BASE_URL", "https://api.openai.com/v1", "OPENAI_API_KEY", false},
	{"anthropic", "ANTHROPIC_BASE_URL", "https://api.anthropic.com/v1/", "ANTHROPIC_API_KEY", true},
	{"google", "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta/openai/", "GEMINI_API_KEY", false},
	{"x-ai", "XAI_BASE_URL", "https://api.x.ai/v1", "XAI_API_KEY", false},
	{"openrouter", "OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", false},
	{"ollama", "OLLAMA_BASE_URL", "http://127.0.0.1:11434/v1", "", false},
}

// All returns the providers in the order of the table of rule C2.
func All() []Provider { return slices.Clone(table) }

// Names returns the providers' names in the order of the table of rule C2.
func Names() []string {
	names := make([]string, len(table))
	for i, p := range table {
		names[i] = p.Name
	}
	return names
}

// Lookup returns the provider named name.
func Lookup(name string) (Provider, bool) {
	i := slices.IndexFunc(table, func(p Provider) bool { return p.Name == name })
	if i < 0 {
		return Provider{}, false
	}
	return table[i], true
}

// Split splits provider/model-id at its first slash; prefix is "" when
// model has no slash.
func Split(model string) (prefix, id string) {
	prefix, id, ok := strings.Cut(model, "/")
	if !ok {
		return "", model
	}
	return prefix, id
}

// ForURL returns the name of the provider whose default endpoint is on the
// host (and port) of the URL u, or "" for any other endpoint: a gateway
// named by its URL speaks that provider's dialect whatever prefix its
// model names have.
func ForURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		return ""
	}
	host := strings.ToLower(parsed.Host)
	for _, p := range table {
		d, err := url.Parse(p.BaseURL)
		if err != nil {
			continue
		}
		if host == d.Host || (d.Hostname() == "127.0.0.1" && host == "localhost:"+d.Port()) {
			return p.Name
		}
	}
	return ""
}
