/**
 * The browser face of the libp2p adapter: what a page needs to join the mesh, without the Node-only
 * parts of `index.ts` (the TCP transport, the relay server). `createBrowserLibp2pNode` builds the node
 * (WebSockets to Node and Deno peers, WebRTC to other browsers through a circuit relay);
 * `Libp2pTransport` wraps it exactly as it wraps a Node peer's node.
 */
export * from './browser-node.ts'
export * from './errors.ts'
export * from './libp2p-transport.ts'
export * from './peer-gate.ts'
export type { AuthorizeHook } from './serve-stream.ts'
export * from './services.ts'
