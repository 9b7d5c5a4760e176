package serve

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/octrun/octrun/protocol"
)

// agentInfo describes an agent served.
type agentInfo struct {
	Slug        string         `json:"slug"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Input       map[string]any `json:"input"`
	// Output is the type of the worker's result ("" when it has none).
	Output string `json:"output,omitempty"`
}

func describe(p *protocol.Protocol) agentInfo {
	info := agentInfo{Slug: p.Settings.Slug.Value, Name: p.Settings.Name.Value, Description: p.Settings.Description.Value, Input: p.InputSchema()}
	for _, v := range p.Variables {
		if v.Name.Value == p.Output.Value {
			info.Output = v.Type.Value
		}
	}
	return info
}

// listAgents serves GET /api/agents.
func (s *Server) listAgents(w http.ResponseWriter, _ *http.Request) {
	list := make([]agentInfo, 0, len(s.agents))
	for _, p := range s.agents {
		list = append(list, describe(p))
	}
	slices.SortFunc(list, func(a, b agentInfo) int { return strings.Compare(a.Slug, b.Slug) })
	writeJSON(w, http.StatusOK, map[string]any{"agents": list})
}

// describeAgent serves GET /api/agents/{agentId}.
func (s *Server) describeAgent(w http.ResponseWriter, r *http.Request) {
	if p, ok := s.agent(w, r); ok {
		writeJSON(w, http.StatusOK, describe(p))
	}
}

// reread serves GET /api/executions/{id}/events: the execution's events
// after Last-Event-ID (or ?after=N), live while a leg runs.
func (s *Server) reread(w http.ResponseWriter, r *http.Request) {
	e := s.lookup(r.PathValue("id"))
	if e == nil {
		writeError(w, http.StatusNotFound, "not_found_error", "no execution "+strconv.Quote(r.PathValue("id"))+" is known here")
		return
	}
	after := r.Header.Get("Last-Event-ID")
	if q := r.URL.Query().Get("after"); q != "" {
		after = q
	}
	var from int64 = 1
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "validation_error", "the event id to read after must be a number, not "+strconv.Quote(after))
			return
		}
		from = n + 1
	}
	s.stream(w, r, e, from)
}
