/**
 * Builds the libp2p node a Solar Orbit peer runs on in a browser. A page cannot listen on a socket,
 * so it reaches Node and Deno peers by dialling their WebSocket addresses, and other browsers over
 * WebRTC: it reserves a slot on a circuit relay (a Node peer started with `relayServer`), advertises
 * `<relay>/p2p-circuit/webrtc/p2p/<self>`, and a peer that dials that address exchanges SDP offers
 * through the relay, then talks over a direct WebRTC connection. The relayed hop is limited (libp2p's
 * defaults: 2 min, 128 KiB) and carries signalling only; `Libp2pTransport` prefers unlimited
 * connections for requests and gossipsub skips limited ones.
 *
 * Nothing in this module's graph imports `node:*`; `Libp2pTransport` wraps the node it returns, as it
 * does the Node one (`createLibp2pNode`). ARCHITECTURE.md §8 lists what this needs in Chromium.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { webRTC } from '@libp2p/webrtc'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { lazyWindowUpdates } from './lazy-window-updates.ts'
import { leanFraming } from './noise-framing.ts'
import { PeerGate } from './peer-gate.ts'
import { type GossipInit, type SolarOrbitLibp2p, solarOrbitServices } from './services.ts'

/** Options of {@link createBrowserLibp2pNode}. */
export interface BrowserLibp2pNodeInit extends GossipInit {
  /**
   * The node's identity. Persist it (in IndexedDB): a new key is a new member, and a reload that
   * changes it causes handoff churn. Default: a fresh Ed25519 key.
   */
  privateKey?: PrivateKey
  /**
   * Decides which peers and addresses may be dialled. Default: a {@link PeerGate} that refuses nobody
   * and allows `ws://` and loopback addresses, which libp2p's browser default refuses: right for local
   * development and tests. In production pass `new PeerGate({ allowPrivateAddresses: false })` and
   * dial relays at `wss://` (`/dns4/…/tcp/443/tls/ws`) addresses.
   */
  gate?: PeerGate
  /**
   * STUN and TURN servers for WebRTC. Default: `[]`, host candidates only, so no traffic leaves the
   * machine or LAN without being asked to (tests run offline). Browsers behind different NATs need a
   * STUN server at least, and a TURN server when both NATs are symmetric.
   */
  iceServers?: RTCIceServer[]
}

/**
 * Creates a stopped libp2p node for a browser page: WebSockets dials, WebRTC (signalled through a
 * circuit relay) and circuit relay reservations, noise (each message one WebSocket message, see
 * `noise-framing.ts`), yamux (lazy window updates, see `lazy-window-updates.ts`), identify and
 * gossipsub. Once started, it takes a reservation on the first relay it connects to; its
 * `getMultiaddrs()` then include a `/p2p-circuit/webrtc/p2p/<self>` address for other browsers to
 * dial.
 */
export async function createBrowserLibp2pNode(
  init: BrowserLibp2pNodeInit = {},
): Promise<SolarOrbitLibp2p> {
  const gate = init.gate ?? new PeerGate()
  return createLibp2p({
    start: false,
    privateKey: init.privateKey ?? (await generateKeyPair('Ed25519')),
    // `/p2p-circuit` asks for a relay reservation; `/webrtc` listens for WebRTC offers through it.
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [
      webSockets(),
      webRTC({ rtcConfiguration: { iceServers: init.iceServers ?? [] } }),
      circuitRelayTransport(),
    ],
    connectionEncrypters: [leanFraming(noise())],
    streamMuxers: [lazyWindowUpdates(yamux())],
    connectionGater: gate.gater(),
    services: solarOrbitServices(init),
  })
}
