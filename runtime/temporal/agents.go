package temporal

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/octrun/octrun/protocol"
)

// agents are the protocols a worker process serves, loaded once at start,
// by slug, with their fingerprints.
type agents struct {
	bySlug map[string]*protocol.Protocol
	queue  string

	mu           sync.Mutex
	fingerprints map[*protocol.Protocol]string
}

func newAgents(list []*protocol.Protocol, queue string) (*agents, error) {
	a := &agents{bySlug: map[string]*protocol.Protocol{}, fingerprints: map[*protocol.Protocol]string{}, queue: queue}
	for _, p := range list {
		if p == nil || p.Diagnostics.HasErrors() {
			return nil, fmt.Errorf("a worker serves only valid agents")
		}
		slug := p.Settings.Slug.Value
		if _, dup := a.bySlug[slug]; dup {
			return nil, fmt.Errorf("two agents have the slug %q", slug)
		}
		a.bySlug[slug] = p
		a.fingerprint(p)
	}
	return a, nil
}

// fingerprint returns p's Fingerprint, computed once; nested protocols
// are computed with their caller.
func (a *agents) fingerprint(p *protocol.Protocol) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fingerprintLocked(p)
}

func (a *agents) fingerprintLocked(p *protocol.Protocol) string {
	fp, ok := a.fingerprints[p]
	if !ok {
		fp = Fingerprint(p)
		a.fingerprints[p] = fp
		for _, w := range p.Workers {
			a.fingerprintLocked(w.Protocol)
		}
	}
	return fp
}

// resolve returns the protocol ref names, checking its fingerprint: a
// mismatch is a non-retryable error that names both fingerprints, the
// task queue and the fix.
func (a *agents) resolve(ref AgentRef) (*protocol.Protocol, error) {
	p, ok := a.bySlug[ref.Slug]
	if !ok {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the worker of task queue %q has no agent %q (its agents: %s); give it the agent's folder under --agents", a.queue, ref.Slug, strings.Join(slices.Sorted(maps.Keys(a.bySlug)), ", ")),
			"UnknownAgent", nil)
	}
	for _, slug := range ref.Path {
		w := p.Worker(slug)
		if w == nil {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("agent %s declares no worker %q here", ref, slug), "UnknownAgent", nil)
		}
		p = w.Protocol
	}
	if ref.Fingerprint != "" {
		if here := a.fingerprint(p); here != ref.Fingerprint {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"agent %s on the worker of task queue %q is not the submitter's: fingerprint %s here, %s at the submitter; deploy the same agent folders and octrun version to the submitter and every worker (or submit with --skip-fingerprint-check)",
				ref, a.queue, here, ref.Fingerprint), "FingerprintMismatch", nil)
		}
	}
	return p, nil
}
