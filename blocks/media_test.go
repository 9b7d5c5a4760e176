package blocks

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/protocol"
)

// rule §3.9: the inputs of media blocks come from variables.
func TestMediaInputValues(t *testing.T) {
	env := &Env{Step: &protocol.Step{Name: protocol.Str{Value: "Draw"}}, State: NewState("exec", map[string]any{
		"PROMPT": "a crab", "BLANK": "  ", "COUNT": json.Number("3"), "NULL": nil,
		"URL": "https://x/a.png", "FILE": map[string]any{"id": "f1", "mediaType": "audio/mpeg", "url": "https://x/a.mp3", "filename": "a.mp3"},
		"NO_URL": map[string]any{"id": "f1"}, "LIST": []any{"a"},
	})}

	text, err := textValue(env, "prompt", "PROMPT")
	require.NoError(t, err)
	assert.Equal(t, "a crab", text)
	for name, want := range map[string]string{
		"MISSING": `block "Draw": prompt: MISSING has no value`,
		"NULL":    `block "Draw": prompt: NULL has no value`,
		"BLANK":   `block "Draw": prompt: BLANK is empty`,
		"COUNT":   `block "Draw": prompt: COUNT holds a number, not text`,
		"FILE":    `block "Draw": prompt: FILE holds an object, not text`,
	} {
		_, err := textValue(env, "prompt", name)
		assert.EqualError(t, err, want)
		assert.Equal(t, ErrExecution, err.(*Error).Type)
	}

	f, err := fileValue(env, "audio", "URL", env.State.Values["URL"])
	require.NoError(t, err)
	assert.Equal(t, llm.Media{URL: "https://x/a.png"}, f)
	f, err = fileValue(env, "audio", "FILE", env.State.Values["FILE"])
	require.NoError(t, err)
	assert.Equal(t, llm.Media{URL: "https://x/a.mp3", MediaType: "audio/mpeg", Filename: "a.mp3"}, f, "a file keeps its type and name")
	for name, want := range map[string]string{
		"NO_URL": `block "Draw": audio: NO_URL holds an object, not a URL or a file with a url`,
		"LIST":   `block "Draw": audio: LIST holds a list, not a URL or a file with a url`,
		"COUNT":  `block "Draw": audio: COUNT holds a number, not a URL or a file with a url`,
		"BLANK":  `block "Draw": audio: BLANK holds an empty text, not a URL or a file with a url`,
	} {
		_, err := fileValue(env, "audio", name, env.State.Values[name])
		assert.EqualError(t, err, want)
	}
}
