package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/octrun/octrun/llm"
)

// A malformed --llm-base-url is a usage error before the run (exit 2),
// naming the flag and how to write it, instead of a provider error retried
// for seconds.
func TestMalformedLLMBaseURLIsUsageError(t *testing.T) {
	work := t.TempDir()
	agent := copyAgent(t, "title-generator", work)
	for _, tc := range []struct{ url, want string }{
		{"localhost:4000/v1", "http://localhost:4000/v1"},
		{"ftp://example.com/v1", "http or https"},
		{"http://", "host"},
		{"http://exa mple.com", "--llm-base-url"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			start := time.Now()
			code, out, errOut := octrunIn(t, "", agent, "-i", "SUMMARY=tides", "--llm-base-url", tc.url)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "--llm-base-url")
			assert.Contains(t, errOut, tc.want)
			assert.NotContains(t, errOut, "the worker failed")
			assert.Less(t, time.Since(start), time.Second, "no call is tried")
		})
	}

	// The same for the commands that serve agents, before they start.
	examples := filepath.Join("..", "..", "examples")
	for _, args := range [][]string{
		{"serve", "--agents", examples, "--addr", "127.0.0.1:0"},
		{"worker", "--agents", examples, "--temporal", "127.0.0.1:1"},
	} {
		code, _, errOut := octrunIn(t, "", append(args, "--llm-base-url", "localhost:4000/v1")...)
		assert.Equal(t, exitUsage, code, errOut)
		assert.Contains(t, errOut, `--llm-base-url "localhost:4000/v1" has no http:// or https://: write http://localhost:4000/v1 or https://localhost:4000/v1`)
	}

	// From the environment, the message names the variable.
	t.Setenv(llm.EnvBaseURL, "localhost:4000/v1")
	code, _, errOut := octrunIn(t, "", agent, "-i", "SUMMARY=tides")
	assert.Equal(t, exitUsage, code, errOut)
	assert.Contains(t, errOut, llm.EnvBaseURL)
}
