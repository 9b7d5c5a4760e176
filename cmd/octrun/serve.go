package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/runtime/temporal"
	"github.com/octrun/octrun/serve"
)

const serveUsage = `usage: octrun serve --agents DIR [flags]

Serves the agents of DIR (each folder under it) over HTTP with the worker
API of the Octavus platform (POST /api/agents/{slug}/execute, streaming
server-sent events), so an application built on the Octavus server SDK
runs them by pointing its baseUrl here. Runs execute in this process, or
on Temporal with --temporal.

API keys come from OCTRUN_API_KEYS (comma-separated) or --api-key-file;
requests carry "Authorization: Bearer KEY". Without a key the server
accepts requests on a loopback address only.

flags:
  --agents DIR             the folder of agent folders to serve
  --addr HOST:PORT         where to listen (default 127.0.0.1:8080)
  --api-key-file FILE      the API keys, one a line (# starts a comment)
  --max-runs N             run at most N executions at once; more get 429 (default 256)
  --shutdown-timeout D     on SIGTERM, how long running executions may go on (default 30s)
  --heartbeat D            the interval of the keep-alive comment of a quiet stream (default 15s)
  --keep D                 how long an ended execution's events stay readable (default 1h)
  --keep-paused D          how long a paused execution waits to be continued (default 24h)
  --tool NAME=COMMAND      run COMMAND (with sh -c) for the tool NAME; repeatable
  --tool-timeout D         the longest a --tool command may run (default 60s)
  --mcp-config FILE        an mcp.json saying how to reach the agents' consumer
                           MCP servers, by namespace (unknown namespaces are ignored)
  --mock FILE              answer model calls from a scripted file
  --llm-base-url URL       send every model call to this OpenAI-compatible endpoint
  --temporal HOST:PORT     run executions on Temporal (env OCTRUN_TEMPORAL); workers execute them
  --namespace NS           the Temporal namespace (default default)
  --task-queue Q           the task queue (default octrun)
  --redis URL              read the runs' events from this Redis (needed with --temporal)
  --log-level LEVEL        structured logs on standard error (default info)
  --log-format text|json   the format of those logs (default text)
`

// serveHTTP is `octrun serve`.
func serveHTTP(ctx context.Context, args []string, std stdio) int {
	var t temporalFlags
	var agentsDir, addr, keyFile string
	var tools listFlag
	var b runtime.Backend
	var o output
	opts := serve.Options{}
	var shutdown time.Duration
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() { fmt.Fprint(std.err, serveUsage) }
	t.flags(fs)
	fs.StringVar(&agentsDir, "agents", "", "")
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "")
	fs.StringVar(&keyFile, "api-key-file", "", "")
	fs.IntVar(&opts.MaxRuns, "max-runs", serve.DefaultMaxRuns, "")
	fs.DurationVar(&shutdown, "shutdown-timeout", 30*time.Second, "")
	fs.DurationVar(&opts.Heartbeat, "heartbeat", serve.DefaultHeartbeat, "")
	fs.DurationVar(&opts.Retention, "keep", serve.DefaultRetention, "")
	fs.DurationVar(&opts.PausedRetention, "keep-paused", serve.DefaultPausedRetention, "")
	backendFlags(fs, &b, &tools)
	o.flags(fs, "info")
	rest, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(std.err, "octrun serve: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case len(rest) > 0:
		return fail("unexpected argument %q\n\n%s", rest[0], serveUsage)
	case agentsDir == "":
		return fail("--agents DIR is required\n\n%s", serveUsage)
	case t.addr != "" && t.redis == "":
		return fail("with --temporal, give --redis URL (or OCTRUN_REDIS_URL): the server streams a run's events from Redis")
	case opts.MaxRuns < 1:
		return fail("--max-runs must be at least 1")
	case opts.Heartbeat <= 0 || opts.Heartbeat >= serve.DefaultWriteTimeout:
		return fail("--heartbeat must be more than 0 and less than %s (the write timeout)", serve.DefaultWriteTimeout)
	case opts.Retention <= 0 || opts.PausedRetention <= 0 || shutdown < 0:
		return fail("--keep and --keep-paused must be more than 0, --shutdown-timeout at least 0")
	}
	if err := o.check(); err != nil {
		return fail("%v", err)
	}
	if err := checkLLMBaseURL(fs, b.LLMBaseURL); err != nil {
		return fail("%v", err)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fail("--addr %s: want HOST:PORT, such as 127.0.0.1:8080: %v", addr, err)
	}
	keys, err := apiKeys(keyFile)
	if err != nil {
		return fail("%v", err)
	}
	opts.APIKeys = keys
	if len(keys) == 0 && !loopback(addr) {
		return fail("no API key: a server on %s would run agents for anyone who reaches it; set OCTRUN_API_KEYS or --api-key-file, or listen on a loopback address (127.0.0.1)", addr)
	}
	if !addToolCommands("serve", &b, tools, std) {
		return exitUsage
	}
	agents, code := loadAgents("serve", agentsDir, std)
	if code != exitOK {
		return code
	}
	opts.Agents = agents
	logger := o.logger(std.err)
	opts.Logger = logger
	if t.addr != "" {
		c, r, closeAll, err := t.connect(ctx, logger)
		if err != nil {
			fmt.Fprintf(std.err, "octrun serve: %v\n", err)
			return exitFailed
		}
		defer closeAll()
		opts.Runner = &serve.OnTemporal{Client: temporal.NewClient(c, temporal.ClientOptions{TaskQueue: t.queue, Namespace: t.namespace, Relay: r})}
	} else {
		model, handlers, err := b.Serve(agents)
		if err != nil {
			return fail("%v", err)
		}
		servers, err := b.MCPServers()
		if err != nil {
			return fail("--mcp-config: %v", errors.Unwrap(err))
		}
		opts.Runner = &serve.InProcess{Model: model, Tools: handlers, MCP: servers, Logger: logger}
	}
	srv, err := serve.New(opts)
	if err != nil {
		return fail("%v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(std.err, "octrun serve: cannot listen on %s: %v\n", addr, err)
		return exitFailed
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	backend := "in process"
	if t.addr != "" {
		backend = "on Temporal at " + t.addr + ", task queue " + t.queue
	}
	logger.Info("serving", "url", "http://"+ln.Addr().String(), "agents", len(agents), "runs", backend, "apiKeys", len(keys))
	if len(keys) == 0 {
		fmt.Fprintf(std.err, "octrun serve: no API key is set: requests need none, so the server listens on %s, a loopback address, only\n", addr)
	}
	select {
	case err := <-served:
		fmt.Fprintf(std.err, "octrun serve: %v\n", err)
		return exitFailed
	case <-ctx.Done():
	}
	logger.Info("shutting down: no new runs; running ones may finish (a second signal cancels them)", "grace", shutdown)
	grace, cancel := context.WithTimeout(context.Background(), shutdown)
	defer cancel()
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	go func() {
		select {
		case <-again:
			cancel()
		case <-grace.Done():
		}
	}()
	if !srv.Drain(grace) {
		logger.Warn("the grace period is over: cancelling the running executions")
		end, cancelEnd := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancelEnd()
		srv.CancelRuns(end)
	}
	closing, cancelClosing := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelClosing()
	if err := hs.Shutdown(closing); err != nil {
		_ = hs.Close()
	}
	logger.Info("stopped")
	return exitOK
}

// apiKeys reads the API keys: OCTRUN_API_KEYS, comma-separated, and the
// lines of file (blank lines and # comments skipped).
func apiKeys(file string) ([]string, error) {
	var keys []string
	for _, k := range strings.Split(os.Getenv("OCTRUN_API_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if file == "" {
		return keys, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--api-key-file: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k := strings.TrimSpace(sc.Text()); k != "" && !strings.HasPrefix(k, "#") {
			keys = append(keys, k)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--api-key-file: %v", err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("--api-key-file %s holds no key", file)
	}
	return keys, nil
}

// loopback reports whether addr (HOST:PORT) listens on a loopback address
// only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
