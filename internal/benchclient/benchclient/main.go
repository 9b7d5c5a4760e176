// Command benchclient streams one chat completion with the bare client of
// internal/benchclient and writes its events to standard output as JSON
// lines (or SSE with -events sse): the baseline of the command-level
// benchmarks of cmd/octrun. It reports the number of deltas and events on
// standard error.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/sashabaranov/go-openai"

	"github.com/octrun/octrun/internal/benchclient"
)

func main() {
	baseURL := flag.String("url", "", "the endpoint's base URL")
	model := flag.String("model", "openai/gpt-4o-mini", "the model to ask for")
	eventsFormat := flag.String("events", "jsonl", "jsonl or sse")
	flag.Parse()
	format := benchclient.JSONL
	if *eventsFormat == "sse" {
		format = benchclient.SSE
	}
	req := openai.ChatCompletionRequest{
		Model:    *model,
		Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleSystem, Content: "You answer.\n"}},
	}
	res, err := benchclient.Stream(context.Background(), http.DefaultClient, *baseURL, req, os.Stdout, format)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%d deltas, %d events\n", res.Deltas, res.Events)
}
