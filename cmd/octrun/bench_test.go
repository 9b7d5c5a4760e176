package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/octrun/octrun/internal/benchpair"
	"github.com/octrun/octrun/internal/benchserver"
)

// The packages the command-level benchmarks build.
const (
	octrunPkg      = "github.com/octrun/octrun/cmd/octrun"
	benchclientPkg = "github.com/octrun/octrun/internal/benchclient/benchclient"
)

// BenchmarkCommandStream20000Deltas runs the built octrun binary on a
// worker whose one next-message streams 20,000 deltas (reasoning, then
// text) with --events jsonl, against the fake server running in a process
// of its own; and the bare client of internal/benchclient, built as a
// program, reading the same stream with the same decoding and writing the
// same content events as JSON lines. Both write to a pipe the benchmark
// reads and counts the lines of. Each iteration runs both, in alternating
// order; the benchmark reports the min/median/max of octrun's wall time
// (ns-ratio-*) and CPU time, user and system (cpu-ns-ratio-*), divided by
// the bare client's (target at most 1.10), and each side's mean.
func BenchmarkCommandStream20000Deltas(b *testing.B) {
	gen := benchserver.NewGeneration(20000, "")
	srv := benchserver.Start(b, gen.Script(), gen.Options())
	octrun := benchserver.Build(b, octrunPkg)
	bare := benchserver.Build(b, benchclientPkg)
	worker := benchserver.WriteWorker(b, benchserver.Worker("", 1))
	dir := b.TempDir()
	octrunCmd := func() *exec.Cmd {
		cmd := exec.Command(octrun, "run", worker, "--llm-base-url", srv.URL, "--events", "jsonl")
		cmd.Env = append(os.Environ(), "OCTRUN_LLM_API_KEY=sk-bench")
		cmd.Dir = dir
		return cmd
	}
	bareCmd := func() *exec.Cmd { return exec.Command(bare, "-url", srv.URL) }

	// Both write the stream's deltas, once each.
	for name, cmd := range map[string]*exec.Cmd{"octrun": octrunCmd(), "bare client": bareCmd()} {
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		text, reasoning := deltas(b, out)
		if err := gen.Check(text, reasoning, "", ""); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
	minLines := gen.Deltas() + 5 // the deltas, the starts and ends of two parts, the finish
	benchpair.Run(b, processSide(b, bareCmd, minLines), processSide(b, octrunCmd, minLines))
}

// deltas returns the text and the reasoning of the text-delta and
// reasoning-delta events of a JSONL stream.
func deltas(b *testing.B, out []byte) (text, reasoning string) {
	var t, r strings.Builder
	for line := range bytes.Lines(out) {
		var ev struct{ Type, Delta string }
		if err := json.Unmarshal(line, &ev); err != nil {
			b.Fatalf("%q: %v", line, err)
		}
		switch ev.Type {
		case "text-delta":
			t.WriteString(ev.Delta)
		case "reasoning-delta":
			r.WriteString(ev.Delta)
		}
	}
	return t.String(), r.String()
}

// BenchmarkStartVersion runs `octrun version` and a Go program that only
// writes a line, built here: the start-up cost of the binary. Each iteration
// runs both, in alternating order; the benchmark reports the paired ratios
// and the median difference (ns-diff-med, cpu-ns-diff-med; target within
// 3 ms) of wall and CPU time.
func BenchmarkStartVersion(b *testing.B) {
	octrun := benchserver.Build(b, octrunPkg)
	src := filepath.Join(b.TempDir(), "trivial.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"trivial\\n\") }\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	trivial := filepath.Join(b.TempDir(), "trivial")
	if out, err := exec.Command("go", "build", "-o", trivial, src).CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	benchpair.Run(b,
		processSide(b, func() *exec.Cmd { return exec.Command(trivial) }, 1),
		processSide(b, func() *exec.Cmd { return exec.Command(octrun, "version") }, 1))
}

// BenchmarkRunTitleGeneratorMock runs `octrun run` on the title generator
// example with its --mock script: ns/op is the wall time of a whole run
// (target under 15 ms), cpu-ns/op its CPU time, user and system.
func BenchmarkRunTitleGeneratorMock(b *testing.B) {
	octrun := benchserver.Build(b, octrunPkg)
	example, err := filepath.Abs("../../examples/title-generator")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var cpu time.Duration
	for b.Loop() {
		cmd := exec.Command(octrun, "run", example, "-i", "SUMMARY=Why the sea rises and falls twice a day",
			"--mock", filepath.Join(example, "mock.yaml"))
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			b.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)); !strings.Contains(got, "How the Moon Pulls the Tides") {
			b.Fatalf("output %q, want the mock's title", got)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processSide returns a side of a pair that runs the command newCmd
// returns, reading its standard output through a pipe, and fails unless
// it exits 0 having written at least minLines lines. Its costs are the
// wall time from start to exit (ns) and the process's CPU time, user and
// system (cpu-ns).
func processSide(b *testing.B, newCmd func() *exec.Cmd, minLines int) benchpair.Side {
	return func() benchpair.Costs {
		cmd := newCmd() // standard error to the null device
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		lines, readErr := countLines(stdout)
		err = cmd.Wait()
		wall := time.Since(start)
		switch {
		case readErr != nil:
			b.Fatalf("%s: %v", cmd, readErr)
		case err != nil:
			b.Fatalf("%s: %v", cmd, err)
		case lines < minLines:
			b.Fatalf("%s wrote %d lines, want at least %d", cmd, lines, minLines)
		}
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return benchpair.Costs{"ns": float64(wall.Nanoseconds()), "cpu-ns": float64(cpu.Nanoseconds())}
	}
}

// countLines reads r to its end and counts its lines.
func countLines(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	lines := 0
	buf := make([]byte, 64<<10)
	for {
		n, err := br.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}
