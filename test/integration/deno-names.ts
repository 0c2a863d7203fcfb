/** Protocol and topic names shared by `deno-peer.ts` and `deno-transport.test.ts`. */

/** The protocol the Deno peer serves: answers `deno:<request>`. */
export const DENO_ECHO_PROTOCOL = '/solar-orbit/it/deno-echo/1.0.0'
/** The protocol the Deno peer expects the Node peer to serve, answering `node:<request>`. */
export const NODE_ECHO_PROTOCOL = '/solar-orbit/it/node-echo/1.0.0'
/** The topic whose messages the Deno peer reports. */
export const GOSSIP_TOPIC = 'solar-orbit/it/deno-gossip'
