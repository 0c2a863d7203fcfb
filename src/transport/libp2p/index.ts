/**
 * The libp2p adapter of the Transport port: the only folder that imports `@libp2p/*`. In riak_core
 * terms it plays Erlang distribution's part: `Libp2pTransport` carries vnode commands, quorum requests
 * and handoff over one long-lived, multiplexed stream per peer and protocol, and gossip over gossipsub.
 * `createLibp2pNode` builds the node it runs on; `PeerGate` refuses peers (partitions in tests,
 * removed members in production).
 */
export * from './errors.ts'
export * from './libp2p-node.ts'
export * from './libp2p-transport.ts'
export * from './peer-gate.ts'
export type { AuthorizeHook } from './serve-stream.ts'
export * from './services.ts'
