/**
 * Builds the libp2p node a Solar Orbit peer runs on in Node and Deno: TCP and WebSockets, noise
 * encryption (messages framed lean, see `noise-framing.ts`), yamux multiplexing (window updates once
 * half the window is used, see `lazy-window-updates.ts`), identify (gossipsub learns its peers'
 * protocols through it) and gossipsub for the cluster's broadcast channel. The node is created
 * stopped; `Libp2pTransport` starts and stops it. With `relayServer` it also relays for browser
 * peers, which reach each other only through a relay (see `browser-node.ts`).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type CircuitRelayServerInit, circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p } from 'libp2p'
import { lazyWindowUpdates } from './lazy-window-updates.ts'
import { leanFraming } from './noise-framing.ts'
import { PeerGate } from './peer-gate.ts'
import { type GossipInit, type SolarOrbitLibp2p, solarOrbitServices } from './services.ts'

/** Options of {@link createLibp2pNode}. */
export interface Libp2pNodeInit extends GossipInit {
  /** The node's identity. Persist it: a new key is a new member. Default: a fresh Ed25519 key. */
  privateKey?: PrivateKey
  /** Addresses to listen on. Default: `['/ip4/127.0.0.1/tcp/0']` (loopback, any free port). */
  listen?: string[]
  /** Decides which peers may connect. Default: a {@link PeerGate} that refuses nobody. */
  gate?: PeerGate
  /**
   * Inbound connections accepted per second from one host before libp2p refuses more. Default: `100`
   * (libp2p's own default of 5 trips when many local peers start at once).
   */
  inboundConnectionThreshold?: number
  /**
   * Serve as a circuit relay v2 hop (service `relay`), so that browser peers connected to this node
   * can signal WebRTC connections to each other through it; `true` takes libp2p's defaults (15
   * reservations, relayed connections limited to 2 min / 128 KiB), an object sets them. Listen on a
   * WebSocket address (`/ip4/…/tcp/…/ws`) too, or browsers cannot reach the relay. Default: `false`.
   */
  relayServer?: boolean | CircuitRelayServerInit
}

/** Creates a stopped libp2p node configured for Solar Orbit. */
export async function createLibp2pNode(init: Libp2pNodeInit = {}): Promise<SolarOrbitLibp2p> {
  const gate = init.gate ?? new PeerGate()
  return createLibp2p({
    start: false,
    privateKey: init.privateKey ?? (await generateKeyPair('Ed25519')),
    addresses: { listen: init.listen ?? ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [leanFraming(noise())],
    streamMuxers: [lazyWindowUpdates(yamux())],
    connectionGater: gate.gater(),
    connectionManager: {
      inboundConnectionThreshold: init.inboundConnectionThreshold ?? 100,
    },
    services: {
      ...solarOrbitServices(init),
      ...(init.relayServer
        ? { relay: circuitRelayServer(init.relayServer === true ? {} : init.relayServer) }
        : {}),
    },
  })
}
