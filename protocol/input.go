package protocol

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/octrun/octrun/protocol/types"
)

// InputError lists every way in which the input of a run does not fit the
// protocol's input declarations (rule D18). The runtime reports it with
// errorType validation_error.
type InputError struct {
	Problems []string
}

func (e *InputError) Error() string {
	return "invalid input: " + strings.Join(e.Problems, "; ")
}

// InputSchema returns the JSON Schema of the worker's input object: one
// property per declared input, required unless optional or defaulted. It
// is built on first use and shared by every caller and run: read it, never
// change it.
func (p *Protocol) InputSchema() map[string]any {
	return p.cachedSchema("input", func() map[string]any { return p.inputSchema(false) })
}

// inputSchema builds the input schema; with allOptional every property is
// optional (ResolveInput reports missing inputs itself, by name).
func (p *Protocol) inputSchema(allOptional bool) map[string]any {
	fields := make([]types.Field, 0, len(p.Inputs))
	for _, in := range p.Inputs {
		fields = append(fields, types.Field{
			Name:        in.Name.Value,
			Type:        in.Type.Expr,
			Description: in.Description,
			Optional:    allOptional || in.Optional || in.HasDefault,
			Enum:        in.Enum,
		})
	}
	return p.Types.ObjectSchema(fields)
}

// ResolveInput checks the caller's input against the declarations and
// returns the values a run starts with: the given values of declared
// inputs, plus the default of every omitted input that has one. An
// optional input omitted without a default is left out: it is absent (rule
// D3). Every problem is reported at once in an *InputError: missing
// required inputs, values that do not fit their type or enum. A name the
// worker does not declare is not a problem: it is left out of the values,
// and InputWarnings names it (rule D18).
func (p *Protocol) ResolveInput(given map[string]any) (map[string]any, error) {
	validator, err := p.inputValidator()
	if err != nil {
		return nil, fmt.Errorf("compile the input schema: %w", err)
	}
	var problems []string
	values := make(map[string]any, len(p.Inputs))
	for _, in := range p.Inputs {
		v, ok := given[in.Name.Value]
		switch {
		case ok:
			values[in.Name.Value] = v
		case in.HasDefault:
			values[in.Name.Value] = in.Default
		case !in.Optional:
			problems = append(problems, fmt.Sprintf("missing input %s (%s)", in.Name.Value, in.Type.Value))
		}
	}
	for _, pr := range validator.Validate(values) {
		name, rest, _ := strings.Cut(strings.TrimPrefix(pr.Path, "/"), "/")
		if rest != "" {
			name += " at /" + rest
		}
		problems = append(problems, fmt.Sprintf("input %s: %s", name, pr.Message))
	}
	if len(problems) > 0 {
		return nil, &InputError{Problems: problems}
	}
	return values, nil
}

// InputWarnings returns a warning for each name of the caller's input that
// the worker does not declare, in name order, with "did you mean": the run
// ignores those values (rule D18).
func (p *Protocol) InputWarnings(given map[string]any) []string {
	declared := make([]string, len(p.Inputs))
	for i, in := range p.Inputs {
		declared[i] = in.Name.Value
	}
	var warnings []string
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if !slices.Contains(declared, name) {
			warnings = append(warnings, fmt.Sprintf("unknown input %s%s is ignored; %s", name, didYouMean(name, declared), theInputs(declared)))
		}
	}
	return warnings
}

// theInputs lists a worker's inputs for a message.
func theInputs(names []string) string {
	if len(names) == 0 {
		return "the worker declares no inputs"
	}
	return "the worker's inputs are " + listOf(names)
}
