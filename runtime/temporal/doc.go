// Package temporal is the durable host of the interpreter: a run is a
// Temporal workflow whose code is the interpreter (package interp) itself,
// and every effect is an activity (model call, tool call, MCP listing,
// media call), a child workflow (a nested worker) or a workflow update (the
// results of client tools). Temporal keeps each effect's result in the
// workflow's history, so a worker process that dies loses nothing: another
// one replays the history and goes on. Events never enter the history:
// activities publish them to Redis (package relay) under sequence numbers
// the workflow decides, so a retried activity or a replayed workflow never
// publishes an event twice.
//
// Three kinds of process take part: the submitter (Client: octrun run
// --temporal, octrun serve, a Go program) loads and validates the protocol,
// starts the workflow and reads the events; workers (Worker: octrun worker)
// hold the agents, the tool handlers and the model routing, and execute;
// Temporal and Redis hold the state and the events. A run's protocol is
// named by its slug and fingerprint (which includes the interpreter
// version), checked when the workflow starts and in every activity: a
// worker whose files differ from the submitter's refuses the run at once.
package temporal
