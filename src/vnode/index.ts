/**
 * Vnodes: the framework that hosts one partition of one service's data, mirroring riak_core's
 * `riak_core_vnode` (the {@link VnodeBehaviour} contract and its {@link VnodeHost}: one bounded queue,
 * one callback at a time, active → handing off → forwarding) and `riak_core_vnode_manager` (the
 * {@link VnodeManager}: lazy start of primary and fallback vnodes, restart of every partition holding
 * data). Pure protocol code: storage and forwarding come in through ports, no timers, no I/O.
 */
export type * from './behaviour.ts'
export * from './errors.ts'
export * from './host.ts'
export * from './manager.ts'
