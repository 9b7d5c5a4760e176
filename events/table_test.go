package events

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The generated table agrees with the structs: a type tags its workerId
// exactly when it has a WorkerID field, and its wire type is its key in
// prototypes and the `type` it marshals with.
func TestGeneratedTableMatchesTypes(t *testing.T) {
	types := map[string]reflect.Type{"source": reflect.TypeFor[Source]()}
	for wire, typ := range prototypes {
		types[wire] = typ
	}
	require.Len(t, customParsers, 1, "source is the one hand-written parser")
	for wire, typ := range types {
		ev := reflect.New(typ).Elem().Interface().(Event)
		assert.Equal(t, wire, ev.EventType(), typ.Name())
		_, hasField := typ.FieldByName("WorkerID")
		assert.Equal(t, hasField, ev.WithWorkerID("w").EventWorkerID() == "w", "%s: WorkerID field and WithWorkerID disagree", typ.Name())
		if wire == "source" {
			ev = Source{SourceType: SourceTypeURL}
		}
		out, err := ev.MarshalJSON()
		require.NoError(t, err, typ.Name())
		assert.True(t, strings.HasPrefix(string(out), `{"type":"`+wire+`"`), "%s marshals as %s", typ.Name(), out)
	}
}
