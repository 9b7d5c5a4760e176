// Package servicetest gives tests the real services they need: a Redis
// and a Temporal dev server. A service that cannot be had skips the test
// with a loud reason, or fails it when OCTRUN_REQUIRE_SERVICES=1 (as in
// CI). Servers the tests start listen on 127.0.0.1 only.
package servicetest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"log/slog"

	"github.com/redis/go-redis/v9"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/octrun/octrun/relay"
)

// TemporalCLIVersion is the temporal CLI the tests run as a dev server:
// the one version that builds from the module proxy.
const TemporalCLIVersion = "v1.5.1"

// unavailable skips t, or fails it when services are required.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("OCTRUN_REQUIRE_SERVICES") == "1" {
		t.Fatalf("OCTRUN_REQUIRE_SERVICES=1 but %s", msg)
	}
	t.Skipf("SKIPPED: %s (set OCTRUN_REQUIRE_SERVICES=1 to fail instead)", msg)
}

var (
	redisOnce sync.Once
	redisURL  string
	redisErr  error
	redisProc *exec.Cmd
)

// RedisURL returns the URL of a Redis for tests: OCTRUN_TEST_REDIS_URL,
// else the one on 127.0.0.1:6379 if it answers, else a redis-server from
// PATH started on a free port for the test process (Stop ends it).
func RedisURL(t testing.TB) string {
	t.Helper()
	redisOnce.Do(func() {
		if url := os.Getenv("OCTRUN_TEST_REDIS_URL"); url != "" {
			redisURL, redisErr = url, ping(url)
			return
		}
		if ping("redis://127.0.0.1:6379/0") == nil {
			redisURL = "redis://127.0.0.1:6379/0"
			return
		}
		redisProc, redisURL, redisErr = startRedis()
		if redisErr != nil {
			redisErr = fmt.Errorf("no Redis answers on 127.0.0.1:6379, and: %w", redisErr)
		}
	})
	if redisErr != nil {
		unavailable(t, "Redis: %v", redisErr)
	}
	return redisURL
}

// startRedis starts a redis-server from PATH on a free port of 127.0.0.1,
// without persistence, and returns it with its URL once it answers.
func startRedis() (*exec.Cmd, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", fmt.Errorf("there is no redis-server on PATH")
	}
	port := freePort()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	for range 200 {
		if err = ping(url); err == nil {
			return cmd, url, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, "", fmt.Errorf("redis-server on port %d did not answer: %w", port, err)
}

// PrivateRedis starts a Redis of the test's own, for a test that stops it
// (call stop); it is stopped when the test ends in any case.
func PrivateRedis(t testing.TB) (url string, stop func()) {
	t.Helper()
	cmd, url, err := startRedis()
	if err != nil {
		unavailable(t, "a Redis of the test's own: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	return url, stop
}

// KeyPrefix returns a Redis key prefix of the test's own; the test's keys
// are deleted when it ends.
func KeyPrefix(t testing.TB, url string) string {
	t.Helper()
	prefix := fmt.Sprintf("octrun-test:%d:%s:", os.Getpid(), t.Name())
	t.Cleanup(func() {
		opts, err := redis.ParseURL(url)
		if err != nil {
			return
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return prefix
}

func ping(url string) error {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return rdb.Ping(ctx).Err()
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TemporalCLI returns the path of the temporal CLI: OCTRUN_TEMPORAL_CLI,
// else the one .ci/run builds into the user cache folder.
func TemporalCLI() (string, error) {
	if p := os.Getenv("OCTRUN_TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "octrun", "temporal-cli-"+TemporalCLIVersion, "temporal")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no temporal CLI at %s: build it with GOBIN=%s go install github.com/temporalio/cli/cmd/temporal@%s (as .ci/run does)", p, filepath.Dir(p), TemporalCLIVersion)
	}
	return p, nil
}

var (
	temporalOnce sync.Once
	temporalAddr string
	temporalErr  error
	temporalProc *exec.Cmd
)

// Temporal returns the address of a Temporal dev server shared by the
// test process, started on free ports of 127.0.0.1 with the settings that
// make it fast and steady on a small machine (Stop ends it).
func Temporal(t testing.TB) string {
	t.Helper()
	temporalOnce.Do(func() {
		bin, err := TemporalCLI()
		if err != nil {
			temporalErr = err
			return
		}
		port, ui := freePort(), freePort()
		temporalAddr = fmt.Sprintf("127.0.0.1:%d", port)
		temporalProc = exec.Command(bin, "server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
			"--ui-port", strconv.Itoa(ui), "--headless", "--log-level", "error",
			"--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000",
			"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
			"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
			"--dynamic-config-value", "system.enableActivityEagerExecution=true")
		stderr, _ := temporalProc.StderrPipe()
		if temporalErr = temporalProc.Start(); temporalErr != nil {
			return
		}
		// Keep the pipe drained, whatever the length of its lines: a
		// scanner stops at its first line over 64 KiB, after which the
		// server blocks on a full pipe and stops answering.
		go func() { _, _ = io.Copy(io.Discard, stderr) }()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if c, err := net.DialTimeout("tcp", temporalAddr, 200*time.Millisecond); err == nil {
				c.Close()
				time.Sleep(300 * time.Millisecond) // the frontend answers a moment after it listens
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		temporalErr = fmt.Errorf("the Temporal dev server did not listen on %s within 30 s", temporalAddr)
	})
	if temporalErr != nil {
		unavailable(t, "Temporal: %v", temporalErr)
	}
	return temporalAddr
}

// Stop ends the servers this package started; call it from TestMain.
func Stop() {
	for _, p := range []*exec.Cmd{temporalProc, redisProc} {
		if p != nil && p.Process != nil {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}
}

// TemporalClient returns a client of the dev server (Temporal), quiet,
// closed when the test ends.
func TemporalClient(t testing.TB) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: Temporal(t), Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatalf("dialing the Temporal dev server: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Relay returns a relay on the test's Redis (RedisURL) under a key prefix
// of the test's own (KeyPrefix), closed when the test ends, and the
// prefix.
func Relay(t testing.TB, opts ...relay.Option) (*relay.Relay, string) {
	t.Helper()
	url := RedisURL(t)
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("Redis URL %s: %v", url, err)
	}
	prefix := KeyPrefix(t, url)
	r := relay.New(redis.NewClient(o), append([]relay.Option{relay.WithPrefix(prefix)}, opts...)...)
	t.Cleanup(func() { _ = r.Close() })
	return r, prefix
}
