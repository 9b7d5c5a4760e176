package protocol

import "slices"

// What a run of a worker may need from its host, found before it runs: the
// models it may call (to check their providers' keys) and the tools it
// declares (to check the handlers a host offers). Both cover the workers
// it declares, and theirs, each once.

// Models lists the models the worker and the workers it declares may call,
// chat and media, each once, in the order of the files: the model and
// backupModel of start-thread blocks, imageModel, speechModel and
// transcriptionModel. A model setting that names an input is resolved from
// values for this worker (pass the values ResolveInput returns, defaults
// included) and from the input defaults for a declared worker; one that
// cannot be resolved so (no value, a variable) is left out.
func (p *Protocol) Models(values map[string]any) []string {
	var out []string
	add := func(m string) {
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	p.each(func(q *Protocol) {
		vals := values
		if q != p {
			vals = q.inputDefaults()
		}
		for _, s := range q.Steps {
			if models := kindOf(s.Block).models; models != nil {
				models(s.Block, vals, add)
			}
		}
	})
	return out
}

// ToolNames lists the tools the worker and the workers it declares
// declare, each once, sorted: the names a host may give handlers for.
func (p *Protocol) ToolNames() []string {
	var names []string
	p.each(func(q *Protocol) {
		for _, t := range q.Tools {
			if !slices.Contains(names, t.Name.Value) {
				names = append(names, t.Name.Value)
			}
		}
	})
	slices.Sort(names)
	return names
}

// MCPNamespaces returns the namespaces of the consumer MCP servers that p
// and the workers it declares declare, sorted: the prefixes (namespace__)
// under which a host may answer their tools itself.
func (p *Protocol) MCPNamespaces() []string {
	var names []string
	p.each(func(q *Protocol) {
		for _, s := range q.MCPServers {
			if s.Source.Value == "consumer" && !slices.Contains(names, s.Name.Value) {
				names = append(names, s.Name.Value)
			}
		}
	})
	slices.Sort(names)
	return names
}

// each calls fn on p and on every worker it declares, depth first, once
// each (a worker may be declared by several, or by itself).
func (p *Protocol) each(fn func(*Protocol)) {
	seen := map[*Protocol]bool{}
	var walk func(*Protocol)
	walk = func(q *Protocol) {
		if q == nil || seen[q] {
			return
		}
		seen[q] = true
		fn(q)
		for _, w := range q.Workers {
			walk(w.Protocol)
		}
	}
	walk(p)
}

// inputDefaults returns the default values of the worker's inputs.
func (p *Protocol) inputDefaults() map[string]any {
	v := map[string]any{}
	for _, in := range p.Inputs {
		if in.HasDefault {
			v[in.Name.Value] = in.Default
		}
	}
	return v
}
