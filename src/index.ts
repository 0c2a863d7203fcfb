/**
 * Solar Orbit: riak_core for the browser and the edge. This entry is safe for every runtime: the core
 * vocabulary, the ring and claim, the cluster state, causality, the Transport port, the storage
 * contract with its in-memory storage, vnodes, the KV service, coordinators and handoff. Runtime-specific adapters have their own entries
 * (`solar-orbit/storage/fs`, `solar-orbit/storage/indexeddb`), and so does the simulator
 * (`solar-orbit/sim`).
 */
export * from './clock/index.ts'
export * from './coordinator/index.ts'
export * from './core/index.ts'
export * from './handoff/index.ts'
export * from './kv/index.ts'
export * from './membership/index.ts'
export * from './ring/index.ts'
export * from './storage/index.ts'
export * from './transport/index.ts'
export * from './vnode/index.ts'
