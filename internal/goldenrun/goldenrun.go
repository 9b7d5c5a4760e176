// Package goldenrun renders what the golden run files (testdata/runs)
// pin of a run's outcome, so that every host's golden harness (in
// process, on Temporal) compares the same text.
package goldenrun

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/octrun/octrun/runtime"
)

// Result writes a run's outcome as a golden file's want-result: its
// output and usage, no output, the error, or the cancellation.
func Result(res *runtime.Result, err error) string {
	var re *runtime.Error
	switch {
	case errors.As(err, &re) && re.Cancelled:
		return "cancelled\n"
	case errors.As(err, &re):
		return fmt.Sprintf("error %s: %s\n", re.Type, re.Message)
	case err != nil:
		return "unexpected error: " + err.Error() + "\n"
	case !res.HasOutput:
		return "no output\n"
	}
	out, _ := json.MarshalIndent(res.Output, "", "  ")
	return fmt.Sprintf("output: %s\nusage: %+v\n", out, res.Usage)
}
