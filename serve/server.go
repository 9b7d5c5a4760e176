package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/octrun/octrun/protocol"
)

// Defaults of Options.
const (
	DefaultHeartbeat       = 15 * time.Second
	DefaultMaxBody         = 4 << 20
	DefaultMaxRuns         = 256
	DefaultRetention       = time.Hour
	DefaultPausedRetention = 24 * time.Hour
	DefaultWriteTimeout    = 30 * time.Second
	// MaxJSONDepth bounds the nesting of a request body's JSON.
	MaxJSONDepth = 64
	// BodyTimeout bounds the reading of a request body.
	BodyTimeout = 30 * time.Second
)

// Options configures a Server.
type Options struct {
	// Agents are the agents served, by their slugs.
	Agents []*protocol.Protocol
	// Runner runs the executions.
	Runner Runner
	// APIKeys are the keys a request may carry as "Authorization: Bearer
	// KEY"; with none, every request is accepted (the command allows that
	// on a loopback address only).
	APIKeys []string
	// MaxRuns bounds the legs running at once; a request over it is
	// refused with 429 (DefaultMaxRuns).
	MaxRuns int
	// Heartbeat is the interval of the SSE comment that keeps a quiet
	// stream alive (DefaultHeartbeat).
	Heartbeat time.Duration
	// MaxBody bounds a request body in bytes (DefaultMaxBody).
	MaxBody int64
	// Retention is how long an ended execution's events stay readable
	// (DefaultRetention).
	Retention time.Duration
	// PausedRetention is how long a paused execution waits to be
	// continued before it is forgotten (DefaultPausedRetention).
	PausedRetention time.Duration
	// WriteTimeout bounds each write to a client; a client that stops
	// reading is dropped after it (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Logger receives the server's logs (default: none).
	Logger *slog.Logger
}

// Server serves the worker HTTP API for a set of agents. It is an
// http.Handler; Drain and CancelRuns end it.
type Server struct {
	opts       Options
	keyDigests [][sha256.Size]byte
	agents     map[string]*protocol.Protocol
	mux        *http.ServeMux
	metrics    *metrics

	// runs is the root of every in-process leg's context: CancelRuns
	// cancels it.
	runs      context.Context
	cancelAll context.CancelFunc

	mu         sync.Mutex
	executions map[string]*execution
	inFlight   int
	draining   bool
	pruned     time.Time
	legs       sync.WaitGroup
}

// New returns a server of opts.Agents run by opts.Runner.
func New(opts Options) (*Server, error) {
	if opts.Runner == nil {
		return nil, errors.New("serve: no Runner")
	}
	if len(opts.Agents) == 0 {
		return nil, errors.New("serve: no agent to serve")
	}
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = DefaultMaxRuns
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.PausedRetention <= 0 {
		opts.PausedRetention = DefaultPausedRetention
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, agents: map[string]*protocol.Protocol{}, executions: map[string]*execution{}, metrics: newMetrics()}
	for _, p := range opts.Agents {
		slug := p.Settings.Slug.Value
		if _, dup := s.agents[slug]; dup {
			return nil, fmt.Errorf("serve: two agents have the slug %q", slug)
		}
		s.agents[slug] = p
	}
	for _, key := range opts.APIKeys {
		s.keyDigests = append(s.keyDigests, sha256.Sum256([]byte(key)))
	}
	s.runs, s.cancelAll = context.WithCancel(context.Background())
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.handle("GET /metrics", s.serveMetrics)
	s.handle("GET /api/agents", s.listAgents)
	s.handle("GET /api/agents/{agentId}", s.describeAgent)
	s.handle("POST /api/agents/{agentId}/execute", s.execute)
	s.handle("GET /api/executions/{id}/events", s.reread)
	return s, nil
}

// handle registers an endpoint that needs a key and is measured.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	route := pattern[strings.Index(pattern, " ")+1:]
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { s.metrics.observeRequest(route, time.Since(start)) }()
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="octrun"`)
			writeError(w, http.StatusUnauthorized, "authentication_error", "a valid API key is required: send Authorization: Bearer KEY")
			return
		}
		h(w, r)
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// authorized checks the request's bearer key against every key, in
// constant time for each. A GET may carry the key as the access_token
// query parameter instead (RFC 6750): a browser's EventSource cannot send
// headers.
func (s *Server) authorized(r *http.Request) bool {
	if len(s.keyDigests) == 0 {
		return true
	}
	var given string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, key, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		given = key
	} else if r.Method == http.MethodGet {
		given = r.URL.Query().Get("access_token")
	}
	if given == "" {
		return false
	}
	// Digests have one length, so neither a key nor its length shows in
	// the time a comparison takes.
	digest := sha256.Sum256([]byte(given))
	match := 0
	for _, key := range s.keyDigests {
		match |= subtle.ConstantTimeCompare(digest[:], key[:])
	}
	return match == 1
}

// Drain stops the server taking new runs (a request for one gets 503) and
// waits until the running legs end or ctx is done; it reports whether
// they all ended.
func (s *Server) Drain(ctx context.Context) bool {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.legs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// CancelRuns cancels every running leg (a durable Runner's runs go on; the
// server only stops following them) and waits until they ended or ctx is
// done.
func (s *Server) CancelRuns(ctx context.Context) bool {
	s.cancelAll()
	return s.Drain(ctx)
}

// admit counts a new leg in, unless the server drains or is full: then it
// writes the refusal and returns false.
func (s *Server) admit(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.draining:
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "provider_overloaded", "the server is shutting down and takes no new runs")
		return false
	case s.inFlight >= s.opts.MaxRuns:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "rate_limit_error",
			"the server runs "+strconv.Itoa(s.opts.MaxRuns)+" executions already (--max-runs); retry later")
		return false
	}
	s.inFlight++
	s.legs.Add(1)
	return true
}

// release counts a leg out.
func (s *Server) release() {
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
	s.legs.Done()
}

// lookup returns the execution id, or nil.
func (s *Server) lookup(id string) *execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	return s.executions[id]
}

// add registers a new execution.
func (s *Server) add(e *execution) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	s.executions[e.id] = e
}

// pruneLocked forgets, at most once a minute (or a retention), the executions that ended
// longer ago than the retention or paused longer ago than
// PausedRetention, with what the runner keeps of them.
func (s *Server) pruneLocked() {
	now := time.Now()
	if now.Sub(s.pruned) < min(time.Minute, s.opts.Retention) {
		return
	}
	s.pruned = now
	for id, e := range s.executions {
		if e.stale(now, s.opts.Retention, s.opts.PausedRetention) {
			delete(s.executions, id)
			s.opts.Runner.Forget(id)
		}
	}
}
