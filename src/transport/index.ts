/**
 * Transport: the messaging port of a node, in the role Erlang distribution plays for riak_core. Vnode
 * commands, quorum requests (Dynamo's coordinator fanning out to a preference list), handoff batches and
 * the direct cluster-state exchange are request/response on a named protocol; heartbeats and state
 * digests ride the best-effort topic broadcast (riak_core's gossip); `peer:connect`/`peer:disconnect`
 * feed the failure detector. Implementations: `SimNetwork` (src/sim) and the libp2p adapter; both pass
 * `test/transport/compliance.ts`. This folder is pure: no I/O, timers only through the Scheduler port.
 */
export * from './errors.ts'
export * from './pending-request.ts'
export type * from './transport.ts'
export * from './typed-event-target.ts'
