package llm

import (
	"cmp"
	"slices"
	"time"

	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/octrun/octrun/llm/provider"
)

// Environment variables of the one-endpoint override.
const (
	EnvBaseURL = "OCTRUN_LLM_BASE_URL"
	EnvAPIKey  = "OCTRUN_LLM_API_KEY"
)

// Router is a Client that sends each call to the endpoint of its model's
// provider (the prefix of provider/model-id), with the prefix stripped, or
// every call to one endpoint with the model as written when an override is
// set. Endpoints and keys come from the environment (rule C2).
// One OpenAI client per endpoint is created on first use and reused. A
// Router is a MediaClient too, routing media models the same way. It is
// safe for concurrent use.
type Router struct {
	getenv      func(string) string
	overrideURL string
	// overrideVar is EnvBaseURL when the override comes from it, "" when
	// WithBaseURL set it.
	overrideVar string
	overrideKey string
	clientOpts  []OpenAIOption
	retryOpts   []RetryOption
	retry       bool

	mu      sync.Mutex
	clients map[string]Client // by provider name; "" for the override
}

// RouterOption configures a Router.
type RouterOption func(*Router)

// WithBaseURL sends every call to the OpenAI-compatible endpoint at url
// (a gateway such as LiteLLM or OpenRouter, a local server, a test
// server) with the model name as written, authenticated with key, or with
// OCTRUN_LLM_API_KEY when key is empty. It takes precedence over
// OCTRUN_LLM_BASE_URL. An empty url changes nothing.
func WithBaseURL(url, key string) RouterOption {
	return func(r *Router) {
		if url != "" {
			r.overrideURL, r.overrideVar, r.overrideKey = url, "", key
		}
	}
}

// WithClientOptions passes options to every OpenAI client the router
// creates, e.g. WithHTTPClient.
func WithClientOptions(opts ...OpenAIOption) RouterOption {
	return func(r *Router) { r.clientOpts = append(r.clientOpts, opts...) }
}

// WithRetries makes the router retry the calls of every endpoint, each
// endpoint's client wrapped in WithRetry(client, opts...). Errors of the
// retrying client (timeouts included) carry the provider and model too.
func WithRetries(opts ...RetryOption) RouterOption {
	return func(r *Router) { r.retry, r.retryOpts = true, append(r.retryOpts, opts...) }
}

// NewRouter returns a router reading its configuration through getenv
// (os.Getenv, or a map lookup in tests). OCTRUN_LLM_BASE_URL and
// OCTRUN_LLM_API_KEY are read now; provider variables when a provider is
// first used.
func NewRouter(getenv func(string) string, opts ...RouterOption) *Router {
	r := &Router{getenv: getenv, overrideURL: getenv(EnvBaseURL), overrideVar: EnvBaseURL, clients: map[string]Client{}}
	for _, opt := range opts {
		opt(r)
	}
	if r.overrideURL != "" && r.overrideKey == "" {
		r.overrideKey = getenv(EnvAPIKey)
	}
	return r
}

// Generate sends req to its model's endpoint. A model of an unknown
// provider, or whose provider's key is not set, fails with a
// validation_error or authentication_error *Error without a request.
// Errors of the call carry the provider and model.
func (r *Router) Generate(ctx context.Context, req Request, onDelta func(Delta) error) (*Response, error) {
	prefix, id := splitModel(req.Model)
	client, err := r.client(req.Model)
	if err != nil {
		return nil, err
	}
	if r.overrideURL == "" {
		req.Model = id
	}
	resp, err := client.Generate(ctx, req, onDelta)
	if e, ok := errors.AsType[*Error](err); ok {
		e.Provider, e.Model = prefix, id
	}
	return resp, err
}

// GenerateImage implements MediaClient, routing req.Model like Generate.
// Anthropic offers no media API: its models fail with an unsupported
// *Error without a request.
func (r *Router) GenerateImage(ctx context.Context, req ImageRequest) (*Media, error) {
	return routeMedia(r, req.Model, "image generation", func(m MediaClient, model string) (*Media, error) {
		req.Model = model
		return m.GenerateImage(ctx, req)
	})
}

// GenerateSpeech implements MediaClient, routing req.Model like Generate.
func (r *Router) GenerateSpeech(ctx context.Context, req SpeechRequest) (*Media, error) {
	return routeMedia(r, req.Model, "speech generation", func(m MediaClient, model string) (*Media, error) {
		req.Model = model
		return m.GenerateSpeech(ctx, req)
	})
}

// Transcribe implements MediaClient, routing req.Model like Generate.
func (r *Router) Transcribe(ctx context.Context, req TranscriptionRequest) (*Transcript, error) {
	return routeMedia(r, req.Model, "transcription", func(m MediaClient, model string) (*Transcript, error) {
		req.Model = model
		return m.Transcribe(ctx, req)
	})
}

// routeMedia makes a media call on model's endpoint, with the model id as
// that endpoint takes it; errors carry the provider and model.
func routeMedia[T any](r *Router, model, api string, call func(m MediaClient, model string) (T, error)) (T, error) {
	var zero T
	prefix, id := splitModel(model)
	client, err := r.client(model)
	if err != nil {
		return zero, err
	}
	if r.overrideURL == "" {
		if p, _ := r.endpoint(model); p.NoMedia {
			e := unsupported(id, 0, fmt.Sprintf("provider %s offers no %s through an OpenAI-compatible API; use a model of another provider", prefix, api))
			e.Provider = prefix
			return zero, e
		}
		model = id
	}
	v, err := call(MediaOf(client), model)
	if e, ok := errors.AsType[*Error](err); ok {
		e.Provider, e.Model = prefix, id
	}
	return v, err
}

// Check reports, before a run, every model that could not be called: an
// unknown provider, a provider whose key variable is unset (the message
// names the variable to set), or whose endpoint variable does not hold an
// http(s) URL (CheckBaseURL). With the override every model is accepted,
// once the override's URL is one.
func (r *Router) Check(models []string) error {
	if r.overrideURL != "" {
		name := r.overrideVar
		if name == "" {
			name = "the endpoint URL"
		}
		return CheckBaseURL(name, r.overrideURL)
	}
	var errs []error
	seen, badVar := map[string]bool{}, map[string]bool{}
	for _, m := range models {
		if seen[m] {
			continue
		}
		seen[m] = true
		p, err := r.endpoint(m)
		if err != nil {
			errs = append(errs, errors.New(err.Message))
			continue
		}
		if urlErr := CheckBaseURL(p.BaseURLVar, r.getenv(p.BaseURLVar)); urlErr != nil && !badVar[p.BaseURLVar] {
			badVar[p.BaseURLVar] = true
			errs = append(errs, fmt.Errorf("model %s: %w", m, urlErr))
		}
	}
	return errors.Join(errs...)
}

// CheckBaseURL reports whether u, which name sets (a flag or an
// environment variable, for the message), can be the base URL of an
// OpenAI-compatible endpoint: an http or https URL with a host, such as
// http://localhost:4000/v1. The error names name and u, says what is wrong
// and how to write it. An empty u is no endpoint, and no error.
func CheckBaseURL(name, u string) error {
	if u == "" {
		return nil
	}
	parsed, err := url.Parse(u)
	var problem string
	switch {
	case err != nil:
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		problem = fmt.Sprintf("is not a URL (%v); write it like http://localhost:4000/v1", err)
	case !strings.Contains(u, "://"):
		problem = fmt.Sprintf("has no http:// or https://: write http://%s or https://%s", u, u)
	case parsed.Scheme != "http" && parsed.Scheme != "https":
		problem = "is not an http or https URL (like http://localhost:4000/v1)"
	case parsed.Host == "":
		problem = "names no host (like http://localhost:4000/v1)"
	default:
		return nil
	}
	return fmt.Errorf("%s %q %s", name, u, problem)
}

// client returns the client for model, creating it on first use.
func (r *Router) client(model string) (Client, error) {
	if r.overrideURL != "" {
		return r.cached("", r.overrideURL, r.overrideKey), nil
	}
	p, e := r.endpoint(model)
	if e != nil {
		return nil, e
	}
	var key string
	if p.KeyVar != "" {
		key = r.getenv(p.KeyVar)
	}
	baseURL := r.getenv(p.BaseURLVar)
	if baseURL == "" {
		baseURL = p.BaseURL
	}
	return r.cached(p.Name, baseURL, key), nil
}

func (r *Router) cached(name, baseURL, key string) Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clients[name]
	if !ok {
		// A provider's endpoint takes its own form of some settings; the
		// override (name "") takes its endpoint's when it is a known
		// provider's, else each model's prefix's.
		c = NewOpenAI(baseURL, key, append(slices.Clone(r.clientOpts), WithProvider(cmp.Or(name, provider.ForURL(baseURL))))...)
		if r.retry {
			c = WithRetry(c, r.retryOpts...)
		}
		r.clients[name] = c
	}
	return c
}

// endpoint finds the provider of model and checks its key is set. The
// error's message is a sentence for the user naming the model.
func (r *Router) endpoint(model string) (provider.Provider, *Error) {
	prefix, id := splitModel(model)
	if prefix == "" || id == "" {
		return provider.Provider{}, &Error{Type: TypeValidation,
			Message: fmt.Sprintf("model %q is not provider/model-id (e.g. openai/gpt-4o)", model)}
	}
	p, ok := provider.Lookup(prefix)
	if !ok {
		return p, &Error{Type: TypeValidation,
			Message: fmt.Sprintf("model %s: unknown provider %q (known: %s)", model, prefix, strings.Join(provider.Names(), ", "))}
	}
	if p.KeyVar != "" && r.getenv(p.KeyVar) == "" {
		return p, &Error{Type: TypeAuthentication,
			Message: fmt.Sprintf("model %s needs %s", model, p.KeyVar)}
	}
	return p, nil
}

// splitModel splits provider/model-id at its first slash.
func splitModel(model string) (prefix, id string) { return provider.Split(model) }

// Default limits of a model call (DefaultRetries).
const (
	DefaultCallTimeout = 10 * time.Minute
	DefaultIdleTimeout = 2 * time.Minute
)

// DefaultRetries is the router option octrun runs with: retries with their
// default back-off, a call that lasts longer than DefaultCallTimeout or
// whose stream is silent for DefaultIdleTimeout fails with
// provider_timeout (and is retried while nothing was streamed).
func DefaultRetries() RouterOption {
	return WithRetries(WithCallTimeout(DefaultCallTimeout), WithIdleTimeout(DefaultIdleTimeout))
}
