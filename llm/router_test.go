package llm_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func call(t *testing.T, c llm.Client, model string) (*llm.Response, error) {
	t.Helper()
	return c.Generate(t.Context(), llm.Request{Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
}

func TestRouterStripsPrefixAndPicksEndpoint(t *testing.T) {
	openaiSrv := fake(t, `responses: [{text: from openai}]`, fakeopenai.WithLoop())
	anthropicSrv := fake(t, `responses: [{text: from anthropic}]`)
	ollamaSrv := fake(t, `responses: [{text: from ollama}]`)
	r := llm.NewRouter(env(map[string]string{
		"OPENAI_BASE_URL": openaiSrv.URL(), "OPENAI_API_KEY": "sk-openai",
		"ANTHROPIC_BASE_URL": anthropicSrv.URL(), "ANTHROPIC_API_KEY": "sk-ant",
		"OLLAMA_BASE_URL": ollamaSrv.URL(),
	}))

	resp, err := call(t, r, "openai/gpt-4o")
	require.NoError(t, err)
	assert.Equal(t, "from openai", resp.Text)
	resp, err = call(t, r, "anthropic/claude-sonnet-4-5")
	require.NoError(t, err)
	assert.Equal(t, "from anthropic", resp.Text)
	resp, err = call(t, r, "ollama/qwen3:8b")
	require.NoError(t, err)
	assert.Equal(t, "from ollama", resp.Text)

	got := openaiSrv.Requests()[0]
	assert.Equal(t, "gpt-4o", got.Chat.Model)
	assert.Equal(t, "Bearer sk-openai", got.Authorization)
	got = anthropicSrv.Requests()[0]
	assert.Equal(t, "claude-sonnet-4-5", got.Chat.Model)
	assert.Equal(t, "Bearer sk-ant", got.Authorization)
	got = ollamaSrv.Requests()[0]
	assert.Equal(t, "qwen3:8b", got.Chat.Model)
	assert.Empty(t, got.Authorization, "ollama needs no key")

	// A model id may itself contain slashes: only the provider is cut.
	_, err = call(t, r, "openai/ft/my-model")
	require.NoError(t, err)
	assert.Equal(t, "ft/my-model", openaiSrv.Requests()[1].Chat.Model)
}

func TestRouterOverrideSendsEverythingToOneEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts func(url string) []llm.RouterOption
		vars func(url string) map[string]string
	}{
		{"environment", func(string) []llm.RouterOption { return nil }, func(url string) map[string]string {
			return map[string]string{"OCTRUN_LLM_BASE_URL": url, "OCTRUN_LLM_API_KEY": "gw-key"}
		}},
		{"option with key from the environment", func(url string) []llm.RouterOption {
			return []llm.RouterOption{llm.WithBaseURL(url, "")}
		}, func(string) map[string]string {
			return map[string]string{"OCTRUN_LLM_BASE_URL": "http://127.0.0.1:1/unused", "OCTRUN_LLM_API_KEY": "gw-key"}
		}},
		{"option with key", func(url string) []llm.RouterOption {
			return []llm.RouterOption{llm.WithBaseURL(url, "gw-key")}
		}, func(string) map[string]string { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fake(t, `responses: [{text: a}, {text: b}]`)
			r := llm.NewRouter(env(tc.vars(srv.URL())), tc.opts(srv.URL())...)
			require.NoError(t, r.Check([]string{"openai/gpt-4o", "mystery/model"}), "nothing is required")
			for _, model := range []string{"openai/gpt-4o", "mystery/model"} {
				_, err := call(t, r, model)
				require.NoError(t, err)
			}
			reqs := srv.Requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, "openai/gpt-4o", reqs[0].Chat.Model, "model as written")
			assert.Equal(t, "mystery/model", reqs[1].Chat.Model)
			assert.Equal(t, "Bearer gw-key", reqs[0].Authorization)
		})
	}
}

func TestRouterCheck(t *testing.T) {
	r := llm.NewRouter(env(map[string]string{"ANTHROPIC_API_KEY": "k"}))
	err := r.Check([]string{
		"openai/gpt-4o", "anthropic/claude-sonnet-4-5", "openai/gpt-4o", "google/gemini-2.5-pro",
		"x-ai/grok-4", "openrouter/meta/llama-4", "ollama/llama3", "vertex/gemini", "gpt-4o",
	})
	require.Error(t, err)
	assert.Equal(t, `model openai/gpt-4o needs OPENAI_API_KEY
model google/gemini-2.5-pro needs GEMINI_API_KEY
model x-ai/grok-4 needs XAI_API_KEY
model openrouter/meta/llama-4 needs OPENROUTER_API_KEY
model vertex/gemini: unknown provider "vertex" (known: openai, anthropic, google, x-ai, openrouter, ollama)
model "gpt-4o" is not provider/model-id (e.g. openai/gpt-4o)`, err.Error())

	assert.NoError(t, r.Check([]string{"anthropic/claude-sonnet-4-5", "ollama/llama3"}))
	assert.NoError(t, r.Check(nil))
}

func TestRouterMissingKeyFailsWithoutRequest(t *testing.T) {
	srv := fake(t, `responses: [{text: a}]`)
	r := llm.NewRouter(env(map[string]string{"OPENAI_BASE_URL": srv.URL()}))
	_, err := call(t, r, "openai/gpt-4o")
	e, ok := errors.AsType[*llm.Error](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, llm.TypeAuthentication, e.Type)
	assert.Equal(t, "model openai/gpt-4o needs OPENAI_API_KEY", e.Message)
	assert.False(t, e.Retryable)
	assert.Empty(t, srv.Requests())

	_, err = call(t, r, "nope/model")
	e, ok = errors.AsType[*llm.Error](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, llm.TypeValidation, e.Type)
}

func TestRouterErrorsNameProviderAndModel(t *testing.T) {
	srv := fake(t, `responses: [{error: {status: 429, message: slow down}}]`)
	r := llm.NewRouter(env(map[string]string{"XAI_BASE_URL": srv.URL(), "XAI_API_KEY": "k"}))
	_, err := call(t, r, "x-ai/grok-4")
	e, ok := errors.AsType[*llm.Error](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "x-ai", e.Provider)
	assert.Equal(t, "grok-4", e.Model)
	assert.Equal(t, "x-ai/grok-4: rate_limit_error (HTTP 429): slow down", e.Error())
}

func TestRouterWithRetries(t *testing.T) {
	srv := fake(t, `
responses:
  - error: {status: 503}
  - text: second try
  - {text: slow, fault: {delay: 5s}}
  - {text: slow, fault: {delay: 5s}}
`)
	w := &waits{}
	r := llm.NewRouter(env(map[string]string{"OPENAI_BASE_URL": srv.URL(), "OPENAI_API_KEY": "k"}),
		llm.WithRetries(llm.WithSleep(w.sleep), llm.WithAttempts(2)),
		llm.WithRetries(llm.WithCallTimeout(300*time.Millisecond)))
	resp, err := call(t, r, "openai/gpt-4o")
	require.NoError(t, err)
	assert.Equal(t, "second try", resp.Text)
	assert.Len(t, w.list(), 1)

	_, err = call(t, r, "openai/gpt-4o")
	e := requireError(t, err)
	assert.Equal(t, llm.Error{Type: llm.TypeProviderTimeout, Retryable: true, Provider: "openai", Model: "gpt-4o", Attempts: 2,
		Message: "the call did not finish within 300ms"}, *e, "the retrying client's own errors name the provider too")
	assert.Len(t, srv.Requests(), 4)
}

func TestRouterConcurrentCalls(t *testing.T) {
	srv := fake(t, `responses: [{text: ok}]`, fakeopenai.WithLoop())
	r := llm.NewRouter(env(map[string]string{"OPENAI_BASE_URL": srv.URL(), "OPENAI_API_KEY": "k"}))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := call(t, r, "openai/gpt-4o")
			if assert.NoError(t, err) {
				assert.Equal(t, "ok", resp.Text)
			}
		})
	}
	wg.Wait()
	assert.Len(t, srv.Requests(), 20)
}

// An endpoint URL that cannot be called (no http:// or https://, no host,
// not a URL) is reported by Check before any call, naming where it was
// set; a call is never tried with it.
func TestRouterCheckRefusesMalformedEndpoints(t *testing.T) {
	r := llm.NewRouter(env(map[string]string{"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "api.example.com/v1"}))
	err := r.Check([]string{"openai/gpt-4o", "ollama/llama3", "openai/gpt-4o-mini"})
	require.Error(t, err)
	assert.Equal(t, `model openai/gpt-4o: OPENAI_BASE_URL "api.example.com/v1" has no http:// or https://: write http://api.example.com/v1 or https://api.example.com/v1`, err.Error())

	r = llm.NewRouter(env(map[string]string{"OCTRUN_LLM_BASE_URL": "ftp://gateway/v1"}))
	err = r.Check([]string{"openai/gpt-4o"})
	require.Error(t, err)
	assert.Equal(t, `OCTRUN_LLM_BASE_URL "ftp://gateway/v1" is not an http or https URL (like http://localhost:4000/v1)`, err.Error())

	r = llm.NewRouter(env(map[string]string{"OCTRUN_LLM_BASE_URL": "http://gateway/v1"}), llm.WithBaseURL("http://", ""))
	err = r.Check(nil)
	require.Error(t, err)
	assert.Equal(t, `the endpoint URL "http://" names no host (like http://localhost:4000/v1)`, err.Error())

	for _, ok := range []string{"http://localhost:4000/v1", "HTTPS://api.example.com", "http://[::1]:8080"} {
		assert.NoError(t, llm.CheckBaseURL("URL", ok), ok)
	}
	assert.EqualError(t, llm.CheckBaseURL("--url", "http://exa mple.com"), `--url "http://exa mple.com" is not a URL (invalid character " " in host name); write it like http://localhost:4000/v1`)
	assert.NoError(t, llm.CheckBaseURL("--url", ""))
}

// thinking: off sends each provider's explicit "no reasoning" setting
// (rule C2): routed by prefix, and through the override by the prefix as
// written.
func TestThinkingOffPerProvider(t *testing.T) {
	srv := fake(t, `responses: [{text: ok}]`, fakeopenai.WithLoop())
	vars := map[string]string{}
	for _, p := range []string{"OPENAI", "ANTHROPIC", "GEMINI", "XAI", "OPENROUTER", "OLLAMA"} {
		vars[p+"_BASE_URL"], vars[p+"_API_KEY"] = srv.URL(), "k"
	}
	routed := llm.NewRouter(env(vars))
	override := llm.NewRouter(env(nil), llm.WithBaseURL(srv.URL(), "k"))
	for _, tc := range []struct {
		model string
		want  map[string]any // the reasoning fields sent
	}{
		{"openai/gpt-5.1", map[string]any{"reasoning_effort": "none"}},
		{"openai/gpt-6-sol", map[string]any{"reasoning_effort": "none"}},
		{"openai/gpt-6-astra", map[string]any{"reasoning_effort": "low"}}, // go-openai: it takes no "none"
		{"openai/gpt-5-mini", map[string]any{"reasoning_effort": "minimal"}},
		{"openai/gpt-5-chat-latest", map[string]any{}},
		{"openai/o4-mini", map[string]any{"reasoning_effort": "low"}},
		{"openai/o1-mini", map[string]any{}},
		{"openai/gpt-4o", map[string]any{}},
		{"anthropic/claude-sonnet-4-5", map[string]any{"thinking": map[string]any{"type": "disabled"}}},
		{"google/gemini-2.5-flash", map[string]any{"reasoning_effort": "none"}},
		{"google/gemini-2.5-pro", map[string]any{"reasoning_effort": "low"}},
		{"x-ai/grok-4", map[string]any{}},
		{"openrouter/deepseek/deepseek-r1", map[string]any{"reasoning": map[string]any{"enabled": false}}},
		{"ollama/qwen3:8b", map[string]any{"reasoning_effort": "none"}},
	} {
		for _, r := range []*llm.Router{routed, override} {
			n := len(srv.Requests())
			_, err := r.Generate(t.Context(), llm.Request{Model: tc.model, Thinking: "off",
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
			require.NoError(t, err, tc.model)
			m := body(t, srv, n)
			assert.Equal(t, tc.want, reasoningFields(m), "%s (%s)", tc.model, m["model"])
		}
	}
}

// Through a gateway of a known provider (WithProvider, as the override
// sets it from the endpoint's host), the gateway's form is sent whatever
// the model's prefix; a model of no known provider through an unknown
// endpoint gets nothing.
func TestThinkingOffThroughAGateway(t *testing.T) {
	srv := fake(t, `responses: [{text: ok}]`, fakeopenai.WithLoop())
	for i, tc := range []struct {
		client *llm.OpenAI
		model  string
		want   map[string]any
	}{
		{llm.NewOpenAI(srv.URL(), "k", llm.WithProvider("openrouter")), "anthropic/claude-sonnet-4-5", map[string]any{"reasoning": map[string]any{"enabled": false}}},
		{llm.NewOpenAI(srv.URL(), "k", llm.WithProvider("openrouter")), "openai/gpt-5.1", map[string]any{"reasoning": map[string]any{"enabled": false}}},
		{llm.NewOpenAI(srv.URL(), "k"), "mystery/model", map[string]any{}},
		{llm.NewOpenAI(srv.URL(), "k"), "qwen3", map[string]any{}},
	} {
		_, err := tc.client.Generate(t.Context(), llm.Request{Model: tc.model, Thinking: "off",
			Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
		require.NoError(t, err, tc.model)
		assert.Equal(t, tc.want, reasoningFields(body(t, srv, i)), tc.model)
	}
}

// reasoningFields are the fields of a request body that turn reasoning on
// or off.
func reasoningFields(m map[string]any) map[string]any {
	got := map[string]any{}
	for _, key := range []string{"reasoning_effort", "thinking", "reasoning"} {
		if v, ok := m[key]; ok {
			got[key] = v
		}
	}
	return got
}

// A thinking level goes as reasoning_effort, as OpenRouter's
// reasoning.effort to OpenRouter, and not at all to an OpenAI model that
// takes none (it would refuse the request).
func TestThinkingLevelsPerProvider(t *testing.T) {
	srv := fake(t, `responses: [{text: ok}]`, fakeopenai.WithLoop())
	r := llm.NewRouter(env(nil), llm.WithBaseURL(srv.URL(), "k"))
	for i, tc := range []struct {
		model, thinking string
		want            map[string]any
	}{
		{"openai/o3", "high", map[string]any{"reasoning_effort": "high"}},
		{"openai/gpt-5.1", "max", map[string]any{"reasoning_effort": "high"}},
		{"openai/gpt-4o", "low", map[string]any{}},
		{"openrouter/deepseek/deepseek-r1", "medium", map[string]any{"reasoning": map[string]any{"effort": "medium"}}},
		{"google/gemini-2.5-flash", "low", map[string]any{"reasoning_effort": "low"}},
		{"mystery/model", "low", map[string]any{"reasoning_effort": "low"}},
	} {
		_, err := r.Generate(t.Context(), llm.Request{Model: tc.model, Thinking: tc.thinking,
			Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, nil)
		require.NoError(t, err, tc.model)
		assert.Equal(t, tc.want, reasoningFields(body(t, srv, i)), "%s %s", tc.model, tc.thinking)
	}
}
