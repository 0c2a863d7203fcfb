/**
 * A small simulated cluster for the handoff tests: nodes on one SimNetwork and SimScheduler, each
 * with a real VnodeManager of KvVnodes on MemoryStorage, the handoff receiver, and a
 * HandoffScheduler. Forwarded requests (writes during a handoff) go straight to the target node's
 * manager. `drive` runs the simulation until a condition holds, letting every promise settle between
 * events (the receiver applies a batch in many microtask turns).
 */
import { SeededRandom } from '../../src/core/index.ts'
import {
  type HandoffReceiverInit,
  HandoffScheduler,
  type HandoffSchedulerInit,
  type HandoffSink,
  type HandoffSinks,
  type HandoffVnodes,
  serveHandoff,
} from '../../src/handoff/index.ts'
import { type KvGetReply, KvVnode, type KvVnodeManager } from '../../src/kv/index.ts'
import {
  type LinkProfile,
  SimNetwork,
  SimScheduler,
  type SimTransport,
} from '../../src/sim/index.ts'
import { MemoryStorage, type MemoryVolume } from '../../src/storage/memory.ts'
import { type HandoffItem, VnodeManager } from '../../src/vnode/index.ts'

export const CLUSTER = 'test'
export const P = 7
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

export interface SimNode {
  readonly id: string
  readonly transport: SimTransport
  readonly storage: MemoryStorage
  readonly manager: KvVnodeManager
  readonly handoff: HandoffScheduler
  /** Items the receiver applied, by partition (counted at the vnode). */
  readonly applied: Map<number, number>
}

export interface NodeOptions {
  /** Options of the node's scheduler, beside the test defaults. */
  scheduler?: Partial<HandoffSchedulerInit>
  /** Options of the node's receiver, beside the test defaults. */
  receiver?: Partial<HandoffReceiverInit>
  /**
   * Stands between the receiver and the vnode of `partition` for each batch (to inject failures):
   * `apply` applies the batch. Default: apply it.
   */
  applyBatch?: (
    partition: number,
    items: readonly HandoffItem[],
    apply: () => Promise<void>,
  ) => Promise<void>
  /** Wraps the vnodes the scheduler hands off from (to inject vetoes). */
  vnodes?: (vnodes: HandoffVnodes) => HandoffVnodes
  /** The disk to start on (a restarted node's). Default: a new one. */
  volume?: MemoryVolume
}

export class SimCluster {
  readonly sim = new SimScheduler()
  readonly network: SimNetwork
  readonly nodes = new Map<string, SimNode>()
  /** Members the receivers accept data from. */
  readonly members = new Set<string>()
  readonly #random: SeededRandom
  #boots = 0

  constructor(profile: LinkProfile = {}, seed = 1) {
    this.#random = new SeededRandom(seed)
    this.network = new SimNetwork({
      scheduler: this.sim,
      random: this.#random.fork('network'),
      requestTimeoutMs: 1000,
      ...profile,
    })
  }

  async add(id: string, options: NodeOptions = {}): Promise<SimNode> {
    const boot = this.#boots++
    const transport = this.nodes.has(id)
      ? this.network.restart(id)
      : this.network.createTransport(id)
    const storage = new MemoryStorage(options.volume ? { volume: options.volume } : {})
    const manager: KvVnodeManager = new VnodeManager({
      behaviour: new KvVnode({ memberId: id, random: this.#random.fork(`kv-${id}-${boot}`) }),
      storage,
      forwarder: {
        command: (target, request) =>
          this.node(target.member).manager.command(target.partition, request),
        coverage: (target, request, filter) =>
          this.node(target.member).manager.coverage(target.partition, request, filter),
      },
    })
    const applied = new Map<number, number>()
    const counting: HandoffSinks = {
      vnode(partition) {
        const host = manager.vnode(partition)
        const sink: HandoffSink = {
          get status() {
            return host.status
          },
          started: () => host.started(),
          handoffData(items) {
            const apply = async (): Promise<void> => {
              await host.handoffData(items)
              applied.set(partition, (applied.get(partition) ?? 0) + items.length)
            }
            return options.applyBatch?.(partition, items, apply) ?? apply()
          },
        }
        return sink
      },
    }
    serveHandoff(transport, counting, {
      cluster: CLUSTER,
      authorize: (peer) => this.members.has(peer),
      ...options.receiver,
    })
    const handoff = new HandoffScheduler(
      {
        transport,
        vnodes: options.vnodes?.(manager) ?? manager,
        clock: this.sim,
        scheduler: this.sim,
        random: this.#random.fork(`handoff-${id}-${boot}`),
      },
      {
        cluster: CLUSTER,
        batchItemsMax: 50,
        requestTimeoutMs: 1000,
        progressIntervalMs: 0,
        forwardingLingerMs: 5000,
        ...options.scheduler,
      },
    )
    await transport.start()
    const node: SimNode = { id, transport, storage, manager, handoff, applied }
    this.nodes.set(id, node)
    this.members.add(id)
    return node
  }

  /**
   * Restarts node `id` as after a process restart: its transport crashes (unless it did already), its storage closes (every
   * write it made survives), and a new node starts on the same disk with empty memory (no cursors).
   */
  async restart(id: string, options: NodeOptions = {}): Promise<SimNode> {
    const old = this.node(id)
    if (!old.transport.isCrashed()) this.network.crash(id)
    await old.storage.close()
    return this.add(id, { ...options, volume: old.storage.volume })
  }

  node(id: string): SimNode {
    const node = this.nodes.get(id)
    if (!node) throw new Error(`no node ${id}`)
    return node
  }

  /**
   * Runs the simulation until `done()` holds, flushing every promise between events. Throws when the
   * simulation goes idle or passes `limitMs` of virtual time first.
   */
  async drive(done: () => boolean, limitMs = 600_000): Promise<void> {
    const deadline = this.sim.now() + limitMs
    for (;;) {
      await macrotask()
      if (done()) return
      if (this.sim.isIdle()) {
        await macrotask()
        if (done()) return
        if (this.sim.isIdle()) throw new Error(`simulation idle at ${this.sim.now()} ms`)
      }
      if ((this.sim.nextEventTimeMs() ?? 0) > deadline) {
        throw new Error(`not done by ${deadline} ms`)
      }
      this.sim.step()
    }
  }

  /** Runs every event due within `durationMs`, flushing promises between them. */
  async runFor(durationMs: number): Promise<void> {
    const until = this.sim.now() + durationMs
    for (;;) {
      await macrotask()
      const next = this.sim.nextEventTimeMs()
      if (next === undefined || next > until) break
      this.sim.step()
    }
    await this.sim.runUntil(until)
  }

  /** Resolves `promise` while driving the simulation. */
  async settle<T>(promise: Promise<T>): Promise<T> {
    let settled = false
    const observed = promise.finally(() => {
      settled = true
    })
    observed.catch(() => {})
    await this.drive(() => settled)
    return promise
  }
}

function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Writes `count` keys `k0`… (values `v0`…) into partition `partition` of `node`. */
export async function fill(
  node: SimNode,
  count: number,
  partition = P,
  prefix = 'k',
): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, (_, j) =>
        node.manager.command(partition, {
          type: 'put',
          bucket: 'b',
          key: `${prefix}${i + j}`,
          value: utf8(`v${i + j}`),
        }),
      ),
    )
  }
}

export async function get(node: SimNode, key: string, partition = P): Promise<KvGetReply> {
  const reply = await node.manager.command(partition, { type: 'get', bucket: 'b', key })
  if (reply.type !== 'get') throw new Error(`expected a get reply, got ${reply.type}`)
  return reply
}

/** Every key of `keys` as `key=values|context` on `node`: equal snapshots mean the same data and clocks. */
export async function snapshot(
  node: SimNode,
  keys: readonly string[],
  partition = P,
): Promise<string[]> {
  const lines: string[] = []
  for (let i = 0; i < keys.length; i += 200) {
    const chunk = keys.slice(i, i + 200).map(async (key) => {
      const reply = await get(node, key, partition)
      return `${key}=${reply.values.map(text).sort().join(',')}|${JSON.stringify(reply.context)}`
    })
    lines.push(...(await Promise.all(chunk)))
  }
  return lines
}

export const keysOf = (count: number, prefix = 'k'): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`)

/** Whether the storage of `node` holds data for `partition`. */
export const holds = (node: SimNode, partition = P): boolean =>
  node.storage.volume.partitionsWithData().includes(partition)
