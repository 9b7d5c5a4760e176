package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode"

	"github.com/octrun/octrun/events"
)

// progress shows a run on standard error: block names, tool calls, nested
// workers and the streamed text, styled when it is a terminal. It is best
// effort: a standard error that cannot be written does not stop the run
// (there would be nowhere to say why).
type progress struct {
	w      io.Writer
	styled bool
	// all shows the names of hidden blocks too (--all-events).
	all bool
	// midLine is true when the last thing written did not end a line.
	midLine bool
	// depth is the nesting of each worker by workerId ("" is the top level).
	depth map[string]int
}

// newProgress returns the progress display on w, styled when terminal
// (w writes to a terminal) and NO_COLOR is not set.
func newProgress(w io.Writer, terminal, all bool) *progress {
	return &progress{w: w, styled: terminal && os.Getenv("NO_COLOR") == "", all: all, depth: map[string]int{}}
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

const (
	styleBold = "\033[1m"
	styleDim  = "\033[2m"
	styleRed  = "\033[31m"
	styleOff  = "\033[0m"
)

func (p *progress) style(style, s string) string {
	if !p.styled {
		return s
	}
	return style + s + styleOff
}

// line writes one line at the nesting of workerID, ending a streamed text
// first. The text must be terminal-safe (see safe).
func (p *progress) line(workerID, text string) {
	if p.midLine {
		fmt.Fprintln(p.w)
		p.midLine = false
	}
	fmt.Fprintf(p.w, "%s%s\n", strings.Repeat("  ", p.depth[workerID]), text)
}

// text writes streamed text as it comes.
func (p *progress) text(s string) {
	fmt.Fprint(p.w, s)
	p.midLine = !strings.HasSuffix(s, "\n")
}

// escapeSequence matches the terminal escape sequences a text may carry:
// CSI (cursor, colours, clearing), OSC (titles, clipboard writes, links;
// ended by BEL or ST) and the other escapes (a reset, saving the cursor,
// character sets).
var escapeSequence = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]`)

// safe makes text from a model, a tool or a provider safe to show on a
// terminal: escape sequences go, and so does every other control
// character but newline and tab (a carriage return could overwrite what
// was shown). Only the display is filtered; --events output is data.
func safe(s string) string {
	s = escapeSequence.ReplaceAllString(s, "")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, s)
}

// sink is the events.Sink of the progress display.
func (p *progress) sink(ev events.Event) error {
	wid := ev.EventWorkerID()
	switch e := ev.(type) {
	case events.WorkerStart:
		if len(p.depth) == 0 {
			p.depth[""] = 0
			p.line("", p.style(styleBold, "● "+safe(e.WorkerSlug)))
			p.depth[e.WorkerID] = 0
			break
		}
		p.depth[e.WorkerID] = p.depth[wid] + 1
		p.line(wid, p.style(styleBold, "→ worker "+safe(e.WorkerSlug)))
	case events.BlockStart:
		if e.Display != events.DisplayHidden || p.all {
			label := e.BlockName
			if e.Description != "" {
				label += " — " + e.Description
			}
			p.line(wid, p.style(styleBold, "▸ "+safe(label)))
		}
	case events.ReasoningDelta:
		p.text(p.style(styleDim, safe(e.Delta)))
	case events.ReasoningEnd, events.TextEnd:
		if p.midLine {
			fmt.Fprintln(p.w)
			p.midLine = false
		}
	case events.TextDelta:
		p.text(safe(e.Delta))
	case events.ToolInputStart:
		label := "  ⚙ " + e.ToolName
		if e.Title != "" {
			label += ": " + e.Title
		}
		p.line(wid, p.style(styleDim, safe(label)))
	case events.WorkerInputStart:
		p.line(wid, p.style(styleDim, "  ⚙ worker "+safe(e.WorkerSlug)))
	case events.ToolOutputError:
		p.line(wid, p.style(styleRed, "  ✗ "+safe(e.Error)))
	case events.WorkerResult:
		if e.Error != "" && e.WorkerID != "" && p.depth[e.WorkerID] > 0 {
			p.line(e.WorkerID, p.style(styleRed, "✗ worker failed: "+safe(e.Error)))
		}
	case events.Error:
		p.line("", p.style(styleRed, "✗ "+string(e.ErrorType)+": "+safe(e.Message)))
	case events.ResourceUpdate:
		p.line(wid, p.style(styleDim, "  resource "+e.Name+" = "+safe(string(e.Value))))
	}
	return nil
}
