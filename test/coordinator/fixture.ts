/**
 * A simulated KV cluster for coordinator tests, and a model of how a node wires the request path:
 *
 *   SimNetwork transport ─┬─ serveVnodes(transport, manager, { authorize })   (serving replicas)
 *                         ├─ VnodeManager(KvVnode, MemoryStorage, TransportForwarder)
 *                         └─ KvCoordinator({ transport, clock, scheduler, vnodes: manager }, { ring, isUp, ... })
 *
 * Every node shares one ring (claimed once for the owners) and one liveness view (`down`), as a node
 * would learn them from the cluster state. Guests coordinate but own no partitions. Everything runs on
 * one SimScheduler from one seed; drive promises with `cluster.run(promise)`.
 */

import {
  KvCoordinator,
  type KvCoordinatorInit,
  kvVnodeProtocol,
  serveVnodes,
  TransportForwarder,
  VnodeClient,
} from '../../src/coordinator/index.ts'
import { SeededRandom } from '../../src/core/index.ts'
import { KvVnode, type KvVnodeManager } from '../../src/kv/index.ts'
import { claim, type MemberId, type Ring } from '../../src/ring/index.ts'
import {
  type LinkProfile,
  SimNetwork,
  SimScheduler,
  type SimTransport,
} from '../../src/sim/index.ts'
import { MemoryStorage } from '../../src/storage/memory.ts'
import { VnodeManager } from '../../src/vnode/index.ts'

/** One simulated node. */
export interface SimKvNode {
  readonly id: MemberId
  readonly transport: SimTransport
  readonly storage: MemoryStorage
  readonly manager: KvVnodeManager
  readonly coordinator: KvCoordinator
  /** Sends vnode requests from this node (for tests that talk to one replica). */
  readonly client: VnodeClient
}

/** Options of {@link createKvCluster}. */
export interface KvClusterInit {
  /** Members that own partitions, named `node-0` … Default 5. */
  readonly owners?: number
  /** Members that own nothing, named `guest-0` … Default 0. */
  readonly guests?: number
  /** Q. Default 16. */
  readonly partitionCount?: number
  /** Seed of every random stream. Default 1. */
  readonly seed?: number
  /** Link delays and faults. Default: SimNetwork's (1–5 ms, no loss). */
  readonly links?: LinkProfile
  /** Coordinator options besides the ring, liveness and protocol. */
  readonly coordinator?: Partial<KvCoordinatorInit>
}

/** A running simulated cluster. */
export interface SimKvCluster {
  readonly scheduler: SimScheduler
  readonly network: SimNetwork
  readonly ring: Ring
  readonly protocol: string
  /** Owners first, then guests. */
  readonly nodes: readonly SimKvNode[]
  /** Members the servers accept requests from. */
  readonly members: Set<MemberId>
  /** The shared liveness view: members here are down for every coordinator's preflists. */
  readonly down: Set<MemberId>
  node(id: MemberId): SimKvNode
  /** Runs the simulation until `promise` settles, and returns its outcome. */
  run<T>(promise: Promise<T>): Promise<T>
  /** Crashes `id`'s transport and marks it down. */
  crash(id: MemberId): void
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** Builds and starts a cluster; see the module comment. */
export async function createKvCluster(init: KvClusterInit = {}): Promise<SimKvCluster> {
  const root = new SeededRandom(init.seed ?? 1)
  // Vnode commands run through several awaits per message; let each event's continuations finish at its time.
  const scheduler = new SimScheduler({ microtaskTurns: 512 })
  const network = new SimNetwork({ scheduler, random: root.fork('network'), ...init.links })
  const owners = Array.from({ length: init.owners ?? 5 }, (_, i) => `node-${i}`)
  const guests = Array.from({ length: init.guests ?? 0 }, (_, i) => `guest-${i}`)
  const { ring } = claim({
    members: owners.map((id) => ({ id })),
    targetN: 3,
    partitionCount: init.partitionCount ?? 16,
  })
  const protocol = kvVnodeProtocol('test')
  const members = new Set([...owners, ...guests])
  const down = new Set<MemberId>()
  const nodes = [...owners, ...guests].map((id): SimKvNode => {
    const transport = network.createTransport(id)
    const storage = new MemoryStorage()
    const client = new VnodeClient({ transport, protocol, random: root.fork(`client/${id}`) })
    const manager: KvVnodeManager = new VnodeManager({
      behaviour: new KvVnode({ memberId: id, random: root.fork(`kv/${id}`) }),
      storage,
      forwarder: new TransportForwarder(client),
    })
    serveVnodes(transport, manager, { protocol, authorize: (peer) => members.has(peer) })
    const coordinator = new KvCoordinator(
      {
        transport,
        clock: scheduler,
        scheduler,
        random: root.fork(`coordinator/${id}`),
        vnodes: manager,
      },
      {
        protocol,
        ring: () => ring,
        isUp: (member) => !down.has(member),
        ...init.coordinator,
      },
    )
    return { id, transport, storage, manager, coordinator, client }
  })
  await Promise.all(nodes.map((node) => node.transport.start()))
  const byId = new Map(nodes.map((node) => [node.id, node]))
  return {
    scheduler,
    network,
    ring,
    protocol,
    nodes,
    members,
    down,
    node: (id) => {
      const node = byId.get(id)
      if (node === undefined) throw new Error(`no node ${id}`)
      return node
    },
    run: (promise) => scheduler.settle(promise),
    crash: (id) => {
      network.crash(id)
      down.add(id)
    },
  }
}

/** The live values `node`'s vnode of `partition` holds for a key, as strings, sorted. */
export async function storedValues(
  node: SimKvNode,
  partition: number,
  bucket: string,
  key: string,
): Promise<string[]> {
  const reply = await node.manager.command(partition, { type: 'get', bucket, key })
  if (reply.type !== 'get') throw new Error(`expected a get reply, got ${reply.type}`)
  return reply.values.map(text).sort()
}
