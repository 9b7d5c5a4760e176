// Command fakeopenai serves llm/fakeopenai on 127.0.0.1 in a process of
// its own, for benchmarks that must not count the server's work, memory or
// goroutines as the client's: it answers from the script file named by
// -script (llm.LoadScript), prints its base URL on a line of standard
// output, and serves until its standard input closes. GET /requests
// answers the number of requests received so far.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/octrun/octrun/llm"
	"github.com/octrun/octrun/llm/fakeopenai"
)

func main() {
	scriptPath := flag.String("script", "", "the script file to answer from")
	deltas := flag.Int("deltas", 0, "stream every text and reasoning in exactly this many deltas (0: word by word)")
	delay := flag.Duration("delay", 0, "wait this long before each chunk")
	flag.Parse()
	script, err := llm.LoadScript(*scriptPath)
	if err != nil {
		log.Fatal(err)
	}
	opts := []fakeopenai.Option{fakeopenai.WithLoop()}
	if *deltas > 0 {
		opts = append(opts, fakeopenai.WithDeltas(*deltas))
	}
	if *delay > 0 {
		opts = append(opts, fakeopenai.WithDelay(*delay))
	}
	fake := fakeopenai.New(script, opts...)
	defer fake.Close()

	var requests atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/requests" {
			_, _ = io.WriteString(w, strconv.FormatInt(requests.Load(), 10))
			return
		}
		requests.Add(1)
		fake.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		// The parent closes standard input, or dies.
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Println("http://" + ln.Addr().String())
	log.Fatal(http.Serve(ln, handler))
}
