package temporal_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/octrun/octrun/protocol"
	"github.com/octrun/octrun/runtime/temporal"
)

var record = flag.Bool("record", false, "record the workflow histories of testdata/histories again (after a deliberate change of the interpreter's version)")

// replayCases are golden runs whose recorded workflow histories replay in
// every test run: a tool loop, two pauses continued by updates, nested
// workers as child workflows, a structured answer repaired once.
var replayCases = []string{"tool-loop", "pause-twice", "run-worker-display", "structured-output-repair"}

// Recorded histories of runs replay against this build's workflow code
// (worker.WorkflowReplayer), so a change that would break the replay of
// in-flight runs fails here. Record them again with -record only after a
// deliberate change, together with interp.Version.
func TestRecordedHistoriesReplay(t *testing.T) {
	for _, name := range replayCases {
		t.Run(name, func(t *testing.T) {
			gc := readCase(t, filepath.Join("../../testdata/runs", name+".txtar"))
			path := filepath.Join("testdata", "histories", name+".json")
			if *record {
				recordHistory(t, gc, name, path)
			}
			data, err := os.ReadFile(path)
			require.NoError(t, err, "record the history with go test ./runtime/temporal -run TestRecordedHistoriesReplay -record")
			h, err := client.HistoryFromJSON(bytes.NewReader(data), client.HistoryJSONOptions{})
			require.NoError(t, err)
			replayer, err := temporal.NewReplayer([]*protocol.Protocol{gc.p}, nil)
			require.NoError(t, err)
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, h))
		})
	}
}

// recordHistory runs a golden case on the dev server and writes its
// workflow history as JSON.
func recordHistory(t *testing.T, gc goldenCase, name, path string) {
	e := newEnv(t)
	id := "exec-" + name
	runGolden(t, e, gc, id)
	iter := e.c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	var h history.History
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
}
