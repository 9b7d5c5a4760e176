package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/events"
	"github.com/octrun/octrun/internal/goldenrun"
	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime"
)

var update = flag.Bool("update", false, "rewrite the want files of testdata/runs")

// A golden run case is one txtar archive of testdata/runs:
//
//	protocol.yaml, settings.json, prompts/...  the agent (or main/ and its sibling workers)
//	input.json       the run's input (default {})
//	mock.yaml        the scripted model and tool answers (llm.Script)
//	results-N.json   the client tool results of the Nth continue: when the
//	                 run pauses, it is continued with results-1.json, then
//	                 results-2.json... (a JSON array of events.ToolResult)
//	options          optional lines: all-events; cancel-on EVENT-TYPE;
//	                 hang TOOL (the tool waits for cancellation); panic TOOL
//	want-events.jsonl  every event that reaches the consumer
//	want-result        the output as JSON, or the run's error
//	want-requests      every model request, rendered
//
// The execution id is fixed, so ids are stable and nothing needs
// normalising. -update rewrites the want files; review the diff.
func TestGoldenRuns(t *testing.T) {
	files, err := filepath.Glob("../testdata/runs/*.txtar")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(files), 25, "the golden suite has at least 25 cases")
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			require.NoError(t, err)
			got := runCase(t, ar)
			if *update {
				for name, data := range got {
					ar.Files = setFile(ar.Files, name, data)
				}
				require.NoError(t, os.WriteFile(file, txtar.Format(ar), 0o644))
				return
			}
			for _, name := range []string{"want-events.jsonl", "want-result", "want-requests"} {
				assert.Equal(t, string(fileData(ar, name)), got[name], name)
			}
		})
	}
}

// TestGoldenEventsParse checks that every event in the golden outputs
// parses, strictly, as the event type it claims (rule §7).
func TestGoldenEventsParse(t *testing.T) {
	files, err := filepath.Glob("../testdata/runs/*.txtar")
	require.NoError(t, err)
	count := 0
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		require.NoError(t, err)
		for i, line := range strings.Split(strings.TrimSpace(string(fileData(ar, "want-events.jsonl"))), "\n") {
			ev, err := events.Parse([]byte(line))
			require.NoError(t, err, "%s event %d: %s", file, i+1, line)
			var head struct{ Type string }
			require.NoError(t, json.Unmarshal([]byte(line), &head))
			assert.Equal(t, head.Type, ev.EventType(), "%s event %d", file, i+1)
			out, err := ev.MarshalJSON()
			require.NoError(t, err)
			assert.JSONEq(t, line, string(out), "%s event %d round-trips", file, i+1)
			count++
		}
	}
	assert.Greater(t, count, 500)
}

func fileData(ar *txtar.Archive, name string) []byte {
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	return nil
}

func setFile(files []txtar.File, name, data string) []txtar.File {
	for i := range files {
		if files[i].Name == name {
			files[i].Data = []byte(data)
			return files
		}
	}
	return append(files, txtar.File{Name: name, Data: []byte(data)})
}

// runCase writes the agent of an archive, runs it and renders what
// happened.
func runCase(t *testing.T, ar *txtar.Archive) map[string]string {
	dir := t.TempDir()
	agent := dir
	input := map[string]any{}
	var script *llm.Script
	var options []string
	results := map[string][]byte{}
	for _, f := range ar.Files {
		switch {
		case strings.HasPrefix(f.Name, "want-"):
		case f.Name == "input.json":
			dec := json.NewDecoder(bytes.NewReader(f.Data))
			dec.UseNumber()
			require.NoError(t, dec.Decode(&input))
		case f.Name == "mock.yaml":
			var err error
			script, err = llm.ParseScript(f.Data)
			require.NoError(t, err)
		case f.Name == "options":
			options = strings.Split(strings.TrimSpace(string(f.Data)), "\n")
		case strings.HasPrefix(f.Name, "results-"):
			results[f.Name] = f.Data
		default:
			if strings.HasPrefix(f.Name, "main/") {
				agent = filepath.Join(dir, "main")
			}
			path := filepath.Join(dir, filepath.FromSlash(f.Name))
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, f.Data, 0o644))
		}
	}
	require.NotNil(t, script, "the case needs a mock.yaml")
	p, err := protocol.Load(agent)
	require.NoError(t, err, "the case's protocol must be valid")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	jsonl := events.NewJSONLWriter(&log)
	client := llm.NewScripted(script)
	opts := []runtime.Option{runtime.WithLLM(client), runtime.WithScriptedTools(script), runtime.WithExecutionID("exec")}
	cancelOn := ""
	for _, o := range options {
		verb, arg, _ := strings.Cut(o, " ")
		switch verb {
		case "all-events":
			opts = append(opts, runtime.WithAllEvents())
		case "cancel-on":
			cancelOn = arg
		case "hang":
			opts = append(opts, runtime.WithTool(arg, func(ctx context.Context, _ map[string]any) (any, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}))
		case "panic":
			opts = append(opts, runtime.WithTool(arg, func(context.Context, map[string]any) (any, error) {
				panic("the tool fell over")
			}))
		default:
			t.Fatalf("unknown option %q", o)
		}
	}
	opts = append(opts, runtime.WithEventSink(jsonl), runtime.WithEventObserver(func(r events.Record) {
		if r.Event.EventType() == cancelOn {
			cancel()
		}
	}))
	opts = append(opts, runtime.WithStore(runtime.NewMemoryStore()))
	res, err := runtime.Run(ctx, p, input, opts...)
	var outcome strings.Builder
	for leg := 1; ; leg++ {
		var pause *runtime.PauseError
		if !errors.As(err, &pause) {
			break
		}
		fmt.Fprintf(&outcome, "paused for %s\n", pendingIDs(pause))
		data, ok := results[fmt.Sprintf("results-%d.json", leg)]
		require.True(t, ok, "the run paused a %d. time but the case has no results-%d.json", leg, leg)
		var toolResults []events.ToolResult
		require.NoError(t, json.Unmarshal(data, &toolResults))
		res, err = runtime.Continue(ctx, pause.ExecutionID, toolResults, opts...)
	}
	outcome.WriteString(goldenrun.Result(res, err))
	return map[string]string{
		"want-events.jsonl": log.String(),
		"want-result":       outcome.String(),
		"want-requests":     renderRequests(client.Requests(), client.MediaCalls()),
	}
}

func pendingIDs(p *runtime.PauseError) string {
	var ids []string
	for _, c := range p.Calls {
		ids = append(ids, c.ToolName+" "+c.ToolCallID)
	}
	return strings.Join(ids, ", ")
}

// renderRequests writes each model and media request as a person reads
// it, in the order they were made.
func renderRequests(reqs []llm.Request, media []llm.MediaCall) string {
	var b strings.Builder
	for n := 1; len(reqs)+len(media) > 0; n++ {
		if len(media) > 0 && media[0].N == n {
			renderMedia(&b, media[0])
			media = media[1:]
			continue
		}
		r := reqs[0]
		reqs = reqs[1:]
		fmt.Fprintf(&b, "=== call %d: %s\n", n, r.Model)
		if r.Temperature != nil {
			fmt.Fprintf(&b, "temperature: %g\n", *r.Temperature)
		}
		if r.Thinking != "" {
			fmt.Fprintf(&b, "thinking: %s\n", r.Thinking)
		}
		if r.MaxOutputTokens > 0 {
			fmt.Fprintf(&b, "maxOutputTokens: %d\n", r.MaxOutputTokens)
		}
		if r.MaxImageDimension > 0 {
			fmt.Fprintf(&b, "maxImageDimension: %d\n", r.MaxImageDimension)
		}
		for _, tool := range r.Tools {
			params, _ := json.Marshal(tool.Parameters)
			fmt.Fprintf(&b, "tool %s: %s %s\n", tool.Name, tool.Description, params)
		}
		if rf := r.ResponseFormat; rf != nil {
			schema, _ := json.Marshal(rf.Schema)
			fmt.Fprintf(&b, "responseFormat %s (strict %v): %s\n", rf.Name, rf.Strict, schema)
		}
		for _, m := range r.Messages {
			fmt.Fprintf(&b, "--- %s", m.Role)
			if m.ToolCallID != "" {
				fmt.Fprintf(&b, " %s", m.ToolCallID)
			}
			fmt.Fprintf(&b, "\n%s\n", m.Content)
			for _, f := range m.Files {
				fmt.Fprintf(&b, "> file %s %s %s\n", f.MediaType, f.Filename, short(f.URL))
			}
			for _, c := range m.ToolCalls {
				fmt.Fprintf(&b, "> call %s %s %s\n", c.ID, c.Name, c.Arguments)
			}
		}
	}
	return b.String()
}

// renderMedia writes a media request: its settings, then its text.
func renderMedia(b *strings.Builder, c llm.MediaCall) {
	line := func(key, value string) {
		if value != "" {
			fmt.Fprintf(b, "%s: %s\n", key, value)
		}
	}
	switch {
	case c.Image != nil:
		r := c.Image
		fmt.Fprintf(b, "=== call %d: image %s\n", c.N, r.Model)
		line("aspectRatio", r.AspectRatio)
		line("size", r.Size)
		line("resolution", r.Resolution)
		for _, u := range r.ReferenceImages {
			line("referenceImage", short(u))
		}
		fmt.Fprintf(b, "--- prompt\n%s\n", r.Prompt)
	case c.Speech != nil:
		r := c.Speech
		fmt.Fprintf(b, "=== call %d: speech %s\n", c.N, r.Model)
		line("voice", r.Voice)
		line("format", r.Format)
		line("language", r.Language)
		if r.Speed != 0 {
			line("speed", fmt.Sprint(r.Speed))
		}
		line("instructions", r.Instructions)
		fmt.Fprintf(b, "--- text\n%s\n", r.Text)
	case c.Transcription != nil:
		r := c.Transcription
		fmt.Fprintf(b, "=== call %d: transcription %s\n", c.N, r.Model)
		line("audio", short(r.Audio.URL))
		line("mediaType", r.Audio.MediaType)
		line("filename", r.Audio.Filename)
		line("language", r.Language)
		if r.Timestamps {
			line("timestamps", "true")
		}
	}
}

// short cuts a long URL (a data: URL) for reading.
func short(s string) string {
	if len(s) > 72 {
		return s[:72] + "..."
	}
	return s
}
