package serve

import (
	"encoding/json"
	"net/http"
	"strings"
)

// errorBody is the JSON body of an error response: what the Octavus SDK
// reads into its error event.
type errorBody struct {
	Error    string   `json:"error"`
	Code     string   `json:"code"`
	Problems []string `json:"problems,omitempty"`
}

// writeError answers with status and the JSON error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Error: message, Code: code})
}

// writeProblems answers 400 with every problem of a run's input.
func writeProblems(w http.ResponseWriter, problems []string) {
	writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid input: " + strings.Join(problems, "; "), Code: "validation_error", Problems: problems})
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
