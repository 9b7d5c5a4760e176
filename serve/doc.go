// Package serve is the worker HTTP API of octrun: the wire protocol that
// applications built on the Octavus server SDK speak to the hosted
// platform (POST /api/agents/{agentId}/execute, streaming server-sent
// events), served for a set of agents by a Runner (in this process, or on
// Temporal), plus octrun's own endpoints: the agents served, re-reading an
// execution's events from an offset, health and metrics.
//
// The rules it follows are rules H1-H7 of docs/rules.md; the events are
// the Octavus ones (package events).
package serve
