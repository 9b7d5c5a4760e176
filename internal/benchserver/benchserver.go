// Package benchserver starts the fake OpenAI server (llm/fakeopenai) in a
// process of its own for benchmarks, so that its work, memory, goroutines
// and request log are not counted as the client's. The server is the
// command in ./fakeopenai, built into the benchmark's temporary folder.
package benchserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Options configure the server; the zero value streams word by word,
// without delay. The server always starts the script over after its last
// response (fakeopenai.WithLoop).
type Options struct {
	// Deltas streams every text and reasoning in exactly this many deltas
	// (fakeopenai.WithDeltas).
	Deltas int
	// Delay waits before each chunk (fakeopenai.WithDelay).
	Delay time.Duration
}

// Server is a fake OpenAI server running in another process.
type Server struct {
	// URL is the base URL for clients: http://127.0.0.1:PORT.
	URL string
}

// Build builds a command of this module, given by its import path, into
// tb's temporary folder and returns the binary's path. Its output goes to
// standard error.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), filepath.Base(pkg))
	build := exec.Command("go", "build", "-o", bin, pkg)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		tb.Fatalf("go build %s: %v", pkg, err)
	}
	return bin
}

// Start builds and starts a server answering from script (the script file
// format of llm.LoadScript, as a value that marshals to it), stopped when
// tb ends.
func Start(tb testing.TB, script any, opts Options) *Server {
	tb.Helper()
	data, err := json.Marshal(script)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "script.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	bin := Build(tb, "github.com/octrun/octrun/internal/benchserver/fakeopenai")
	cmd := exec.Command(bin, "-script", path, "-deltas", strconv.Itoa(opts.Deltas), "-delay", opts.Delay.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("fake server: %v", err)
	}
	return &Server{URL: strings.TrimSpace(line)}
}

// statsClient asks the server for its figures without keeping a
// connection open in the benchmark's process.
var statsClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// Requests returns the number of requests the server has received.
func (s *Server) Requests() (int, error) {
	resp, err := statsClient.Get(s.URL + "/requests")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(body))
	if err != nil {
		return 0, fmt.Errorf("fake server: /requests answered %q", body)
	}
	return n, nil
}
