package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/protocol/diag"
	"github.com/octrun/octrun/relay"
	"github.com/octrun/octrun/runtime"
	"github.com/octrun/octrun/runtime/temporal"
)

// temporalFlags are the flags that put a run, a continue or a worker on
// Temporal.
type temporalFlags struct {
	addr, namespace, queue, redis string
	// eventsTTL is how long a run's event stream is kept after it ended
	// (workers only).
	eventsTTL time.Duration
}

func (t *temporalFlags) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.addr, "temporal", os.Getenv("OCTRUN_TEMPORAL"), "")
	fs.StringVar(&t.namespace, "namespace", envOr("OCTRUN_TEMPORAL_NAMESPACE", temporal.DefaultNamespace), "")
	fs.StringVar(&t.queue, "task-queue", envOr("OCTRUN_TASK_QUEUE", temporal.DefaultTaskQueue), "")
	fs.StringVar(&t.redis, "redis", os.Getenv("OCTRUN_REDIS_URL"), "")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// connect dials Temporal and, with --redis, Redis; close releases both.
func (t temporalFlags) connect(ctx context.Context, logger *slog.Logger) (client.Client, *relay.Relay, func(), error) {
	c, err := client.DialContext(ctx, client.Options{HostPort: t.addr, Namespace: t.namespace, Logger: tlog.NewStructuredLogger(logger)})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("Temporal at %s (namespace %s) does not answer: %v", t.addr, t.namespace, err)
	}
	if t.redis == "" {
		return c, nil, c.Close, nil
	}
	var opts []relay.Option
	if t.eventsTTL > 0 {
		opts = append(opts, relay.WithTTL(t.eventsTTL))
	}
	r, err := relay.Dial(ctx, t.redis, opts...)
	if err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	return c, r, func() { _ = r.Close(); c.Close() }, nil
}

// resumeFlags are the flags `octrun continue` needs for a run on Temporal.
func (t temporalFlags) resumeFlags() string {
	s := " --temporal " + t.addr
	if t.namespace != temporal.DefaultNamespace {
		s += " --namespace " + t.namespace
	}
	if t.redis != "" {
		s += " --redis " + t.redis
	}
	return s
}

// open starts the display session of a submit or a continue and connects
// its submitter; closeAll releases the connections (the relay is nil
// without --redis).
func (t temporalFlags) open(ctx context.Context, o output, std stdio, skipFingerprint bool) (*session, *temporal.Client, *relay.Relay, func(), error) {
	s := o.start(ctx, std)
	c, r, closeAll, err := t.connect(ctx, s.logger(std.err))
	if err != nil {
		return s, nil, nil, nil, err
	}
	sub := temporal.NewClient(c, temporal.ClientOptions{TaskQueue: t.queue, Namespace: t.namespace, Relay: r, SkipFingerprintCheck: skipFingerprint})
	return s, sub, r, closeAll, nil
}

// submit runs p on Temporal as runWorker runs it in process: same events,
// output and exit codes.
func submit(ctx context.Context, t temporalFlags, skipFingerprint bool, p *protocol.Protocol, input map[string]any, o output, std stdio) int {
	session, sub, r, closeAll, err := t.open(ctx, o, std, skipFingerprint)
	if err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitFailed
	}
	defer closeAll()
	if err := sub.CheckWorkers(session.ctx); err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitFailed
	}
	if r == nil {
		fmt.Fprintln(std.err, "octrun: no --redis: the run's events are not streamed live; the output and the last events come when it ends")
	}
	res, err := sub.Run(session.ctx, p, input, temporal.RunOptions{AllEvents: o.allEvents, Sink: session.sink})
	return session.finish(res, err, t.resumeFlags())
}

// continueOnTemporal delivers the results of a run waiting on Temporal.
func continueOnTemporal(ctx context.Context, t temporalFlags, id string, results []events.ToolResult, o output, std stdio) int {
	session, sub, _, closeAll, err := t.open(ctx, o, std, false)
	if err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitFailed
	}
	defer closeAll()
	res, err := sub.Continue(session.ctx, id, results, temporal.RunOptions{Sink: session.sink})
	if errors.Is(err, runtime.ErrNotFound) {
		return session.refuse(err.Error(), "")
	}
	return session.finish(res, err, t.resumeFlags())
}

const workerUsage = `usage: octrun worker --agents DIR --temporal HOST:PORT [flags]

Serves the agents of DIR (each folder under it) to runs submitted through
Temporal: polls the task queue and executes the runs' model calls, tools
and nested workers, until interrupted.

flags:
  --agents DIR             the folder of agent folders to serve
  --temporal HOST:PORT     the Temporal frontend (env OCTRUN_TEMPORAL)
  --namespace NS           the namespace (default default; env OCTRUN_TEMPORAL_NAMESPACE)
  --task-queue Q           the task queue to poll (default octrun; env OCTRUN_TASK_QUEUE)
  --redis URL              publish the runs' events to this Redis (env OCTRUN_REDIS_URL)
  --events-ttl DURATION    keep a run's events that long after it ended (default 24h)
  --route SLUG=QUEUE       run nested workers of SLUG on another task queue; repeatable
  --tool NAME=COMMAND      run COMMAND (with sh -c) for the tool NAME; repeatable
  --tool-timeout DURATION  the longest a --tool command may run (default 60s)
  --mcp-config FILE        an mcp.json saying how to reach the agents' consumer
                           MCP servers, by namespace (unknown namespaces are ignored)
  --mock FILE              answer model calls from a scripted file
  --llm-base-url URL       send every model call to this OpenAI-compatible endpoint
  --max-concurrent-runs N  run at most N workflows and activities at once
  --log-level LEVEL        structured logs on standard error (default info)
  --log-format text|json   the format of those logs (default text)
`

// serveWorker is `octrun worker`.
func serveWorker(ctx context.Context, args []string, std stdio) int {
	var t temporalFlags
	var agentsDir string
	var routes, tools listFlag
	var b runtime.Backend
	var maxRuns int
	var o output
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() { fmt.Fprint(std.err, workerUsage) }
	t.flags(fs)
	fs.StringVar(&agentsDir, "agents", "", "")
	fs.Var(&routes, "route", "")
	backendFlags(fs, &b, &tools)
	fs.IntVar(&maxRuns, "max-concurrent-runs", 0, "")
	fs.DurationVar(&t.eventsTTL, "events-ttl", relay.DefaultTTL, "")
	o.flags(fs, "info")
	rest, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	switch {
	case len(rest) > 0:
		fmt.Fprintf(std.err, "octrun worker: unexpected argument %q\n\n%s", rest[0], workerUsage)
		return exitUsage
	case agentsDir == "":
		fmt.Fprintf(std.err, "octrun worker: --agents DIR is required\n\n%s", workerUsage)
		return exitUsage
	case t.addr == "":
		fmt.Fprintf(std.err, "octrun worker: a worker needs Temporal: give --temporal HOST:PORT (or OCTRUN_TEMPORAL)\n")
		return exitUsage
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(std.err, "octrun: %v\n", err)
		return exitUsage
	}
	if err := checkLLMBaseURL(fs, b.LLMBaseURL); err != nil {
		fmt.Fprintf(std.err, "octrun worker: %v\n", err)
		return exitUsage
	}
	routeMap := map[string]string{}
	for _, r := range routes {
		slug, queue, ok := strings.Cut(r, "=")
		if !ok || slug == "" || queue == "" {
			fmt.Fprintf(std.err, "octrun worker: --route %q: write SLUG=QUEUE\n", r)
			return exitUsage
		}
		routeMap[slug] = queue
	}
	if !addToolCommands("worker", &b, tools, std) {
		return exitUsage
	}
	agents, code := loadAgents("worker", agentsDir, std)
	if code != exitOK {
		return code
	}
	newClient, handlers, err := b.Serve(agents)
	if err != nil {
		fmt.Fprintf(std.err, "octrun worker: %v\n", err)
		return exitUsage
	}
	servers, err := b.MCPServers()
	if err != nil {
		fmt.Fprintf(std.err, "octrun worker: --mcp-config: %v\n", errors.Unwrap(err))
		return exitUsage
	}
	logger := o.logger(std.err)
	c, r, closeAll, err := t.connect(ctx, logger)
	if err != nil {
		fmt.Fprintf(std.err, "octrun worker: %v\n", err)
		return exitFailed
	}
	defer closeAll()
	w, err := temporal.NewWorker(c, agents, temporal.WorkerOptions{TaskQueue: t.queue, Routes: routeMap, LLMPerRun: newClient,
		Tools: handlers, MCP: servers, Relay: r, MaxConcurrentRuns: maxRuns, Logger: logger})
	if err != nil {
		fmt.Fprintf(std.err, "octrun worker: %v\n", err)
		return exitUsage
	}
	if err := w.Start(); err != nil {
		fmt.Fprintf(std.err, "octrun worker: %v\n", err)
		return exitFailed
	}
	slugs := make([]string, len(agents))
	for i, p := range agents {
		slugs[i] = p.Settings.Slug.Value
	}
	logger.Info("worker started", "taskQueue", t.queue, "namespace", t.namespace, "agents", strings.Join(slugs, ","), "redis", r != nil)
	<-ctx.Done()
	w.Stop()
	logger.Info("worker stopped")
	return exitOK
}

// addToolCommands adds the --tool flags of the subcommand cmd to b,
// reporting a malformed one.
func addToolCommands(cmd string, b *runtime.Backend, tools []string, std stdio) bool {
	for _, s := range tools {
		tc, err := runtime.ParseToolCommand(s)
		if err != nil {
			fmt.Fprintf(std.err, "octrun %s: --tool %q: %v\n", cmd, s, err)
			return false
		}
		b.Tools = append(b.Tools, tc)
	}
	return true
}

// loadAgents loads every agent folder of dir for the subcommand cmd,
// reporting every problem.
func loadAgents(cmd, dir string, std stdio) ([]*protocol.Protocol, int) {
	cat, err := protocol.NewCatalogDir(dir)
	if err != nil {
		fmt.Fprintf(std.err, "octrun %s: --agents %s: %v\n", cmd, dir, err)
		return nil, exitUsage
	}
	var agents []*protocol.Protocol
	code := exitOK
	for _, slug := range cat.Slugs() {
		p, err := cat.Load(slug)
		if p != nil && len(p.Diagnostics) > 0 {
			_ = diag.Write(std.err, p.Diagnostics, p.Source)
		}
		if err != nil {
			fmt.Fprintf(std.err, "octrun %s: agent %s is not valid\n", cmd, slug)
			code = exitUsage
			continue
		}
		agents = append(agents, p)
	}
	if code == exitOK && len(agents) == 0 {
		fmt.Fprintf(std.err, "octrun %s: --agents %s holds no agent folder\n", cmd, dir)
		code = exitUsage
	}
	return agents, code
}
