/**
 * The node: the one composition root that turns the protocol modules into a running member of a
 * cluster (riak_core's application start: vnode master, claimant, gossip, handoff manager).
 * `assembleNode` is runtime-agnostic (the browser entry uses it too); `createNode` is the Node and
 * Deno entry, with a persisted identity, filesystem storage and a libp2p transport on TCP and
 * WebSockets.
 */
export * from './assemble.ts'
export * from './node.ts'
export { forwardProtocol, RoutedTransport, relayOf } from './routed-transport.ts'
