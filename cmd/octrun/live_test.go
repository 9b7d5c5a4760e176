package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

// recorder records the writes it is given.
type recorder struct {
	mu     sync.Mutex
	writes []string
	err    error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

// A liveWriter writes what it holds in one call, on flush or on its own
// soon after the first byte; a write error is sticky and told to fail
// when no caller would see it.
func TestLiveWriter(t *testing.T) {
	var rec recorder
	l := newLiveWriter(&rec, nil)
	for _, s := range []string{"a", "b", "c"} {
		_, err := l.Write([]byte(s))
		require.NoError(t, err)
	}
	require.NoError(t, l.flush())
	assert.Equal(t, []string{"abc"}, rec.got(), "one write")
	require.NoError(t, l.flush())
	assert.Equal(t, []string{"abc"}, rec.got(), "nothing to write")

	_, _ = l.Write([]byte("d"))
	assert.Eventually(t, func() bool { return len(rec.got()) == 2 }, time.Second, time.Millisecond, "written without a flush")
	assert.Equal(t, []string{"abc", "d"}, rec.got())

	big := strings.Repeat("x", liveSize)
	_, err := l.Write([]byte(big))
	require.NoError(t, err)
	assert.Equal(t, []string{"abc", "d", big}, rec.got(), "a full buffer is written at once")

	gone := errors.New("broken pipe")
	failed := make(chan error, 1)
	broken := newLiveWriter(&recorder{err: gone}, func(err error) { failed <- err })
	_, err = broken.Write([]byte("e"))
	require.NoError(t, err, "buffered")
	select {
	case err := <-failed:
		assert.ErrorIs(t, err, gone)
	case <-time.After(5 * time.Second):
		t.Fatal("the timed write's error was not told")
	}
	_, err = broken.Write([]byte("f"))
	assert.ErrorIs(t, err, gone, "sticky")
	assert.ErrorIs(t, broken.flush(), gone)
}

// A reader of the display sees a streamed delta while the run is still
// going: here the model stalls after its first delta until the run is
// interrupted, and the delta must reach the pipe before that.
func TestDisplayIsLive(t *testing.T) {
	bin := octrunBinary(t)
	stall := llm.ScriptResponse{Text: "Moon tides explained", Fault: llm.Fault{Kind: llm.FaultStall, After: 1}}
	for _, tc := range []struct {
		name   string
		args   []string
		stderr bool   // the display is on standard error
		want   string // what shows the first delta
	}{
		{"jsonl", []string{"--events", "jsonl"}, false, `{"type":"text-delta"`},
		{"sse", []string{"--events", "sse"}, false, `data: {"type":"text-delta"`},
		{"progress", nil, true, "Moon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server := fakeopenai.New(&llm.Script{Responses: []llm.ScriptResponse{stall, stall, stall}}, fakeopenai.WithDeltas(3))
			defer server.Close()
			cmd := exec.Command(bin, append([]string{"../../examples/title-generator", "-i", "SUMMARY=tides", "--llm-base-url", server.URL()}, tc.args...)...)
			cmd.Env = append(os.Environ(), "NO_COLOR=1")
			var pipe io.ReadCloser
			var err error
			if tc.stderr {
				pipe, err = cmd.StderrPipe()
			} else {
				pipe, err = cmd.StdoutPipe()
			}
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			exited := make(chan struct{})
			seen := make(chan string, 1)
			var rest strings.Builder // read only by the reader until exited
			go func() {
				// The text of the progress ends no line: read it as it comes.
				defer close(exited)
				buf := make([]byte, 4096)
				sent := false
				for {
					n, err := pipe.Read(buf)
					rest.Write(buf[:n])
					if !sent && strings.Contains(rest.String(), tc.want) {
						seen <- rest.String()
						sent = true
					}
					if err != nil {
						_ = cmd.Wait()
						return
					}
				}
			}()
			select {
			case so := <-seen:
				t.Logf("seen while the model stalls: %q", so)
			case <-exited:
				t.Fatalf("octrun ended before showing the delta:\n%s", rest.String())
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Fatalf("the delta did not come while the model stalled; read:\n%s", rest.String())
			}
			require.NoError(t, cmd.Process.Signal(os.Interrupt))
			<-exited
			assert.Equal(t, exitInterrupted, cmd.ProcessState.ExitCode(), rest.String())
		})
	}
}

// Nothing buffered is lost when the command exits: every delta of a long
// stream, the end of the stream and the output.
func TestDisplayLosesNothingAtExit(t *testing.T) {
	bin := octrunBinary(t)
	const deltas = 3000
	text := strings.Repeat("tide ", deltas)
	server := fakeopenai.New(&llm.Script{Responses: []llm.ScriptResponse{{Text: text}}}, fakeopenai.WithDeltas(deltas), fakeopenai.WithLoop())
	defer server.Close()
	run := func(args ...string) (string, string) {
		cmd := exec.Command(bin, append([]string{"../../examples/title-generator", "-i", "SUMMARY=tides", "--llm-base-url", server.URL()}, args...)...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		require.NoError(t, cmd.Run(), errOut.String())
		return out.String(), errOut.String()
	}
	for _, format := range []string{"jsonl", "sse"} {
		out, _ := run("--events", format)
		evs := streamed(t, format, out)
		var got strings.Builder
		n := 0
		for _, ev := range evs {
			if d, ok := ev.(events.TextDelta); ok {
				got.WriteString(d.Delta)
				n++
			}
		}
		assert.Equal(t, deltas, n, format)
		assert.True(t, got.String() == text, "%s: the deltas make the text", format)
		require.Greater(t, len(evs), 2)
		assert.Equal(t, events.Finish{FinishReason: events.FinishStop, ExecutionID: evs[0].(events.Start).ExecutionID}, evs[len(evs)-2], format)
		assert.IsType(t, events.Usage{}, evs[len(evs)-1], "usage comes last")
	}
	out, errOut := run()
	assert.True(t, strings.Contains(errOut, text), "the progress shows every delta")
	assert.True(t, out == text+"\n", "then the output, whole: %d bytes of %d", len(out), len(text)+1)
}

// A reader that goes away fails the run as before the display was
// buffered: it is cancelled, and the command says why and exits 1.
func TestDisplayClosedPipeExits1(t *testing.T) {
	bin := octrunBinary(t)
	server := fakeopenai.New(&llm.Script{Responses: []llm.ScriptResponse{{Text: strings.Repeat("wave ", 500)}}},
		fakeopenai.WithDelay(5*time.Millisecond))
	defer server.Close()
	cmd := exec.Command(bin, "../../examples/title-generator", "-i", "SUMMARY=tides", "--llm-base-url", server.URL(), "--events", "jsonl")
	var errOut strings.Builder
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := bufio.NewReader(stdout)
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if strings.Contains(line, `"text-delta"`) {
			break
		}
	}
	require.NoError(t, stdout.Close())
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, errOut.String())
	assert.Equal(t, exitFailed, exit.ExitCode(), errOut.String())
	assert.Contains(t, errOut.String(), "octrun: the run was cancelled")
	assert.Contains(t, errOut.String(), "octrun: the events could not be written")
}
