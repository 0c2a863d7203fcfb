/**
 * The Node and Deno entry: `createNode({ dataDir })` starts a member of a cluster on this machine.
 *
 * - Identity: the libp2p private key in `dataDir/identity.key` (created on the first start), so a
 *   restart is the same member and causes no handoff churn.
 * - Storage: `FsStorage` in `dataDir/vnodes` (or `MemoryStorage` with `storage: 'memory'`, for
 *   benchmarks and throwaway peers); the cluster state in `dataDir/cluster-state.cbor`.
 * - Transport: libp2p on TCP and WebSockets (default: both on 127.0.0.1, any free port), with a
 *   circuit relay server so browser peers can reach each other through it, and an inbound connection
 *   threshold raised for local clusters, whose peers all connect at once from one host.
 *
 * Everything else is {@link assembleNode}'s; `createNode({ dataDir })` alone gives a running
 * single-node cluster that claims the whole ring after `autoClaim.stableMs`.
 */
import { defaultLogger } from '@libp2p/logger'
import { cryptoSeededRandom, systemClock, timerScheduler } from '../runtime/system-ports.ts'
import { createLibp2pNode, Libp2pTransport } from '../transport/libp2p/index.ts'
import { type AssembleInit, assembleNode, type SolarOrbitNode } from './assemble.ts'
import { loadOrCreateIdentity } from './identity-file.ts'
import { openNodeStorage } from './node-storage.ts'
import { fileStateStore } from './state-file.ts'

/** Options of {@link createNode}; every {@link AssembleInit} field passes through. */
export interface NodeInit extends AssembleInit {
  /** Directory of the node's identity, cluster state and (filesystem) data; created if absent. Required. */
  readonly dataDir: string
  /** Addresses to listen on. Default: TCP and WebSockets on 127.0.0.1, any free port. */
  readonly listen?: readonly string[]
  /** Serve as a circuit relay for browser peers. Default `true`. */
  readonly relay?: boolean
  /** Where vnode data lives: `'fs'` (durable, `dataDir/vnodes`) or `'memory'`. Default `'fs'`. */
  readonly storage?: 'fs' | 'memory'
  /** Gossipsub heartbeat, in ms (how fast subscriptions settle). Default 1000. */
  readonly gossipHeartbeatMs?: number
  /** Inbound connections per second accepted from one host. Default 1000 (local clusters). */
  readonly inboundConnectionThreshold?: number
  /** Deadline of one transport request without its own, in ms. Default 10 000. */
  readonly transportTimeoutMs?: number
}

/** A node started by {@link createNode}. */
export interface LocalNode extends SolarOrbitNode {
  /** The addresses the node listens on, each ending in `/p2p/<id>`: give one to `bootstrap` of another. */
  multiaddrs(): string[]
  /** The libp2p transport underneath. */
  readonly transport: Libp2pTransport
}

/** Default listen addresses: TCP and WebSockets on loopback, any free port. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] as const

/** Starts a node; see the module comment. */
export async function createNode(init: NodeInit): Promise<LocalNode> {
  const {
    dataDir,
    listen,
    relay,
    storage: storageKind,
    gossipHeartbeatMs,
    inboundConnectionThreshold,
    transportTimeoutMs,
    ...assembleInit
  } = init
  const identity = await loadOrCreateIdentity(dataDir)
  const libp2p = await createLibp2pNode({
    privateKey: identity.privateKey,
    listen: [...(listen ?? DEFAULT_LISTEN)],
    relayServer: relay ?? true,
    inboundConnectionThreshold: inboundConnectionThreshold ?? 1000,
    ...(gossipHeartbeatMs !== undefined && { gossipHeartbeatMs }),
  })
  const transport = new Libp2pTransport(
    { node: libp2p, scheduler: timerScheduler },
    { ...(transportTimeoutMs !== undefined && { requestTimeoutMs: transportTimeoutMs }) },
  )
  const storage = await openNodeStorage(storageKind ?? 'fs', dataDir)
  let node: SolarOrbitNode
  try {
    node = await assembleNode(
      {
        transport,
        storage,
        clock: systemClock,
        scheduler: timerScheduler,
        random: cryptoSeededRandom(),
        stateStore: fileStateStore(dataDir),
        log: defaultLogger().forComponent('solar-orbit:node'),
      },
      assembleInit,
    )
  } catch (error) {
    await transport.stop().catch(() => {})
    await storage.close().catch(() => {})
    throw error
  }
  return { ...node, multiaddrs: () => transport.multiaddrs(), transport }
}
